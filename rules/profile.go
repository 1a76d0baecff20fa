package rules

import (
	"time"

	"github.com/sre-tools/promgen/spec"
)

// Profile tunes the gateway spec's timings: Production is the runbook's, and
// E2E runs the same alerts, with the same expressions, ten times faster so
// the end-to-end fault matrix fits in CI.
type Profile struct {
	// Name is the profile's name on the command line.
	Name string
	// Divisor shortens every for, window and test duration.
	Divisor int
	// EvaluationInterval of the rule group; zero keeps Prometheus' global one.
	EvaluationInterval time.Duration
	// Container is the container policy written to the compose fragment.
	Container spec.Container
}

// D scales a runbook duration to the profile.
func (p Profile) D(d time.Duration) time.Duration { return d / time.Duration(p.Divisor) }

// step is the sample interval of the generated promtool tests.
func (p Profile) step() time.Duration { return p.D(15 * time.Second) }

// HealthURL is the gateway's health endpoint, as in the runbook.
const HealthURL = "http://localhost:8000/health"

// StandinHealthcheck is the healthcheck of the project's stand-in gateway,
// whose FROM scratch image has no curl.
var StandinHealthcheck = []string{"CMD", "/standin-gateway", "healthcheck"}

// Production is the runbook's profile.
var Production = Profile{
	Name:      "production",
	Divisor:   1,
	Container: spec.RunbookContainer(HealthURL),
}

// E2E is the fault matrix's profile: the same alerts ten times faster, a
// limit small enough to OOM quickly, and the stand-in's healthcheck.
var E2E = func() Profile {
	c := spec.RunbookContainer(HealthURL)
	c.Memory = spec.Memory{Limit: 256 * spec.MiB, Reservation: 128 * spec.MiB}
	c.Healthcheck = spec.Healthcheck{
		Test:        StandinHealthcheck,
		Interval:    time.Second,
		Timeout:     time.Second,
		Retries:     3,
		StartPeriod: 2 * time.Second,
	}
	return Profile{Name: "e2e", Divisor: 10, EvaluationInterval: time.Second, Container: c}
}()

// Profiles lists the profiles promgen builds, by name.
var Profiles = []Profile{Production, E2E}
