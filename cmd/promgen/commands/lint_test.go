package commands

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
	"github.com/sre-tools/promgen/spec/scenario"
)

// exitCode is the exit code a CLI error makes, 0 for none.
func exitCode(err error) int {
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// lintDir makes a folder of rule files with a repository root (.git) and,
// when config is not empty, a .promgen-lint.yml.
func lintDir(t *testing.T, config string, files map[string]string) string {
	t.Helper()
	dir := workdir(t)
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if config != "" {
		files[".promgen-lint.yml"] = config
	}
	for p, content := range files {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	goodRules = "groups:\n- name: g\n  rules:\n  - alert: etcdMembersDown\n    expr: up{job=\"etcd\"} == 0\n    labels:\n      severity: none\n"
	badRules  = "groups:\n- name: g\n  rules:\n  - alert: Flapping\n    expr: up > 1\n"
	longRules = "groups:\n- name: g\n  rules:\n  - alert: Budget\n    expr: avg_over_time(up[30d]) < 0.99\n"
	warnRules = "groups:\n- name: g\n  rules:\n  - record: ifNiceName\n    expr: sum(up)\n"
)

func TestLintExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string
		files  map[string]string
		args   []string
		code   int
		output string
	}{
		{"a foreign file that is right passes without conventions", "", map[string]string{"vendor/etcd.yml": goodRules},
			[]string{"vendor/"}, 0, ""},
		{"the config's conventions for a path make the same file fail", "overrides:\n  - paths: ['vendor/**']\n    conventions: promgen\n",
			map[string]string{"vendor/etcd.yml": goodRules}, []string{"vendor/"}, 1, "vendor/etcd.yml:4: error alert-name:"},
		{"an error finding is exit 1", "", map[string]string{"a.yml": badRules}, []string{"a.yml"}, 1, "a.yml:5: error impossible-comparison:"},
		{"a warning passes by default", "", map[string]string{"a.yml": warnRules}, []string{"a.yml"}, 0, "a.yml:4: warning record-name:"},
		{"--fail-on warning fails on it", "", map[string]string{"a.yml": warnRules}, []string{"--fail-on", "warning", "a.yml"}, 1, "warning record-name"},
		{"a config can turn the check off", "checks:\n  impossible-comparison: off\n", map[string]string{"a.yml": badRules}, []string{"a.yml"}, 0, ""},
		{"--config names another config", "", map[string]string{"a.yml": badRules, "strict.yml": "checks:\n  impossible-comparison: warning\n"},
			[]string{"--config", "strict.yml", "a.yml"}, 0, "a.yml:5: warning impossible-comparison:"},
		{"a glob reads matching files", "", map[string]string{"r/x/a.rules.yml": badRules, "r/b.txt": badRules}, []string{"r/**/*.rules.yml"}, 1, "r/x/a.rules.yml:5:"},
		{"a file that is not YAML is a usage error, 2", "", map[string]string{"a.yml": "groups: [\n"}, []string{"a.yml"}, 2, "a.yml:1: error parse: did not find expected node content"},
		{"a PrometheusRule without spec.groups is 2", "", map[string]string{"a.yaml": "kind: PrometheusRule\nmetadata: {name: x}\nspec: {}\n"}, []string{"a.yaml"}, 2,
			`a.yaml:1: error input: PrometheusRule "x" has no spec.groups`},
		{"an unknown check in a comment is 2", "", map[string]string{"a.yml": "# promgen-lint file/disable nope\n" + goodRules}, []string{"a.yml"}, 2,
			`a.yml:1: error input: promgen-lint comment: unknown check "nope"`},
		{"an unknown check in the config is 2, with file and line", "checks:\n  rate-range: off\n  nope: off\n", map[string]string{"a.yml": goodRules}, []string{"a.yml"}, 2,
			`.promgen-lint.yml:3: checks: unknown check "nope"`},
		{"a bad regexp in the config is 2, with file and line", "overrides:\n  - rules: ['(']\n", map[string]string{"a.yml": goodRules}, []string{"a.yml"}, 2,
			`.promgen-lint.yml:2: rules: bad regexp "("`},
		{"a missing file is 2", "", map[string]string{}, []string{"missing.yml"}, 2, "missing.yml"},
		{"a bad format is 2", "", map[string]string{"a.yml": goodRules}, []string{"--format", "xml", "a.yml"}, 2, `--format: "xml"`},
		{"a bad --fail-on is 2", "", map[string]string{"a.yml": goodRules}, []string{"--fail-on", "fatal", "a.yml"}, 2, `--fail-on: "fatal"`},
		{"--retention refuses a range reaching further back", "", map[string]string{"a.yml": longRules}, []string{"--retention", "15d", "a.yml"}, 1,
			"a.yml:5: error retention-range: alert \"Budget\": [30d] reaches back 30d, further than the Prometheus retention of 15d"},
		{"the config's retention does too", "retention: 15d\n", map[string]string{"a.yml": longRules}, []string{"a.yml"}, 1, "a.yml:5: error retention-range:"},
		{"--retention overrides the config's", "retention: 15d\n", map[string]string{"a.yml": longRules}, []string{"--retention", "31d", "a.yml"}, 0, ""},
		{"a bad --retention is 2", "", map[string]string{"a.yml": goodRules}, []string{"--retention", "15x", "a.yml"}, 2, `--retention: "15x"`},
		{"a bad retention in the config is 2, with file and line", "retention: forever\n", map[string]string{"a.yml": goodRules}, []string{"a.yml"}, 2,
			`.promgen-lint.yml:1: retention: "forever" is not a positive duration such as 15d`},
		{"a bad metadata file is 2", "", map[string]string{"a.yml": goodRules, "md.json": "[]"}, []string{"--metadata", "md.json", "a.yml"}, 2, "--metadata: md.json"},
		// A flag the run would ignore is a usage error, never a silent pass:
		// `promgen lint --retention -5d` linted the spec and exited 0.
		{"--retention without files is 2: the spec's rules use its prometheus.retention", "", map[string]string{}, []string{"--retention", "-5d"}, 2,
			"--retention applies to rule files given as arguments"},
		{"--prometheus without files is 2", "", map[string]string{}, []string{"--prometheus", "http://127.0.0.1:1"}, 2, "--prometheus applies to rule files"},
		{"--metadata without files is 2", "", map[string]string{}, []string{"--metadata", "md.json"}, 2, "--metadata applies to rule files"},
		{"--config without files is 2", "", map[string]string{}, []string{"--config", "strict.yml"}, 2, "--config applies to rule files"},
		{"--out with files is 2: it places the spec's files", "", map[string]string{"a.yml": goodRules}, []string{"--out", "deploy", "a.yml"}, 2,
			"--out applies to the spec's own rules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := lintDir(t, tc.config, tc.files)
			out, err := run(t, gateway(), dir, append([]string{"lint"}, tc.args...)...)
			if got := exitCode(err); got != tc.code {
				t.Errorf("exit %d, want %d\n%s%v", got, tc.code, out, err)
			}
			all := out
			if err != nil {
				all += err.Error()
			}
			if tc.output == "" && out != "" || !strings.Contains(all, tc.output) {
				t.Errorf("output lacks %q:\n%s", tc.output, all)
			}
		})
	}
}

func TestLintWithMetadataFlagsARateOfAForeignGauge(t *testing.T) {
	rules := "groups:\n- name: g\n  rules:\n  - alert: OSDFlapping\n    expr: rate(ceph_osd_up[5m]) > 0\n"
	md := `{"status":"success","data":{"ceph_osd_up":[{"type":"gauge","help":"","unit":""}]}}`
	dir := lintDir(t, "", map[string]string{"ceph.yml": rules, "md.json": md})
	if out, err := run(t, gateway(), dir, "lint", "ceph.yml"); err != nil || out != "" {
		t.Fatalf("without metadata: %v\n%s", err, out)
	}
	out, err := run(t, gateway(), dir, "lint", "--metadata", "md.json", "--format", "json", "ceph.yml")
	if exitCode(err) != 1 {
		t.Fatalf("with metadata: exit %d, want 1\n%s", exitCode(err), out)
	}
	var ps []struct{ Path, Check, Severity string }
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Check != "counter-functions" || ps[0].Severity != "error" {
		t.Errorf("got %+v, want one counter-functions error", ps)
	}
}

// --prometheus asks a Prometheus' /api/v1/metadata through client_golang;
// here an httptest stand-in on 127.0.0.1 serves the API's JSON shape
// (internal/lint runs the real Prometheus when $PROMETHEUS is set).
func TestLintWithPrometheusFlagsARateOfAForeignGauge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/metadata":
			fmt.Fprint(w, `{"status":"success","data":{"ceph_osd_up":[{"type":"gauge","help":"","unit":""}]}}`)
		case "/api/v1/status/config":
			fmt.Fprint(w, `{"status":"success","data":{"yaml":"global:\n  scrape_interval: 5m\n"}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	rules := "groups:\n- name: g\n  rules:\n  - alert: OSDFlapping\n    expr: rate(ceph_osd_up[5m]) > 0 or ceph_unknown > 1\n"
	dir := lintDir(t, "", map[string]string{"ceph.yml": rules})
	out, err := run(t, gateway(), dir, "lint", "--prometheus", srv.URL, "ceph.yml")
	for _, want := range []string{
		"error counter-functions",
		`warning unknown-metric: alert "OSDFlapping": metric "ceph_unknown"`,
		"error rate-range: alert \"OSDFlapping\": rate() over [5m] holds fewer than two samples at a scrape interval of 5m,",
	} {
		if exitCode(err) != 1 || !strings.Contains(out, want) {
			t.Errorf("exit %d, want 1 with %q:\n%s", exitCode(err), want, out)
		}
	}
	srv.Close()
	if _, err := run(t, gateway(), dir, "lint", "--prometheus", srv.URL, "ceph.yml"); exitCode(err) != 2 {
		t.Errorf("an unreachable Prometheus: exit %d, want 2", exitCode(err))
	}
}

func TestLintWritesSARIF(t *testing.T) {
	dir := lintDir(t, "", map[string]string{"a.yml": badRules})
	out, _ := run(t, gateway(), dir, "lint", "--format", "sarif", "a.yml")
	var log struct {
		Version string
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 || log.Runs[0].Results[0].RuleID != "impossible-comparison" {
		t.Errorf("got %+v", log)
	}
}

// The repository's own config keeps the strict house policy for generated/:
// a hand edit there that breaks a convention fails promgen lint.
func TestLintRepositoryConfigHoldsGeneratedToTheHousePolicy(t *testing.T) {
	config, err := os.ReadFile("../../../.promgen-lint.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := lintDir(t, string(config), map[string]string{
		"generated/rules/x.rules.yml": goodRules,
		"vendor/x.rules.yml":          goodRules,
	})
	out, err := run(t, gateway(), dir, "lint", "vendor/")
	if err != nil || out != "" {
		t.Errorf("vendor/: %v\n%s", err, out)
	}
	out, err = run(t, gateway(), dir, "lint", "generated/rules/")
	if exitCode(err) != 1 {
		t.Errorf("generated/: exit %d, want 1\n%s", exitCode(err), out)
	}
	for _, want := range []string{"error alert-name:", "error required-annotations:", `error required-labels: alert "etcdMembersDown": label "severity" is "none"`} {
		if !strings.Contains(out, want) {
			t.Errorf("generated/ output lacks %q:\n%s", want, out)
		}
	}
}

// A team's spec reads metrics of its own (its objectives' request counter
// and latency histogram), which promgen's catalog does not know: the spec
// declares them, so lint knows them too and prints nothing.
func TestLintOfATeamsSpecKnowsTheMetricsItDeclares(t *testing.T) {
	svc := spec.Service{Name: rules.GatewayService, Container: spec.RunbookContainer("http://localhost:8000/health"), Scrape: spec.Scrape{Port: 8000}}
	svc.Alerts = rules.Runbook(svc, rules.Production)
	svc.SLOs = []spec.SLO{
		{Name: "availability", Objective: 0.995, Window: 28 * 24 * time.Hour,
			Availability: &spec.AvailabilitySLI{Requests: "ranker_requests_total", Errors: []*labels.Matcher{spec.Re("code", "5..")}}},
		{Name: "latency", Objective: 0.99, Window: 28 * 24 * time.Hour,
			Latency: &spec.LatencySLI{Histogram: "ranker_request_duration_seconds", Threshold: 0.5, Buckets: []float64{0.1, 0.5, 1}}},
	}
	records, burns := rules.SLOs(svc)
	svc.Records, svc.Alerts = records, append(svc.Alerts, burns...)
	s := spec.Spec{Services: []spec.Service{svc}, RunbookURL: "https://runbooks.example.com/ranker"}
	out, err := run(t, Config{Outputs: []Output{{Spec: s}}}, workdir(t), "lint")
	if err != nil || out != "" {
		t.Errorf("lint of a spec with its own SLI metrics: %v\n%s", err, out)
	}
	if !strings.Contains(fmt.Sprint(svc.Records), "ranker_requests_total") {
		t.Fatalf("the records do not read the team's metric, so this test proves nothing: %v", svc.Records)
	}
}

// A team's custom alert reads the team's own metric: undeclared, lint
// warns it knows it nowhere on every build; declared on its service, lint
// knows it, and holds the alert to its type.
func TestLintKnowsTheMetricsAServiceDeclares(t *testing.T) {
	const depth = "worker_queue_depth"
	in := map[string]string{"job": "worker", "instance": "w:8000"}
	build := func(metrics []spec.ExposedMetric, expr parser.Expr) spec.Spec {
		svc := spec.Service{Name: rules.GatewayService, Job: "worker", Container: spec.RunbookContainer("http://localhost:8000/health"), Scrape: spec.Scrape{Port: 8000}, Metrics: metrics}
		backlog := spec.Alert{Name: "WorkerBacklog", Expr: expr, For: 10 * time.Minute, Severity: spec.Warning,
			Summary: "{{ $labels.instance }} has a backlog", Description: "Requests wait.",
			Tests: []spec.Test{{Name: "fires on a growing backlog",
				Series: []spec.Series{scenario.Series(depth, in, scenario.Grow(0, 600, 20*time.Minute))},
				Expect: []spec.Expect{scenario.Quiet(5 * time.Minute), scenario.Fires(15*time.Minute, spec.Firing{Labels: in,
					Summary: in["instance"] + " has a backlog", Description: "Requests wait."})}}},
		}
		svc.Alerts = []spec.Alert{rules.ServiceDown(svc, rules.Production), backlog}
		return spec.Spec{Services: []spec.Service{svc}, RunbookURL: "https://runbooks.example.com/worker"}
	}
	above := spec.Filter(spec.Metric(depth, spec.Eq("job", "worker")), spec.OpGt, 500)
	rated := spec.Filter(spec.Call("rate", spec.Range(spec.Metric(depth, spec.Eq("job", "worker")), 5*time.Minute)), spec.OpGt, 5)
	for _, tc := range []struct {
		name    string
		metrics []spec.ExposedMetric
		expr    parser.Expr
		want    string // "" for a clean lint
	}{
		{"undeclared, it is unknown", nil, above, `warning unknown-metric: alert "WorkerBacklog": metric "worker_queue_depth" is not in the catalog`},
		{"declared, it is known", []spec.ExposedMetric{{Name: depth, Type: "gauge", Help: "Requests waiting."}}, above, ""},
		{"declared a gauge, a rate() of it is an error", []spec.ExposedMetric{{Name: depth, Type: "gauge"}}, rated, `error counter-functions: alert "WorkerBacklog": rate() on "worker_queue_depth", which is a gauge`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, Config{Outputs: []Output{{Spec: build(tc.metrics, tc.expr)}}}, workdir(t), "lint")
			if tc.want == "" {
				if err != nil || out != "" {
					t.Errorf("lint: %v\n%s", err, out)
				}
				return
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("lint output lacks %q:\n%s(%v)", tc.want, out, err)
			}
		})
	}
}
