// Package rules is the runbook (runbook-service-down.md) as alert builders
// any team applies to its own services: ServiceDown with the triage's
// diagnosis, the memory alerts, the runbook's failure patterns, and the
// pipeline alerts for when the diagnosis cannot be had. Every builder derives
// names, jobs and test fixtures from the service and spec it is given, and
// carries the scenarios that prove its alert. The inference gateway's own
// spec, built from them, is in gateway.go.
package rules

import (
	"github.com/sre-tools/promgen/spec"
)

// Runbook returns every per-service alert of the runbook for svc. A service
// picks a subset by calling the builders it wants instead.
func Runbook(svc spec.Service, p Profile) []spec.Alert {
	return []spec.Alert{
		ServiceDown(svc, p),
		ReplicaDown(svc, p),
		HighMemoryUsage(svc, p),
		CriticalMemoryUsage(svc, p),
		ContainerOOMKilled(svc, p),
		ContainerCrashLooping(svc, p),
		ContainerUnhealthy(svc, p),
	}
}

// Pipeline returns the spec-wide alerts on the diagnosis pipeline of s, and
// the alerting pipeline's own (SelfMonitoring),
// declared once per spec: call it after s.Services is complete, since their
// descriptions name the services whose pages lose their diagnosis.
func Pipeline(s spec.Spec, p Profile) []spec.Alert {
	out := []spec.Alert{GatewayExporterDown(s, p), DiagnosisSourceDown(s, p)}
	if !s.Sources.WithoutCAdvisor {
		out = append(out, CAdvisorDown(s, p))
	}
	return append(out, SelfMonitoring(s, p)...)
}
