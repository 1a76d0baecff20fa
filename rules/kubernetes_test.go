package rules_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// TestKubeReasonsSpeakTheDockerTargetsWords runs the reason mapping of the
// Kubernetes diagnosis (label_replace's fully anchored regexps, first
// match wins) over the kubelet's reasons and the runbook's exit codes, and
// compares with what gateway-exporter reports for the same exit.
func TestKubeReasonsSpeakTheDockerTargetsWords(t *testing.T) {
	for _, tc := range []struct {
		kubelet string
		code    int
	}{
		{catalog.KubeReasonOOMKilled, 137},
		{catalog.KubeReasonError, 137},
		{catalog.KubeReasonError, 139},
		{catalog.KubeReasonError, 143},
		{catalog.KubeReasonError, 1},
		{catalog.KubeReasonError, 2},
		{catalog.KubeReasonCompleted, 0},
		{"ContainerCannotRun", 128},
	} {
		value := fmt.Sprintf("%s;%d", tc.kubelet, tc.code)
		got := value
		for _, r := range rules.KubeReasons {
			if regexp.MustCompile("^(?:" + r.Match + ")$").MatchString(got) {
				got = r.Reason
			}
		}
		if want := catalog.Reason(tc.code, tc.kubelet == catalog.KubeReasonOOMKilled); got != want {
			t.Errorf("%s maps to %q, gateway-exporter says %q", value, got, want)
		}
	}
}

// TestEveryKubernetesBuilderIsInTheRunbook keeps the property test below
// honest: every method of rules.Kube that returns an alert is among those
// KubernetesRunbook returns for a service with a memory limit.
func TestEveryKubernetesBuilderIsInTheRunbook(t *testing.T) {
	svc := spec.Service{Name: "api", Container: spec.RunbookContainer("http://localhost:8080/health"), Scrape: spec.Scrape{Port: 8080}}
	var names []string
	for _, a := range rules.KubernetesRunbook(&spec.Kubernetes{}, svc, rules.Production) {
		names = append(names, a.Name)
	}
	kt := reflect.TypeOf(rules.Kube{})
	alert := reflect.TypeOf(spec.Alert{})
	found := 0
	for i := range kt.NumMethod() {
		m := kt.Method(i)
		if m.Type.NumOut() != 1 || m.Type.Out(0) != alert {
			continue
		}
		found++
		if !slices.Contains(names, m.Name) {
			t.Errorf("Kube.%s is not in KubernetesRunbook", m.Name)
		}
	}
	if found < 6 {
		t.Fatalf("found only %d builders on rules.Kube: the scan is broken", found)
	}
}

// TestKubernetesAlertsRouteAsTheDockerOnes: an alert of the same name has
// the same severity on both targets, so the routes, their cases and the
// inhibitions written for one serve the other.
func TestKubernetesAlertsRouteAsTheDockerOnes(t *testing.T) {
	s := rules.Spec(rules.Production)
	svc := s.Services[0]
	if len(svc.Kubernetes.Alerts) == 0 {
		t.Fatal("the gateway's production spec builds no Kubernetes alerts")
	}
	docker := map[string]spec.Severity{}
	for _, a := range svc.Alerts {
		docker[a.Name] = a.Severity
	}
	for _, a := range svc.Kubernetes.Alerts {
		sev, ok := docker[a.Name]
		if !ok || sev != a.Severity {
			t.Errorf("Kubernetes alert %s (%s) has no Docker alert of the same name and severity", a.Name, a.Severity)
		}
	}
}

// TestKubernetesBuildersHoldForAnyService builds the Kubernetes runbook
// for random services, namespaces, Deployments, containers and jobs, and
// runs promtool on the generated tests: a fixture or expectation not
// derived from the workload fails here.
func TestKubernetesBuildersHoldForAnyService(t *testing.T) {
	promtool := testenv.Promtool(t)
	s0 := *seed
	if s0 == 0 {
		s0 = rand.Uint64()
	}
	t.Logf("seed %d (rerun with go test ./rules -run %s -seed %d)", s0, t.Name(), s0)
	r := rand.New(rand.NewPCG(s0, s0))
	dns := func() string {
		const first, rest = "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz0123456789-"
		b := []byte{first[r.IntN(len(first))]}
		for range r.IntN(12) {
			b = append(b, rest[r.IntN(len(rest))])
		}
		return string(b) + "x"
	}
	var targets []generate.Target
	for i := range 3 {
		// The e2e profile's short windows keep promtool quick.
		p := rules.E2E
		s := spec.Spec{RunbookURL: "https://runbooks.example.com/k8s", Kubernetes: &spec.Kubernetes{Namespace: dns()}}
		seen := map[string]bool{}
		for range 1 + r.IntN(3) {
			svc := spec.Service{Name: dns(), Container: spec.RunbookContainer("http://localhost:8080/health"), Scrape: spec.Scrape{Port: 8080}}
			if seen[svc.Name] {
				continue
			}
			seen[svc.Name] = true
			if r.IntN(2) == 0 {
				svc.Job = randomJob(r)
			}
			if r.IntN(2) == 0 {
				svc.Kubernetes.Namespace, svc.Kubernetes.Deployment = dns(), dns()+"."+dns()
			}
			if r.IntN(2) == 0 {
				svc.Kubernetes.Container, svc.Kubernetes.Job = dns(), randomJob(r)
			}
			if r.IntN(3) == 0 {
				svc.Container.Memory = spec.Memory{}
			}
			// Objectives first: ServiceDown counts the budget an outage
			// consumes.
			withSLOs := r.IntN(2) == 0
			if withSLOs {
				svc.SLOs = rules.GatewaySLOs(p)
			}
			svc.Alerts = []spec.Alert{rules.ServiceDown(svc, p)}
			svc.Kubernetes.Alerts = rules.KubernetesRunbook(s.Kubernetes, svc, p)
			// ServiceDown's impact reads the traffic it holds.
			svc.Kubernetes.Records = []spec.Record{rules.KubernetesServedRate(s.Kubernetes, svc, p)}
			if withSLOs {
				records, burns := rules.KubernetesSLOs(s.Kubernetes, svc)
				svc.Kubernetes.Records, svc.Kubernetes.Alerts = append(svc.Kubernetes.Records, records...), append(svc.Kubernetes.Alerts, burns...)
			}
			s.Services = append(s.Services, svc)
		}
		targets = append(targets, generate.Target{Dir: fmt.Sprintf("spec%d", i), Spec: s})
	}
	files, err := generate.Build(context.Background(), targets, generate.Options{})
	if err != nil {
		t.Fatalf("Build (seed %d): %v", s0, err)
	}
	dir := t.TempDir()
	if err := generate.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	var ruleFiles, testFiles []string
	for _, p := range files.Paths() {
		switch {
		case strings.Contains(p, "/kubernetes/rules/"):
			ruleFiles = append(ruleFiles, filepath.Join(dir, p))
		case strings.Contains(p, "/kubernetes/tests/"):
			testFiles = append(testFiles, filepath.Join(dir, p))
		}
	}
	if len(testFiles) == 0 {
		t.Fatal("no Kubernetes test files were built")
	}
	for _, args := range [][]string{append([]string{"check", "rules"}, ruleFiles...), append([]string{"test", "rules"}, testFiles...)} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s (seed %d): %v\n%s", strings.Join(args[:2], " "), s0, err, out)
		}
	}
	for p, b := range files {
		if strings.Contains(string(b), rules.GatewayService) {
			t.Errorf("%s holds the gateway's name, which no random service has", p)
		}
	}
}

// TestEveryKubernetesSelectorIsScopedToTheNamespace: every series a
// Kubernetes alert or record reads is selected in the service's namespace,
// so a Service of the same name in another namespace (staging beside
// production) can neither hide nor raise its pages, nor mix into its
// objectives.
func TestEveryKubernetesSelectorIsScopedToTheNamespace(t *testing.T) {
	for _, ns := range []string{"", "inference-prod"} {
		k := &spec.Kubernetes{Namespace: ns}
		svc := spec.Service{Name: "api", Container: spec.RunbookContainer("http://localhost:8080/health"), Scrape: spec.Scrape{Port: 8080},
			SLOs: rules.GatewaySLOs(rules.Production)}
		want := k.Workload(svc).Namespace
		records, burns := rules.KubernetesSLOs(k, svc)
		exprs := map[string]parser.Expr{}
		for _, a := range append(rules.KubernetesRunbook(k, svc, rules.Production), burns...) {
			exprs["alert "+a.Name] = a.Expr
		}
		for _, r := range records {
			exprs["record "+r.Name] = r.Expr
		}
		for name, e := range exprs {
			parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok && !slices.ContainsFunc(vs.LabelMatchers, func(m *labels.Matcher) bool {
					return m.Name == catalog.LabelNamespace && m.Type == labels.MatchEqual && m.Value == want
				}) {
					t.Errorf("namespace %q: %s selects %s outside the namespace", want, name, vs)
				}
				return nil
			})
		}
		if len(records) == 0 || len(burns) == 0 {
			t.Errorf("namespace %q: KubernetesSLOs built %d records and %d alerts", want, len(records), len(burns))
		}
	}
}
