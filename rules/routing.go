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
	// A service that is down explains its containers' symptoms: the page
	// carries the diagnosis (reason, exit code, restarts, peak memory), and
	// the symptoms arrive if the service comes back without being fixed.
	{
		Source:  "ServiceDown",
		Targets: []string{"ContainerOOMKilled", "ContainerCrashLooping", "ContainerUnhealthy", "HighMemoryUsage", "CriticalMemoryUsage"},
		Equal:   []string{conventions.LabelService},
	},
	// An imminent OOM kill of a container says more than its high memory.
	{
		Source:  "CriticalMemoryUsage",
		Targets: []string{"HighMemoryUsage"},
		Equal:   []string{conventions.LabelService, catalog.LabelName},
	},
	// With gateway-exporter gone, its report on its own sources is stale:
	// the exporter is the one thing to fix.
	{
		Source:  "GatewayExporterDown",
		Targets: []string{"DiagnosisSourceDown"},
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
