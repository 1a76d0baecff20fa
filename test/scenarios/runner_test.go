// Package scenarios is the adversarial scenario suite: the runbook's
// situations written as raw series and what a person expects to be paged
// for (and what must stay quiet), run by the real promtool against the
// generated rule files of every profile and example. The scenarios are
// written from the situation, never from the rules: the builders' own tests
// prove each alert does what it says; these prove the alerts say the right
// thing in the outages that matter.
package scenarios

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// platform is the target a rule group was built for: each has its own
// scenarios, in its own series.
type platform string

const (
	docker     platform = "docker"
	kubernetes platform = "kubernetes"
)

// scenarios are each platform's situations.
var scenarios = map[platform][]scenario{docker: dockerScenarios, kubernetes: kubernetesScenarios}

// ruleDirs are the generated rule folders the suite runs against, with the
// profile and platform each was built for.
var ruleDirs = []struct {
	glob     string
	profile  rules.Profile
	platform platform
}{
	{"../../generated/rules", rules.Production, docker},
	{"../../generated/e2e/rules", rules.E2E, docker},
	{"../../examples/*/generated/rules", rules.Production, docker},
	{"../../generated/kubernetes/rules", rules.Production, kubernetes},
	{"../../examples/*/generated/kubernetes/rules", rules.Production, kubernetes},
}

// minTargets is how many services each platform's folders hold at least:
// the gateway's and the examples'.
var minTargets = map[platform]int{docker: 4, kubernetes: 3}

// target is one service's generated rule group, as a scenario sees it: the
// names its series carry and the alerts and records it has.
type target struct {
	file         string
	service, job string
	project      string
	profile      rules.Profile
	platform     platform
	// namespace, deployment and container name the service on Kubernetes.
	namespace, deployment, podContainer string
	// summaries are the queries each alert's summary template runs: what
	// a person reads on the page.
	summaries       map[string][]string
	alerts          map[string]string // name -> severity
	records         []string
	interval        time.Duration
	availabilitySLO bool
}

func (t target) d(x time.Duration) time.Duration { return t.profile.D(x) }

// step is the sample and evaluation interval: the scrape interval of the
// profile.
func (t target) step() time.Duration { return t.d(15 * time.Second) }

func (t target) has(alert string) bool { _, ok := t.alerts[alert]; return ok }

// scenario is one situation: build returns its series and the queries that
// say what a person expects; applies, when set, says which services the
// situation makes sense for.
type scenario struct {
	name    string
	applies func(t target) bool
	build   func(t target) spec.Test
}

// loadTargets reads every generated rule group of a service (the pipeline
// group is spec-wide) and derives its job and compose project from its
// own selectors.
func loadTargets(t *testing.T) []target {
	t.Helper()
	var out []target
	n := map[platform]int{}
	for _, d := range ruleDirs {
		dirs, err := filepath.Glob(d.glob)
		if err != nil || len(dirs) == 0 {
			t.Fatalf("no rule folder matches %s", d.glob)
		}
		for _, dir := range dirs {
			files, _ := filepath.Glob(filepath.Join(dir, "*.rules.yml"))
			for _, f := range files {
				if strings.HasSuffix(f, spec.PipelineGroup+".rules.yml") {
					continue
				}
				abs, _ := filepath.Abs(f)
				out = append(out, readTarget(t, abs, d.profile, d.platform))
				n[d.platform]++
			}
		}
	}
	for p, want := range minTargets {
		if n[p] < want {
			t.Fatalf("found %d services in the generated %s rule files; expected at least %d, the gateway's and the examples'", n[p], p, want)
		}
	}
	return out
}

func readTarget(t *testing.T, file string, p rules.Profile, pl platform) target {
	t.Helper()
	groups, errs := rulefmt.ParseFile(file, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("%s: %v", file, errs)
	}
	if len(groups.Groups) == 0 {
		t.Fatalf("%s: no group, want the service's", file)
	}
	// The service's group, then those of its records evaluated at an
	// interval of their own.
	g := groups.Groups[0]
	var rules []rulefmt.Rule
	for _, o := range groups.Groups {
		if o.Name != g.Name && o.Name != conventions.GroupEvery(g.Name, time.Duration(o.Interval)) {
			t.Fatalf("%s: group %q is neither the service's, %q, nor one of its slow groups", file, o.Name, g.Name)
		}
		rules = append(rules, o.Rules...)
	}
	tg := target{file: file, service: g.Name, profile: p, platform: pl, alerts: map[string]string{}, summaries: map[string][]string{}, interval: time.Duration(g.Interval)}
	jobs, projects := map[string]bool{}, map[string]bool{}
	for _, r := range rules {
		expr, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			for _, m := range vs.LabelMatchers {
				switch {
				case vs.Name == catalog.Up && m.Name == "job":
					jobs[m.Value] = true
				case m.Name == catalog.LabelComposeProject:
					projects[m.Value] = true
				case vs.Name == catalog.Up && m.Name == catalog.LabelNamespace:
					tg.namespace = m.Value
				case vs.Name == catalog.KubeDeploymentSpecReplicas && m.Name == catalog.LabelDeployment:
					tg.deployment = m.Value
				case strings.HasPrefix(vs.Name, "kube_pod_container_") && m.Name == catalog.LabelContainer:
					tg.podContainer = m.Value
				}
			}
			return nil
		})
		if r.Alert != "" {
			tg.alerts[r.Alert] = r.Labels["severity"]
			tg.summaries[r.Alert] = templateQueries(t, file, r.Alert, r.Annotations["summary"])
		} else if !slices.Contains(tg.records, r.Record) {
			tg.records = append(tg.records, r.Record)
			if r.Labels["slo"] == "availability" {
				tg.availabilitySLO = true
			}
		}
	}
	// A service that is not scraped (a batch worker) has no job of its
	// own: its name stands in, and no up series is read.
	tg.job = g.Name
	for j := range jobs {
		tg.job = j
	}
	if len(jobs) > 1 {
		t.Fatalf("%s: several jobs read as the service's: %v", file, jobs)
	}
	for p := range projects {
		tg.project = p
	}
	if pl == kubernetes && (tg.namespace == "" || tg.deployment == "" || tg.podContainer == "") {
		t.Fatalf("%s: no namespace, Deployment or container found in the selectors (%q, %q, %q)", file, tg.namespace, tg.deployment, tg.podContainer)
	}
	return tg
}

// templateQueries are the queries text runs when Prometheus expands it as
// an alert's annotation, with no labels and every query empty: those a
// page shows whatever the data.
func templateQueries(t *testing.T, file, alert, text string) []string {
	t.Helper()
	var qs []string
	record := func(_ context.Context, q string, _ time.Time) (promql.Vector, error) {
		qs = append(qs, q)
		return nil, nil
	}
	data := template.AlertTemplateData(map[string]string{}, map[string]string{}, "", promql.Sample{})
	defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	if _, err := template.NewTemplateExpander(context.Background(), defs+text, alert, data, 0, record, nil, nil).Expand(); err != nil {
		t.Fatalf("%s: alert %q: summary: %v", file, alert, err)
	}
	return qs
}

// TestScenarios runs every scenario against every service it applies to,
// one promtool run per service.
func TestScenarios(t *testing.T) {
	promtool := testenv.Promtool(t)
	targets := loadTargets(t)
	for _, tg := range targets {
		name := strings.TrimPrefix(tg.file, mustAbs("../..")+"/")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var tests []spec.Test
			for _, sc := range scenarios[tg.platform] {
				if sc.applies != nil && !sc.applies(tg) {
					continue
				}
				st := sc.build(tg)
				st.Name = sc.name
				tests = append(tests, st)
			}
			if len(tests) == 0 {
				t.Skipf("no scenario applies to %s", tg.service)
			}
			b, err := generate.ScenarioFile([]string{tg.file}, tg.step(), tests)
			if err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(t.TempDir(), tg.service+".scenarios.yml")
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(promtool, "test", "rules", f).CombinedOutput()
			if err != nil {
				t.Errorf("promtool test rules %s (%d scenarios): %v\n%s", f, len(tests), err, out)
			}
		})
	}
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

// Expectations, as queries over the alerts Prometheus itself records.

// firing expects exactly the named alerts of the service to be firing at
// at (those the service has; an alert it lacks cannot be expected), and no
// other. With slos false, the objectives' burn alerts are left out of the
// comparison: during an outage they burn, as they should, and are muted
// by ServiceDown.
func firing(t target, at time.Duration, slos bool, names ...string) spec.Query {
	sel := `ALERTS{alertstate="firing"`
	if !slos {
		sel += `,slo=""`
	}
	q := spec.Query{At: at, Expr: "count by (alertname, severity) (" + sel + "})"}
	var have []string
	for _, n := range names {
		if t.has(n) {
			have = append(have, n)
		}
	}
	sort.Strings(have)
	for _, n := range have {
		q.Samples = append(q.Samples, spec.Sample{Labels: map[string]string{"alertname": n, "severity": t.alerts[n]}, Value: 1})
	}
	return q
}

// oneIdentity expects alert to be active at at as one instance that has
// been active since since: Alertmanager saw no resolve and no new incident
// in between (ALERTS_FOR_STATE holds each instance's activation time).
func oneIdentity(alert string, at, since time.Duration) []spec.Query {
	sel := fmt.Sprintf(`ALERTS_FOR_STATE{alertname=%q}`, alert)
	return []spec.Query{
		{At: at, Expr: "count(" + sel + ")", Samples: []spec.Sample{{Labels: map[string]string{}, Value: 1}}},
		{At: at, Expr: "max(" + sel + ")", Samples: []spec.Sample{{Labels: map[string]string{}, Value: since.Seconds()}}},
	}
}

// noNaN expects no recorded series of the service to be NaN at at.
func noNaN(t target, at time.Duration) []spec.Query {
	var out []spec.Query
	for _, r := range t.records {
		out = append(out, spec.Query{At: at, Expr: fmt.Sprintf("%s unless %s >= -Inf", r, r)})
	}
	return out
}

// diagnosis expects alert's summary, rendered at at, to name the
// termination with reason and exit code: the query its template runs,
// evaluated then, finds that termination and only that one.
func diagnosis(t target, alert string, at time.Duration, reason, code string) spec.Query {
	qs := t.summaries[alert]
	if len(qs) != 1 {
		panic(fmt.Sprintf("%s: alert %s: the summary runs %d queries, want the termination's only", t.file, alert, len(qs)))
	}
	return spec.Query{At: at, Expr: "count by (reason, exit_code) (" + qs[0] + ")",
		Samples: []spec.Sample{{Labels: map[string]string{catalog.LabelReason: reason, catalog.LabelExitCode: code}, Value: 1}}}
}

// pages expects exactly the named alerts to be firing at at among the
// critical ones that are not an objective's burn (those ServiceDown mutes
// during an outage): what reaches the pager, whatever the warnings.
func pages(t target, at time.Duration, names ...string) spec.Query {
	q := spec.Query{At: at, Expr: `group by (alertname) (ALERTS{alertstate="firing",severity="critical",slo=""})`}
	for _, n := range names {
		if t.has(n) {
			q.Samples = append(q.Samples, spec.Sample{Labels: map[string]string{"alertname": n}, Value: 1})
		}
	}
	return q
}
