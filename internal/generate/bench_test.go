package generate

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sre-tools/promgen/internal/scalespec"
	"github.com/sre-tools/promgen/rules"
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

// TestYAMLIsWrittenAsYAMLv3WritesIt builds the gateway's specs (every
// profile: routing, Kubernetes, several hosts), the fixture and a scale
// spec through yamlenc, then through yaml.v3 alone, and compares every
// file: yamlenc must change no byte, and must have written every YAML file
// itself, or the comparison proves nothing of it.
func TestYAMLIsWrittenAsYAMLv3WritesIt(t *testing.T) {
	s, base := scaleSpec(t, 12)
	targets := []Target{{Spec: fixture()}, {Dir: "scale", Spec: s}}
	for _, p := range rules.Profiles {
		targets = append(targets, Target{Dir: "gateway-" + p.Name, Spec: rules.Spec(p)})
	}
	build := func() Files {
		t.Helper()
		var files Files
		for _, tg := range targets {
			b := base
			if tg.Dir != "scale" {
				b = ""
			}
			fs, err := Build(context.Background(), []Target{tg}, Options{ComposeBase: b})
			if err != nil {
				t.Fatal(err)
			}
			if files == nil {
				files = fs
			} else {
				maps.Copy(files, fs)
			}
		}
		return files
	}
	before := yamlFallbacks.Load()
	fast := build()
	if n := yamlFallbacks.Load() - before; n > 0 {
		t.Errorf("%d files were left to yaml.v3", n)
	}
	forceYAMLv3 = true
	defer func() { forceYAMLv3 = false }()
	slow := build()
	if len(fast) != len(slow) {
		t.Fatalf("%d files, yaml.v3 alone %d", len(fast), len(slow))
	}
	yamlFiles := 0
	for _, p := range slow.Paths() {
		if strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml") {
			yamlFiles++
		}
		if !bytes.Equal(fast[p], slow[p]) {
			t.Errorf("%s differs from yaml.v3's:\n%s", p, lineDiff(string(slow[p]), string(fast[p])))
		}
	}
	t.Logf("%d files compared, %d of them YAML", len(slow), yamlFiles)
}

// lineDiff shows the first line where got departs from want.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return fmt.Sprintf("line %d:\n  yaml.v3: %q\n  yamlenc: %q", i+1, w[i], g[i])
		}
	}
	return fmt.Sprintf("yaml.v3 %d lines, yamlenc %d", len(w), len(g))
}
