package kubernetes

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"github.com/sre-tools/promgen/spec"
)

func groups() rulefmt.RuleGroups {
	return rulefmt.RuleGroups{Groups: []rulefmt.RuleGroup{{
		Name:     "api",
		Interval: model.Duration(30 * time.Second),
		Labels:   map[string]string{"service": "api"},
		Rules: []rulefmt.Rule{{
			Alert: "ServiceDown", Expr: `up{job="api"} == 0`, For: model.Duration(time.Minute), KeepFiringFor: model.Duration(time.Minute),
			Labels: map[string]string{"severity": "critical"}, Annotations: map[string]string{"summary": "{{ $labels.job }} is down"},
		}},
	}}}
}

func manifest(t *testing.T) []byte {
	t.Helper()
	b, err := Marshal(PrometheusRule("api", "shop", map[string]string{"release": "kube-prometheus-stack"}, groups()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAPrometheusRuleFromTheOperatorsTypesPassesItsCRDSchema(t *testing.T) {
	b := manifest(t)
	if err := ValidatePrometheusRule("api.yaml", b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"apiVersion: monitoring.coreos.com/v1", "kind: PrometheusRule", "for: 1m", "keep_firing_for: 1m", "interval: 30s", "namespace: shop"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("manifest lacks %q:\n%s", want, b)
		}
	}
}

func TestAnInvalidPrometheusRuleIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"a duration the CRD's pattern refuses", "for: 1m", "for: 1 minute", "CRD schema"},
		{"a field the CRD does not know", "    - alert: ServiceDown", "    - alert: ServiceDown\n      severity: critical", "severity"},
		{"an expression Prometheus cannot parse", `expr: up{job="api"} == 0`, `expr: up{job="api"} ==`, "rules:"},
		{"a rule that is neither alert nor record", "alert: ServiceDown", "alert: \"\"", "rules:"},
		{"the wrong kind", "kind: PrometheusRule", "kind: ServiceMonitor", "apiVersion/kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := manifest(t)
			if !bytes.Contains(b, []byte(tc.from)) {
				t.Fatalf("fixture lacks %q:\n%s", tc.from, b)
			}
			err := ValidatePrometheusRule("api.yaml", bytes.Replace(b, []byte(tc.from), []byte(tc.to), 1))
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestTheEmbeddedCRDIsTheOperators compares the embedded CRD with the one
// in the Operator's module at OperatorCRDVersion, fetched by the go
// command from the module proxy (or its module cache). Without the module
// it is skipped under -short and fails otherwise: CI must not pass without
// having compared.
func TestTheEmbeddedCRDIsTheOperators(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the Operator's module from the module proxy; skipped under -short")
	}
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/prometheus-operator/prometheus-operator@"+OperatorCRDVersion).Output()
	var mod struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &mod); err != nil || jerr != nil || mod.Dir == "" {
		t.Fatalf("go mod download github.com/prometheus-operator/prometheus-operator@%s: %v %v %s (run go test -short to skip this comparison)", OperatorCRDVersion, err, jerr, mod.Error)
	}
	upstream, err := os.ReadFile(filepath.Join(mod.Dir, "example", "prometheus-operator-crd", "monitoring.coreos.com_prometheusrules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(upstream, prometheusRuleCRD) {
		t.Error("crd/monitoring.coreos.com_prometheusrules.yaml differs from the Operator's")
	}
}

func hc(test ...string) spec.Healthcheck {
	return spec.Healthcheck{Test: test, Interval: 10 * time.Second, Timeout: 5 * time.Second, Retries: 3, StartPeriod: 30 * time.Second}
}

func TestHealthchecksBecomeProbes(t *testing.T) {
	for _, tc := range []struct {
		name string
		hc   spec.Healthcheck
		want corev1.ProbeHandler
	}{
		{"curl of the container's own URL is an httpGet", hc("CMD", "curl", "-f", "http://localhost:8000/health"),
			corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intOrString(8000), Scheme: corev1.URISchemeHTTP}}},
		{"a shell curl over https on the default port keeps its query", hc("CMD-SHELL", "curl -fsS https://127.0.0.1/ready?full=1 || exit 1"),
			corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready?full=1", Port: intOrString(443), Scheme: corev1.URISchemeHTTPS}}},
		{"another command is an exec", hc("CMD", "/standin-gateway", "healthcheck"),
			corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/standin-gateway", "healthcheck"}}}},
		{"a shell command runs in sh", hc("CMD-SHELL", "pg_isready -U app"),
			corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/sh", "-c", "pg_isready -U app"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, err := Probes("api", tc.hc)
			if err != nil {
				t.Fatal(err)
			}
			for name, p := range map[string]*corev1.Probe{"liveness": ps.Liveness, "readiness": ps.Readiness, "startup": ps.Startup} {
				if !jsonEqual(p.ProbeHandler, tc.want) {
					t.Errorf("%s probe does %s, want %s", name, js(p.ProbeHandler), js(tc.want))
				}
				if p.PeriodSeconds != 10 || p.TimeoutSeconds != 5 {
					t.Errorf("%s probe: period %d timeout %d, want 10 and 5", name, p.PeriodSeconds, p.TimeoutSeconds)
				}
			}
			if ps.Liveness.FailureThreshold != 3 || ps.Startup.FailureThreshold != 6 {
				t.Errorf("failure thresholds: liveness %d, startup %d; want 3 and 3 + 30s/10s", ps.Liveness.FailureThreshold, ps.Startup.FailureThreshold)
			}
		})
	}
	if ps, err := Probes("api", hc("NONE")); ps != nil || err != nil {
		t.Errorf("NONE: got %v, %v; want no probes", ps, err)
	}
}

func TestAHealthcheckThatCannotBecomeAProbeNamesServiceAndField(t *testing.T) {
	odd := hc("CMD", "/app", "check")
	odd.Interval = 1500 * time.Millisecond
	for _, tc := range []struct {
		name  string
		hc    spec.Healthcheck
		field string
		want  string
	}{
		{"curl of another host", hc("CMD", "curl", "-f", "http://db.internal:5432/health"), "container.healthcheck.test", `fetches host "db.internal"`},
		{"curl of two URLs", hc("CMD", "curl", "http://localhost/a", "http://localhost/b"), "container.healthcheck.test", "exactly one URL"},
		{"curl of no URL", hc("CMD", "curl", "-f", "localhost"), "container.healthcheck.test", "exactly one URL"},
		{"an interval of a second and a half", odd, "container.healthcheck.interval", "whole seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Probes("api", tc.hc)
			var fe *spec.FieldError
			if !errors.As(err, &fe) || fe.Service != "api" || fe.Field != tc.field || !strings.Contains(fe.Problem, tc.want) {
				t.Fatalf("got %v, want a problem of service api, field %s, saying %q", err, tc.field, tc.want)
			}
		})
	}
}

func workload() spec.Workload {
	return spec.Workload{Service: "api", Namespace: "shop", Deployment: "api", Container: "server", Job: "api"}
}

// TestThePatchMergesIntoTheTeamsDeployment applies the patch with
// apimachinery's strategic merge, as kustomize and kubectl patch do: the
// container is merged by name, keeping its image and the pod's sidecar.
func TestThePatchMergesIntoTheTeamsDeployment(t *testing.T) {
	c := spec.RunbookContainer("http://localhost:8080/health")
	c.Replicas = 3
	d, err := DeploymentPatch(workload(), c)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := MarshalPatch(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidatePatch("api.yaml", patch, d); err != nil {
		t.Fatal(err)
	}
	base := appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "server", Image: "registry.example.com/api:1.2"},
			{Name: "proxy", Image: "envoy:1"},
		}}}},
	}
	original, _ := json.Marshal(base)
	patchJSON, err := yaml.YAMLToJSON(patch)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := strategicpatch.StrategicMergePatch(original, patchJSON, appsv1.Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	var got appsv1.Deployment
	if err := json.Unmarshal(merged, &got); err != nil {
		t.Fatal(err)
	}
	cs := got.Spec.Template.Spec.Containers
	if len(cs) != 2 || cs[0].Name != "server" || cs[0].Image != "registry.example.com/api:1.2" || cs[1].Name != "proxy" {
		t.Fatalf("containers after the patch: %s", js(cs))
	}
	s := cs[0]
	if s.Resources.Limits.Memory().String() != "4Gi" || s.Resources.Requests.Memory().String() != "2Gi" {
		t.Errorf("resources after the patch: %s", js(s.Resources))
	}
	if s.LivenessProbe == nil || s.ReadinessProbe == nil || s.StartupProbe == nil || s.LivenessProbe.HTTPGet == nil || s.LivenessProbe.HTTPGet.Port.IntValue() != 8080 {
		t.Errorf("probes after the patch: %s", js(s))
	}
	if got.Spec.Replicas == nil || *got.Spec.Replicas != 3 {
		t.Errorf("replicas after the patch: %v", got.Spec.Replicas)
	}
	if bytes.Contains(patch, []byte("status")) || bytes.Contains(patch, []byte("null")) {
		t.Errorf("the patch sets a status or a null:\n%s", patch)
	}
}

func TestAPatchWithAFieldKubernetesDoesNotKnowIsRefused(t *testing.T) {
	d, err := DeploymentPatch(workload(), spec.RunbookContainer("http://localhost:8080/health"))
	if err != nil {
		t.Fatal(err)
	}
	patch, _ := MarshalPatch(d)
	bad := bytes.Replace(patch, []byte("periodSeconds:"), []byte("periodSecond:"), 1)
	if err := ValidatePatch("api.yaml", bad, d); err == nil || !strings.Contains(err.Error(), "periodSecond") {
		t.Fatalf("got %v, want a strict decoding error naming periodSecond", err)
	}
	changed := bytes.Replace(patch, []byte("memory: 4Gi"), []byte("memory: 3Gi"), 1)
	if err := ValidatePatch("api.yaml", changed, d); err == nil {
		t.Fatal("a patch that decodes into another Deployment passed")
	}
}

func TestAMemoryRequestAboveTheLimitIsRefused(t *testing.T) {
	c := spec.RunbookContainer("http://localhost:8080/health")
	c.Memory = spec.Memory{Limit: spec.GiB, Reservation: 2 * spec.GiB}
	_, err := DeploymentPatch(workload(), c)
	var fe *spec.FieldError
	if !errors.As(err, &fe) || fe.Service != "api" || fe.Field != "container.memory.reservation" {
		t.Fatalf("got %v, want a problem of service api, field container.memory.reservation", err)
	}
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func jsonEqual(a, b any) bool { return js(a) == js(b) }

func intOrString(n int32) intstr.IntOrString { return intstr.FromInt32(n) }

// TestTheCRDSchemaAloneCatchesAnUnknownField checks the schema step on its
// own: a field the CRD does not define is one the API server would prune.
func TestTheCRDSchemaAloneCatchesAnUnknownField(t *testing.T) {
	b := bytes.Replace(manifest(t), []byte("    - alert: ServiceDown"), []byte("    - alert: ServiceDown\n      severity: critical"), 1)
	got := strings.Join(schemaProblems(b), "; ")
	if !strings.Contains(got, `unknown field "spec.groups[0].rules[0].severity"`) {
		t.Fatalf("schema problems %q do not name the unknown field", got)
	}
	if ps := schemaProblems(manifest(t)); len(ps) > 0 {
		t.Fatalf("a valid manifest has schema problems: %v", ps)
	}
}
