// Package e2e proves, against a real Docker engine, docker compose,
// Prometheus and Alertmanager, that the alerts promgen generates page with
// the right diagnosis when the runbook's failures really happen, and stay
// quiet when nothing is wrong.
//
// The tests carry the build tag e2e and run through `make e2e`, which builds
// the pinned tools and starts the engine; docs/e2e.md describes the set-up
// and records the measured times from fault to page.
package e2e
