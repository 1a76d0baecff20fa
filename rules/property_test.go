package rules_test

import (
	"context"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

var seed = flag.Uint64("seed", 0, "seed of TestBuildersHoldForAnyService (0: a new one, printed)")

// randomName is a valid compose service or project name: lower-case
// letters and digits, with '-', '_' (and '.' for services) inside.
func randomName(r *rand.Rand, service bool) string {
	first := "abcdefghijklmnopqrstuvwxyz0123456789"
	rest := first + "-_"
	if service {
		rest += "."
	}
	b := []byte{first[r.IntN(len(first))]}
	for range r.IntN(14) {
		b = append(b, rest[r.IntN(len(rest))])
	}
	return string(b)
}

// randomJob is a Prometheus job: any label value, including the characters
// PromQL and YAML must quote.
func randomJob(r *rand.Rand) string {
	chars := `abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./: "'\{}`
	b := []byte{chars[r.IntN(26)]}
	for range r.IntN(20) {
		b = append(b, chars[r.IntN(len(chars))])
	}
	return string(b)
}

// randomSpec is a spec of one to four services with random names, jobs and
// projects, each with every per-service builder, and the pipeline alerts
// with random source jobs.
func randomSpec(r *rand.Rand, p rules.Profile, withSLOs bool) spec.Spec {
	s := spec.Spec{RunbookURL: "https://runbooks.example.com/" + randomName(r, false)}
	if r.IntN(2) == 0 {
		s.Sources = spec.Sources{ExporterJob: randomJob(r), CAdvisorJob: randomJob(r)}
	}
	for i := range r.IntN(4) {
		s.Hosts = append(s.Hosts, spec.Host{Name: fmt.Sprintf("%s-%d", randomName(r, false), i), Address: fmt.Sprintf("tcp://10.0.0.%d:2375", i+1)})
	}
	seen := map[string]bool{}
	for range 1 + r.IntN(4) {
		svc := spec.Service{Name: randomName(r, true), Container: spec.RunbookContainer("http://localhost:8080/health")}
		if seen[svc.Name] {
			continue
		}
		seen[svc.Name] = true
		if r.IntN(2) == 0 {
			svc.Job = randomJob(r)
		}
		if r.IntN(2) == 0 {
			svc.ComposeProject = randomName(r, false)
		}
		// Discovered containers at a random port, or static targets.
		if r.IntN(3) == 0 {
			svc.Scrape.Static = []string{fmt.Sprintf("10.1.0.%d:%d", 1+r.IntN(250), 1024+r.IntN(60000))}
		} else {
			svc.Scrape.Port = 1024 + r.IntN(60000)
		}
		if r.IntN(2) == 0 {
			svc.Scrape.Path = "/" + randomName(r, false)
		}
		if withSLOs {
			objectives := []float64{0.99, 0.995, 0.999, 0.9995}
			svc.SLOs = []spec.SLO{
				{Name: "availability", Objective: objectives[r.IntN(len(objectives))], Window: p.D(30 * 24 * time.Hour),
					Availability: &spec.AvailabilitySLI{Requests: "http_requests_total", Errors: []*labels.Matcher{spec.Re("code", "5..|429")}}},
				{Name: "fast_enough", Objective: objectives[r.IntN(len(objectives))], Window: p.D(30 * 24 * time.Hour),
					Latency: &spec.LatencySLI{Histogram: "rpc_duration_seconds", Threshold: 1, Buckets: []float64{0.1, 1, 10}}},
			}
		}
		// Objectives first: ServiceDown counts the budget an outage consumes.
		svc.Alerts = rules.Runbook(svc, p)
		svc.Records = []spec.Record{rules.ServedRate(svc, p)}
		if withSLOs {
			recs, alerts := rules.SLOs(svc)
			svc.Records, svc.Alerts = append(svc.Records, recs...), append(svc.Alerts, alerts...)
		}
		s.Services = append(s.Services, svc)
	}
	s.Pipeline = rules.Pipeline(s, p)
	return s
}

// TestBuildersHoldForAnyService builds every builder for random valid
// services and runs the generated promtool tests: an expectation that still
// holds a name of the gateway, or a name not derived from the service,
// fails here.
func TestBuildersHoldForAnyService(t *testing.T) {
	promtool := testenv.Promtool(t)
	s0 := *seed
	if s0 == 0 {
		s0 = rand.Uint64()
	}
	t.Logf("seed %d (rerun with go test ./rules -run %s -seed %d)", s0, t.Name(), s0)
	r := rand.New(rand.NewPCG(s0, s0))
	var targets []generate.Target
	for i := range 8 {
		p := rules.Profiles[i%len(rules.Profiles)]
		// Objectives on two specs of the e2e profile, whose short windows
		// keep promtool quick.
		targets = append(targets, generate.Target{Dir: fmt.Sprintf("spec%d", i), Spec: randomSpec(r, p, p.Name == rules.E2E.Name && i%4 == 1)})
	}
	files, err := generate.Build(context.Background(), targets, generate.Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	dir := t.TempDir()
	if err := generate.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	var ruleFiles, testFiles, configs []string
	for _, p := range files.Paths() {
		switch {
		case strings.HasSuffix(p, "prometheus.yml"):
			configs = append(configs, filepath.Join(dir, p))
		case strings.HasSuffix(p, ".rules.yml"):
			ruleFiles = append(ruleFiles, filepath.Join(dir, p))
		case strings.HasSuffix(p, ".test.yml"):
			testFiles = append(testFiles, filepath.Join(dir, p))
		}
	}
	if len(configs) != len(targets) {
		t.Errorf("want a prometheus.yml per spec, got %v", configs)
	}
	for _, args := range [][]string{append([]string{"check", "rules"}, ruleFiles...), append([]string{"test", "rules"}, testFiles...), append([]string{"check", "config"}, configs...)} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s (seed %d): %v\n%s", strings.Join(args[:2], " "), s0, err, out)
		}
	}
	for _, p := range ruleFiles {
		if strings.Contains(p, rules.GatewayService) {
			t.Errorf("a random spec produced a file named after the gateway: %s", p)
		}
	}
	for p, b := range files {
		if strings.Contains(string(b), rules.GatewayService) {
			t.Errorf("%s holds the gateway's name, which no random service has", p)
		}
	}
}

// TestEveryBuilderIsCovered keeps the property test honest: every exported
// function of package rules that returns a spec.Alert must be among the
// alerts Runbook or Pipeline return, which the property test builds.
func TestEveryBuilderIsCovered(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	var builders []string
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Recv != nil || !fn.Name.IsExported() || fn.Type.Results == nil || len(fn.Type.Results.List) != 1 {
					continue
				}
				if sel, ok := fn.Type.Results.List[0].Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Alert" {
					builders = append(builders, fn.Name.Name)
				}
			}
		}
	}
	s := rules.Spec(rules.Production)
	var covered []string
	for _, a := range append(slices.Clone(s.Services[0].Alerts), s.Pipeline...) {
		covered = append(covered, a.Name)
	}
	if len(builders) < 9 {
		t.Fatalf("found only %d builders (%v): the scan is broken", len(builders), builders)
	}
	for _, b := range builders {
		if !slices.Contains(covered, b) {
			t.Errorf("builder %s is in neither Runbook nor Pipeline, so no property test builds it", b)
		}
	}
}
