package rules

import "time"

// Profile tunes a spec's timings: Production is the runbook's, and E2E runs
// the same alerts, with the same expressions, ten times faster so the
// end-to-end fault matrix fits in CI.
type Profile struct {
	// Name is the profile's name, and the output folder of a test profile.
	Name string
	// Divisor shortens every for, window and test duration.
	Divisor int
	// EvaluationInterval of the rule groups; zero keeps Prometheus' global one.
	EvaluationInterval time.Duration
}

// D scales a runbook duration to the profile.
func (p Profile) D(d time.Duration) time.Duration { return d / time.Duration(p.Divisor) }

// step is the sample interval of the generated promtool tests.
func (p Profile) step() time.Duration { return p.D(15 * time.Second) }

// Production is the runbook's profile.
var Production = Profile{Name: "production", Divisor: 1}

// E2E is the fault matrix's profile: the same alerts ten times faster,
// the Watchdog and the self-alerts included (the matrix leaves the
// Watchdog out of "no alert", and proves its heartbeats).
var E2E = Profile{Name: "e2e", Divisor: 10, EvaluationInterval: time.Second}

// Profiles lists the profiles the gateway's spec is built in, by name.
var Profiles = []Profile{Production, E2E}
