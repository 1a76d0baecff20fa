package rules

import (
	"time"

	"github.com/sre-tools/promgen/spec"
)

// The inference gateway's own spec: the only place its names are written.

// GatewayService is the inference gateway's compose service and job name.
const GatewayService = "inference-gateway"

// GatewayRunbookURL is the runbook the gateway's alerts link to.
const GatewayRunbookURL = "https://runbooks.example.com/inference-gateway/service-down"

// HealthURL is the gateway's health endpoint, as in the runbook.
const HealthURL = "http://localhost:8000/health"

// StandinHealthcheck is the healthcheck of the project's stand-in gateway,
// whose FROM scratch image has no curl.
var StandinHealthcheck = []string{"CMD", "/standin-gateway", "healthcheck"}

// GatewayContainer is the gateway's container policy in a profile: the
// runbook's, and for the fault matrix a limit small enough to OOM quickly
// and the stand-in's healthcheck at the profile's pace.
func GatewayContainer(p Profile) spec.Container {
	c := spec.RunbookContainer(HealthURL)
	if p.Name == E2E.Name {
		c.Memory = spec.Memory{Limit: 256 * spec.MiB, Reservation: 128 * spec.MiB}
		c.Healthcheck = spec.Healthcheck{
			Test:        StandinHealthcheck,
			Interval:    time.Second,
			Timeout:     time.Second,
			Retries:     3,
			StartPeriod: 2 * time.Second,
		}
	}
	return c
}

// Spec returns the inference gateway's spec for a profile: every alert of
// the runbook on the gateway, and the pipeline alerts that say when its
// pages would arrive without their diagnosis.
func Spec(p Profile) spec.Spec {
	svc := spec.Service{
		Name:               GatewayService,
		EvaluationInterval: p.EvaluationInterval,
		Container:          GatewayContainer(p),
	}
	svc.Alerts = Runbook(svc, p)
	s := spec.Spec{Services: []spec.Service{svc}, RunbookURL: GatewayRunbookURL}
	s.Pipeline = Pipeline(s, p)
	return s
}
