package generate

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// fixture is a small two-service spec that uses every part of the
// vocabulary the generator renders: a join with fallback, stale series,
// several expectations, a service without healthcheck or memory limit.
func fixture() spec.Spec {
	down := spec.SetLabel(spec.Filter(spec.Metric("up", spec.Eq("job", "api")), spec.OpEq, 0), "compose_service", "api")
	info := spec.Metric("docker_container_last_termination_info", spec.Eq("compose_service", "api"))
	api := spec.Service{
		Name:               "api",
		EvaluationInterval: 30 * time.Second,
		Container:          spec.RunbookContainer("http://localhost:9000/health"),
		Scrape:             spec.Scrape{Port: 9000, Path: "/internal/metrics"},
		Alerts: []spec.Alert{{
			Name:        "ApiDown",
			Expr:        spec.Or(spec.Join(down, spec.TopK(1, info, "host", "name"), []string{"host", "name"}, []string{"reason"}), down, "job", "instance"),
			For:         time.Minute,
			Severity:    spec.Critical,
			Labels:      map[string]string{"team": "ml"},
			Summary:     "api is down{{ if $labels.reason }} ({{ $labels.reason }}){{ end }}",
			Description: "{{ $labels.instance }} cannot be scraped.",
			RunbookURL:  "https://example.com/runbooks/api",
			Tests: []spec.Test{{
				Name: "pages with the reason",
				Series: []spec.Series{
					{Metric: "up", Labels: map[string]string{"job": "api", "instance": "a:1"}, Values: []spec.Segment{{Value: 1, For: time.Minute}, {Value: 0, For: 3 * time.Minute}}},
					{Metric: "docker_container_last_termination_info", Labels: map[string]string{"compose_service": "api", "reason": "error", "exit_code": "1", "name": "api-1", "compose_project": "p"},
						Values: []spec.Segment{{Value: 1, For: time.Minute}, {Stale: true, For: 3 * time.Minute}}},
				},
				Expect: []spec.Expect{
					{At: 105 * time.Second},
					{At: 2 * time.Minute, Firing: []spec.Firing{{
						Labels:      map[string]string{"job": "api", "instance": "a:1", "compose_service": "api"},
						Summary:     "api is down",
						Description: "a:1 cannot be scraped.",
					}}},
				},
			}},
		}},
	}
	worker := spec.Service{
		Name:      "worker",
		Job:       "worker-job",
		Container: spec.Container{Restart: "always", Replicas: 2},
		Scrape:    spec.Scrape{Static: []string{"w:1", "w:2"}},
		Alerts: []spec.Alert{{
			Name:        "WorkerDown",
			Expr:        spec.Filter(spec.Metric("up", spec.Eq("job", "worker-job")), spec.OpEq, 0),
			Severity:    spec.Warning,
			Summary:     "worker is down",
			Description: "worker is down",
			Tests: []spec.Test{{
				Name:     "fires at once",
				Interval: time.Minute,
				Series:   []spec.Series{{Metric: "up", Labels: map[string]string{"job": "worker-job", "instance": "w:1"}, Values: []spec.Segment{{Value: 1, For: 2 * time.Minute}, {Value: 0, For: 2 * time.Minute}}}},
				Expect: []spec.Expect{{At: time.Minute}, {At: 2 * time.Minute, Firing: []spec.Firing{{
					Labels: map[string]string{"job": "worker-job", "instance": "w:1"}, Summary: "worker is down", Description: "worker is down",
				}}}},
			}},
		}},
	}
	// A pipeline alert, and the spec's runbook for the alerts without one.
	exporterDown := spec.Alert{
		Name:          "ExporterDown",
		Expr:          spec.Filter(spec.Metric("up", spec.Eq("job", "exporter")), spec.OpEq, 0),
		For:           time.Minute,
		KeepFiringFor: 2 * time.Minute,
		Severity:      spec.Warning,
		Summary:       "exporter is down",
		Description:   "api and worker pages arrive without diagnosis.",
		Tests: []spec.Test{{
			Name:   "fires and keeps firing",
			Series: []spec.Series{{Metric: "up", Labels: map[string]string{"job": "exporter", "instance": "e:1"}, Values: []spec.Segment{{Value: 0, For: 2 * time.Minute}, {Value: 1, For: 3 * time.Minute}}}},
			Expect: []spec.Expect{{At: 30 * time.Second}, {At: 3 * time.Minute, Firing: []spec.Firing{{
				Labels: map[string]string{"job": "exporter", "instance": "e:1"}, Summary: "exporter is down", Description: "api and worker pages arrive without diagnosis.",
			}}}, {At: 4 * time.Minute}},
		}},
	}
	return spec.Spec{Services: []spec.Service{api, worker}, Pipeline: []spec.Alert{exporterDown}, RunbookURL: "https://example.com/runbooks/all",
		Hosts: []spec.Host{{Name: "a", Address: "unix:///var/run/docker.sock"}, {Name: "b", Address: "https://b.example.com:2376", TLS: &spec.TLS{CAFile: "/etc/prometheus/docker/ca.pem"}}}}
}

func buildFixture(t *testing.T) Files {
	t.Helper()
	files, err := Build(context.Background(), []Target{{Spec: fixture()}}, Options{ComposeBase: "testdata/base.compose.yml"})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return files
}

func TestBuildMatchesGoldenFiles(t *testing.T) {
	files := buildFixture(t)
	golden := filepath.Join("testdata", "golden")
	if *update {
		if err := Write(golden, files); err != nil {
			t.Fatal(err)
		}
	}
	diff, err := Diff(golden, files)
	if err != nil {
		t.Fatal(err)
	}
	if diff != "" {
		t.Errorf("output differs from %s (go test ./internal/generate -update to accept):\n%s", golden, diff)
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	a, b := buildFixture(t), buildFixture(t)
	if diff, err := diffFiles(t, a, b); err != nil || diff != "" {
		t.Fatalf("two builds of the same spec differ (%v):\n%s", err, diff)
	}
}

// diffFiles compares two builds through Diff, via a folder holding a.
func diffFiles(t *testing.T, a, b Files) (string, error) {
	dir := filepath.Join(t.TempDir(), "out")
	if err := Write(dir, a); err != nil {
		return "", err
	}
	return Diff(dir, b)
}

func TestRenderedExpressionsKeepTheSpecsTree(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	for _, prof := range rules.Profiles {
		for _, svc := range rules.Spec(prof).Services {
			for _, a := range append(svc.Alerts, svc.Kubernetes.Alerts...) {
				pretty, err := p.ParseExpr(spec.PromQL(a.Expr))
				if err != nil {
					t.Fatalf("%s/%s: %v", prof.Name, a.Name, err)
				}
				plain, err := p.ParseExpr(a.Expr.String())
				if err != nil {
					t.Fatalf("%s/%s: %v", prof.Name, a.Name, err)
				}
				if pretty.String() != plain.String() {
					t.Errorf("%s/%s: prettified expression reads as\n%s\nwant\n%s", prof.Name, a.Name, pretty, plain)
				}
			}
		}
	}
}

// TestGatewayAlertsAreProvenByPromtool runs the real promtool, from the same
// prometheus module version as rulefmt, over every profile's output.
func TestGatewayAlertsAreProvenByPromtool(t *testing.T) {
	promtool := testenv.Promtool(t)
	var targets []Target
	for _, p := range rules.Profiles {
		targets = append(targets, Target{Dir: p.Name, Spec: rules.Spec(p)})
	}
	files, err := Build(context.Background(), targets, Options{ComposeBase: "../../compose/docker-compose.yml"})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	dir := t.TempDir()
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	var ruleFiles, testFiles []string
	for _, p := range files.Paths() {
		switch {
		case strings.HasSuffix(p, ".rules.yml"):
			ruleFiles = append(ruleFiles, filepath.Join(dir, p))
		case strings.HasSuffix(p, ".test.yml"):
			testFiles = append(testFiles, filepath.Join(dir, p))
		}
	}
	// Per profile: the gateway's group and the pipeline's; and the
	// production profile's Kubernetes group of the gateway.
	if want := 2*len(rules.Profiles) + 1; len(ruleFiles) != want || len(testFiles) != want {
		t.Fatalf("got rule files %v and test files %v, want two of each per profile and one Kubernetes group", ruleFiles, testFiles)
	}
	for _, args := range [][]string{append([]string{"check", "rules"}, ruleFiles...), append([]string{"test", "rules"}, testFiles...)} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args[:2], " "), err, out)
		}
	}
}

func TestPromtoolCatchesAWrongExpectation(t *testing.T) {
	promtool := testenv.Promtool(t)
	s := fixture()
	s.Services[0].Alerts[0].Tests[0].Expect[1].Firing[0].Summary = "api is fine"
	files, err := Build(context.Background(), []Target{{Spec: s}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "test", "rules", filepath.Join(dir, "tests", "api.test.yml")).CombinedOutput()
	if err == nil {
		t.Fatalf("promtool passed a test that expects the wrong summary:\n%s", out)
	}
	if !strings.Contains(string(out), "api is fine") {
		t.Errorf("promtool's failure does not show the expectation:\n%s", out)
	}
}

func TestWriteLeavesRootUntouchedWhenItFails(t *testing.T) {
	root := filepath.Join(t.TempDir(), "generated")
	before := Files{"rules/old.rules.yml": []byte("old\n")}
	if err := Write(root, before); err != nil {
		t.Fatal(err)
	}
	// "x" as a file and as a folder cannot both be written.
	bad := Files{"a.yml": []byte("a"), "x": []byte("file"), "x/y.yml": []byte("nested")}
	if err := Write(root, bad); err == nil {
		t.Fatal("Write succeeded with conflicting paths")
	}
	if diff, err := Diff(root, before); err != nil || diff != "" {
		t.Fatalf("root changed after a failed write (%v):\n%s", err, diff)
	}
	entries, _ := os.ReadDir(filepath.Dir(root))
	if len(entries) != 1 {
		t.Errorf("temporary folders left behind: %v", entries)
	}
}

// TestWriteLeavesNothingBesideRoot: a build writes a fresh folder beside
// the output and swaps it in; after a successful build, the first and each
// one after, the output folder is all there is beside it.
func TestWriteLeavesNothingBesideRoot(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "generated")
	for i, files := range []Files{
		{"rules/a.rules.yml": []byte("first\n")},
		{"rules/a.rules.yml": []byte("second\n"), "tests/a.test.yml": []byte("t\n")},
		{"rules/b.rules.yml": []byte("third\n")},
	} {
		if err := Write(root, files); err != nil {
			t.Fatalf("build %d: %v", i+1, err)
		}
		entries, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if len(names) != 1 || names[0] != "generated" {
			t.Errorf("after build %d, beside the output: %v, want only generated", i+1, names)
		}
		if diff, err := Diff(root, files); err != nil || diff != "" {
			t.Errorf("after build %d the output is not what was written (%v):\n%s", i+1, err, diff)
		}
	}
}

func TestDiffShowsChangedAddedAndRemovedFiles(t *testing.T) {
	root := filepath.Join(t.TempDir(), "generated")
	if err := Write(root, Files{"same.yml": []byte("a\n"), "changed.yml": []byte("old\n"), "extra.yml": []byte("x\n")}); err != nil {
		t.Fatal(err)
	}
	diff, err := Diff(root, Files{"same.yml": []byte("a\n"), "changed.yml": []byte("new\n"), "added.yml": []byte("y\n")})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"--- /dev/null\n+++ " + filepath.Join(root, "added.yml"),
		"-old\n+new\n",
		"--- " + filepath.Join(root, "extra.yml") + "\n+++ /dev/null",
	} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}
	if strings.Contains(diff, filepath.Join(root, "same.yml")) {
		t.Errorf("diff shows an unchanged file:\n%s", diff)
	}
}

func TestComposeFragmentsAreCheckedAgainstTheBaseFile(t *testing.T) {
	cases := []struct {
		name string
		base string
		want string
	}{
		{"a service the base file lacks is an error", "services:\n  other:\n    image: x\n", `service "api" is not defined in`},
		{"a base file compose cannot load is an error", "services: [\n", "compose-go"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := filepath.Join(t.TempDir(), "docker-compose.yml")
			if err := os.WriteFile(base, []byte(tc.base), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Build(context.Background(), []Target{{Spec: fixture()}}, Options{ComposeBase: base})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
