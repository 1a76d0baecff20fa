package rules

import (
	"slices"
	"testing"

	"github.com/sre-tools/promgen/spec"
)

// The registries are looked up by the name a spec file writes: each key
// must be the name of the alert its builder builds, and every builder of
// Runbook, Pipeline and KubernetesRunbook must be there.
func TestRegistriesNameTheAlertsTheirBuildersBuild(t *testing.T) {
	svc := Spec(Production).Services[0]
	for name, build := range Alerts {
		if got := build(svc, Production).Name; got != name {
			t.Errorf("Alerts[%q] builds %q", name, got)
		}
	}
	for _, a := range Runbook(svc, Production) {
		if Alerts[a.Name] == nil {
			t.Errorf("Runbook's %s is not in Alerts", a.Name)
		}
	}
	s := Spec(Production)
	for name, build := range PipelineAlerts {
		if got := build(s, Production).Name; got != name {
			t.Errorf("PipelineAlerts[%q] builds %q", name, got)
		}
	}
	for _, a := range Pipeline(s, Production) {
		if PipelineAlerts[a.Name] == nil {
			t.Errorf("Pipeline's %s is not in PipelineAlerts", a.Name)
		}
	}
	var kube []string
	for _, a := range KubernetesRunbook(&spec.Kubernetes{}, svc, Production) {
		kube = append(kube, a.Name)
	}
	if !slices.Equal(kube, KubernetesAlerts) {
		t.Errorf("KubernetesRunbook builds %v, KubernetesAlerts says %v", kube, KubernetesAlerts)
	}
}
