package commands

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// TestBadKubernetesInputIsReportedAndNothingWritten: names Kubernetes
// refuses are spec problems, a healthcheck that cannot become a probe is
// the patch writer's; either way every problem names its service and
// field, and generated/ stays as it was.
func TestBadKubernetesInputIsReportedAndNothingWritten(t *testing.T) {
	dir := workdir(t)
	if out, err := run(t, gateway(), dir, "build"); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	before, err := generate.Diff(filepath.Join(dir, "generated"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(before, "kubernetes/prometheusrules/inference-gateway.yaml") {
		t.Fatal("the gateway's build wrote no PrometheusRule")
	}

	for _, tc := range []struct {
		name   string
		break_ func(s *spec.Spec)
		want   []string
	}{
		{"invalid Kubernetes names", func(s *spec.Spec) {
			s.Kubernetes = &spec.Kubernetes{Namespace: "Inference_NS"}
			s.Services[0].Kubernetes.Container = "gateway.main"
		}, []string{
			`rules/: kubernetes.namespace: "Inference_NS" is not a Kubernetes namespace name`,
			`rules/: service "inference-gateway": kubernetes.container: "gateway.main" is not a Kubernetes container name`,
		}},
		{"a healthcheck that cannot become a probe", func(s *spec.Spec) {
			s.Services[0].Container.Healthcheck.Test = []string{"CMD", "curl", "-f", "http://inference-gateway:8000/health"}
		}, []string{
			`service "inference-gateway": container.healthcheck.test: "http://inference-gateway:8000/health" fetches host "inference-gateway"`,
		}},
		{"a memory request above the limit", func(s *spec.Spec) {
			s.Services[0].Container.Memory.Reservation = 8 * spec.GiB
		}, []string{
			`rules/: service "inference-gateway": container.memory.reservation: 8589934592 bytes exceeds the limit of 4294967296 bytes`,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rules.Spec(rules.Production)
			tc.break_(&s)
			_, err := run(t, Config{Origin: "rules/", Outputs: []Output{{Spec: s}}}, dir, "build")
			if err == nil {
				t.Fatal("build of a bad spec succeeded")
			}
			for _, want := range append(tc.want, "nothing written") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			after, err := generate.Diff(filepath.Join(dir, "generated"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if before != after {
				t.Error("a failed build changed generated/")
			}
		})
	}
}
