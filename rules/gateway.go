// Package rules is the inference gateway's alerting, the runbook
// (runbook-service-down.md) as code: ServiceDown with the triage's diagnosis,
// the memory alerts, the runbook's failure patterns, and meta-alerts for when
// the diagnosis cannot be had. Each alert carries the scenarios that prove it.
//
// The alert builders are exported so another team can apply them to its own
// spec.Service.
package rules

import "github.com/sre-tools/promgen/spec"

// GatewayService is the inference gateway's compose service and job name.
const GatewayService = "inference-gateway"

// RunbookURL is the runbook the alerts link to.
const RunbookURL = "https://runbooks.example.com/inference-gateway/service-down"

// Spec returns the inference gateway's spec for a profile.
func Spec(p Profile) spec.Spec {
	src := spec.Sources{}
	svc := spec.Service{
		Name:               GatewayService,
		EvaluationInterval: p.EvaluationInterval,
		Container:          p.Container,
	}
	svc.Alerts = []spec.Alert{
		ServiceDown(svc, p),
		HighMemoryUsage(svc, p),
		CriticalMemoryUsage(svc, p),
		ContainerOOMKilled(svc, p),
		ContainerCrashLooping(svc, p),
		ContainerUnhealthy(svc, p),
		GatewayExporterDown(svc, src, p),
		DiagnosisSourceDown(svc, p),
		CAdvisorDown(svc, src, p),
	}
	return spec.Spec{Services: []spec.Service{svc}, Sources: src}
}
