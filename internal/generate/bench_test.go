package generate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sre-tools/promgen/internal/scalespec"
	"github.com/sre-tools/promgen/spec"
)

// scaleSpec is scalespec's spec of n services, and its compose base file
// written to a temporary folder.
func scaleSpec(tb testing.TB, n int) (spec.Spec, string) {
	s, base := scalespec.New(n)
	path := filepath.Join(tb.TempDir(), "docker-compose.yml")
	if err := os.WriteFile(path, base, 0o644); err != nil {
		tb.Fatal(err)
	}
	return s, path
}

// BenchmarkBuild measures a whole build (validation, rendering, rulefmt and
// compose-go checks) as the number of services grows; docs/generate.md
// records the figures. Besides wall time it reports the CPU time of the
// process per build (cpu-ms/op, user and system, every goroutine and the
// garbage collector): on a machine shared with other jobs the wall time
// says how long this build waited, the CPU time what it cost.
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			s, base := scaleSpec(b, n)
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				files, err := Build(context.Background(), []Target{{Spec: s}}, Options{ComposeBase: base})
				if err != nil {
					b.Fatal(err)
				}
				if len(files) != 4*n+3 {
					b.Fatalf("got %d files, want %d", len(files), 4*n+3)
				}
			}
			b.ReportMetric(float64((cpuTime(b)-start).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkMarshal measures marshal alone on the values a build of 1,000
// services writes per service: its rule groups, unit tests and compose
// fragment, built once outside the loop.
func BenchmarkMarshal(b *testing.B) {
	s, _ := scaleSpec(b, 1000)
	var values []any
	for _, g := range groups(s) {
		values = append(values, ruleGroups(s, g, &spec.Printer{}), unitTests(s, g, "../rules/"+g.name+".rules.yml"))
		if g.svc != nil {
			f := newFragment("", *g.svc)
			values = append(values, composeFragment{Services: map[string]types.ServiceConfig{f.service: f.config}})
		}
	}
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		for _, v := range values {
			if _, err := marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64((cpuTime(b)-start).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkPrometheusHosts measures prometheus.yml alone (built, loaded
// back, its joins checked) for 100 services on two hosts, local sockets
// against remote daemons over TLS, whose jobs carry the published-port
// relabelling and a tls_config each; docs/generate.md records the figures.
func BenchmarkPrometheusHosts(b *testing.B) {
	tls := &spec.TLS{CAFile: "/etc/prometheus/docker/ca.pem", CertFile: "/etc/prometheus/docker/client.pem", KeyFile: "/etc/prometheus/docker/client-key.pem"}
	for _, c := range []struct {
		name  string
		hosts []spec.Host
	}{
		{"local", []spec.Host{{Name: "a", Address: "unix:///var/run/docker.sock"}, {Name: "b", Address: "unix:///run/b/docker.sock"}}},
		{"remote-tls", []spec.Host{{Name: "a", Address: "https://a:2376", TLS: tls}, {Name: "b", Address: "https://b:2376", TLS: tls}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			s, _ := scaleSpec(b, 100)
			s.Hosts = c.hosts
			b.ReportAllocs()
			for b.Loop() {
				if _, err := renderPrometheus(Target{Spec: s}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// cpuTime is scalespec.CPUTime, failing the benchmark on an error.
func cpuTime(tb testing.TB) time.Duration {
	d, err := scalespec.CPUTime()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// TestAScaleSpecBuilds keeps the benchmark's spec valid: a benchmark that
// fails is only noticed when someone runs it.
func TestAScaleSpecBuilds(t *testing.T) {
	s, base := scaleSpec(t, 20)
	files, err := Build(context.Background(), []Target{{Spec: s}}, Options{ComposeBase: base})
	if err != nil {
		t.Fatal(err)
	}
	// Per service a rule, test and compose file and a dashboard; the
	// pipeline's rule and test file, and prometheus.yml.
	if len(files) != 4*20+3 {
		t.Fatalf("got %d files, want %d", len(files), 4*20+3)
	}
}
