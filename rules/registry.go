package rules

import (
	"maps"
	"slices"

	"github.com/sre-tools/promgen/spec"
)

// Alerts are the runbook's per-service alert builders by the name of the
// alert each builds, so that a spec written as data (the YAML spec) can
// name them. Runbook calls them in RunbookAlerts' order.
var Alerts = map[string]func(spec.Service, Profile) spec.Alert{
	"ServiceDown":           ServiceDown,
	"ReplicaDown":           ReplicaDown,
	"HighMemoryUsage":       HighMemoryUsage,
	"CriticalMemoryUsage":   CriticalMemoryUsage,
	"ContainerOOMKilled":    ContainerOOMKilled,
	"ContainerCrashLooping": ContainerCrashLooping,
	"ContainerUnhealthy":    ContainerUnhealthy,
}

// PipelineAlerts are the spec-wide builders of Pipeline and SelfMonitoring
// by the name of the alert each builds.
var PipelineAlerts = map[string]func(spec.Spec, Profile) spec.Alert{
	"GatewayExporterDown": GatewayExporterDown,
	"DiagnosisSourceDown": DiagnosisSourceDown,
	"CAdvisorDown":        CAdvisorDown,
	// The Watchdog reads nothing of the spec.
	"Watchdog":                         func(_ spec.Spec, p Profile) spec.Alert { return Watchdog(p) },
	"PrometheusRuleEvaluationFailing":  PrometheusRuleEvaluationFailing,
	"PrometheusAlertmanagerMissing":    PrometheusAlertmanagerMissing,
	"PrometheusNotificationsDropped":   PrometheusNotificationsDropped,
	"AlertmanagerNotificationsFailing": AlertmanagerNotificationsFailing,
}

// KubernetesAlerts are the names of the alerts KubernetesRunbook may build.
var KubernetesAlerts = []string{"ServiceDown", "HighMemoryUsage", "CriticalMemoryUsage", "ContainerOOMKilled", "ContainerCrashLooping", "ContainerUnhealthy"}

// Names returns a registry's names, sorted.
func Names[F any](registry map[string]F) []string { return slices.Sorted(maps.Keys(registry)) }
