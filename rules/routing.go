package rules

import (
	"slices"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/spec"
)

// The runbook's inhibitions: one incident, one notification. Each names the
// alerts that mute and are muted; Inhibitions keeps those a spec has.
var runbookInhibitions = []spec.Inhibition{
	// A service that cannot serve explains its containers' symptoms: the
	// page carries the diagnosis (reason, exit code, restarts, peak
	// memory), and the symptoms arrive if the service comes back without
	// being fixed. ServiceDown fires only when no replica serves, so it
	// never mutes a serving replica's symptoms.
	{
		Source:  "ServiceDown",
		Targets: []string{"ReplicaDown", "ContainerOOMKilled", "ContainerCrashLooping", "ContainerUnhealthy", "HighMemoryUsage", "CriticalMemoryUsage"},
		Equal:   []string{conventions.LabelService},
	},
	// A replica that does not answer scrapes is also failing its
	// healthcheck: one warning, about that container only.
	{
		Source:  "ReplicaDown",
		Targets: []string{"ContainerUnhealthy"},
		Equal:   []string{conventions.LabelService, catalog.LabelName, catalog.LabelHost},
	},
	// An imminent OOM kill of a container says more than its high memory;
	// a container of the same name on another host (or pod namespace) is
	// another container.
	{
		Source:  "CriticalMemoryUsage",
		Targets: []string{"HighMemoryUsage"},
		Equal:   []string{conventions.LabelService, catalog.LabelName, catalog.LabelHost, catalog.LabelNamespace},
	},
	// With gateway-exporter gone from a host, its report on that host's
	// sources is stale: the exporter is the one thing to fix there.
	// With no Alertmanager to send to, Prometheus drops every alert: the
	// missing Alertmanager is the one thing to fix.
	{
		Source:  "PrometheusAlertmanagerMissing",
		Targets: []string{"PrometheusNotificationsDropped"},
		Equal:   []string{"instance"},
	},
	{
		Source:  "GatewayExporterDown",
		Targets: []string{"DiagnosisSourceDown"},
		Equal:   []string{catalog.LabelHost},
	},
}

// Inhibitions returns the runbook's inhibitions among the alerts of s: an
// inhibition whose source s lacks is left out, and so are targets s lacks.
// A firing ServiceDown also mutes its service's burn-rate alerts (those
// with an slo label): the outage is already paged. Call it once the
// services and pipeline are complete.
func Inhibitions(s spec.Spec) []spec.Inhibition {
	have := map[string]bool{}
	var burns []string
	for _, svc := range s.Services {
		for _, a := range append(slices.Clone(svc.Alerts), svc.KubernetesAlerts(s)...) {
			if a.Labels["slo"] != "" && !have[a.Name] {
				burns = append(burns, a.Name)
			}
			have[a.Name] = true
		}
	}
	for _, a := range s.Pipeline {
		have[a.Name] = true
	}
	var out []spec.Inhibition
	for _, in := range runbookInhibitions {
		if !have[in.Source] {
			continue
		}
		targets := slices.DeleteFunc(slices.Clone(in.Targets), func(t string) bool { return !have[t] })
		if in.Source == "ServiceDown" {
			targets = append(targets, burns...)
		}
		if len(targets) > 0 {
			out = append(out, spec.Inhibition{Source: in.Source, Targets: targets, Equal: in.Equal})
		}
	}
	return out
}
