package spec_test

import (
	"strings"
	"testing"

	"github.com/sre-tools/promgen/spec"
)

func TestAKubernetesWorkloadIsNamedAfterItsServiceUnlessSet(t *testing.T) {
	svc := spec.Service{Name: "ranker", Job: "ranker-api"}
	if got, want := (*spec.Kubernetes)(nil).Workload(svc), (spec.Workload{Service: "ranker", Namespace: "default", Deployment: "ranker", Container: "ranker", Job: "ranker-api"}); got != want {
		t.Errorf("defaults: got %+v, want %+v", got, want)
	}
	k := &spec.Kubernetes{Namespace: "ml"}
	if got := k.Workload(svc).Namespace; got != "ml" {
		t.Errorf("the spec's namespace: got %q", got)
	}
	svc.Kubernetes = spec.KubernetesService{Namespace: "ml-prod", Deployment: "rank", Container: "server", Job: "rank-http"}
	if got, want := k.Workload(svc), (spec.Workload{Service: "ranker", Namespace: "ml-prod", Deployment: "rank", Container: "server", Job: "rank-http"}); got != want {
		t.Errorf("overrides: got %+v, want %+v", got, want)
	}
}

func TestKubernetesProblemsNameServiceAndField(t *testing.T) {
	withKube := func(edit func(s *spec.Spec)) spec.Spec {
		s := valid()
		s.Kubernetes = &spec.Kubernetes{}
		s.Services[0].Kubernetes.Alerts = append([]spec.Alert(nil), s.Services[0].Alerts...)
		edit(&s)
		return s
	}
	for _, tc := range []struct {
		name string
		spec spec.Spec
		want string
	}{
		{"a compose name Kubernetes refuses as the default Deployment", withKube(func(s *spec.Spec) { s.Services[0].Name = "ml_api" }),
			`service "ml_api": kubernetes.deployment: "ml_api" is not a Kubernetes Deployment name`},
		{"the default's hint", withKube(func(s *spec.Spec) { s.Services[0].Name = "ml_api" }), "it defaults to the service's name; set it"},
		{"an upper-case namespace", withKube(func(s *spec.Spec) { s.Services[0].Kubernetes.Namespace = "Prod" }),
			`service "api": kubernetes.namespace: "Prod" is not a Kubernetes namespace name`},
		{"a rule label Kubernetes refuses", withKube(func(s *spec.Spec) { s.Kubernetes.RuleLabels = map[string]string{"release": "kube prometheus"} }),
			`kubernetes.rule_labels.release: "kube prometheus" is not a Kubernetes label value`},
		{"no Kubernetes alerts", withKube(func(s *spec.Spec) { s.Services[0].Kubernetes.Alerts = nil }),
			`service "api": kubernetes.alerts: no alerts`},
		{"a bad Kubernetes alert", withKube(func(s *spec.Spec) { s.Services[0].Kubernetes.Alerts[0].Severity = "urgent" }),
			`service "api": alert "ApiDown": kubernetes.alerts.severity: "urgent" is not one of`},
		{"alerts on an omitted service", withKube(func(s *spec.Spec) { s.Services[0].Kubernetes.Omit = true }),
			`service "api": kubernetes.alerts: set, but the service is omitted`},
		{"Kubernetes alerts without the target", func() spec.Spec {
			s := valid()
			s.Services[0].Kubernetes.Alerts = s.Services[0].Alerts
			return s
		}(), `service "api": kubernetes.alerts: set, but the spec has no Kubernetes target`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.spec.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a problem containing %q", err, tc.want)
			}
		})
	}
	if err := withKube(func(*spec.Spec) {}).Validate(); err != nil {
		t.Fatalf("a valid Kubernetes spec: %v", err)
	}
	omitted := withKube(func(s *spec.Spec) {
		s.Services[0].Kubernetes = spec.KubernetesService{Omit: true, Deployment: "Not_A_Name"}
	})
	if err := omitted.Validate(); err != nil {
		t.Fatalf("an omitted service is checked for Kubernetes: %v", err)
	}
}

// TestKubernetesRecordsAreValidatedWhereTheyAre: a Kubernetes record that
// Prometheus would refuse is located under kubernetes.records.
func TestKubernetesRecordsAreValidatedWhereTheyAre(t *testing.T) {
	s := spec.Spec{Kubernetes: &spec.Kubernetes{}, RunbookURL: "https://runbooks.example.com/x", Services: []spec.Service{{
		Name:      "api",
		Container: spec.RunbookContainer("http://localhost:8080/health"),
		Alerts:    []spec.Alert{{Name: "ServiceDown", Expr: spec.Metric("up"), Severity: spec.Critical, Summary: "down"}},
	}}}
	s.Services[0].Kubernetes.Alerts = s.Services[0].Alerts
	s.Services[0].Kubernetes.Records = []spec.Record{{Name: "not a name", Expr: spec.Metric("up")}}
	err := s.Validate()
	if err == nil || !strings.Contains(err.Error(), "kubernetes.records[0].name") {
		t.Fatalf("Validate() = %v, want a problem at kubernetes.records[0].name", err)
	}
}
