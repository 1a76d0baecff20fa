package generate

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/conventions"
	"github.com/sre-tools/promgen/internal/rulecheck"
	"github.com/sre-tools/promgen/spec"
)

// TestABadRuleFileFailsTheBuildWithRulefmtsMessage: what rulefmt.Parse
// refuses in the bytes of a rule file fails the build, named by path, with
// rulefmt's own message; a valid file passes.
func TestABadRuleFileFailsTheBuildWithRulefmtsMessage(t *testing.T) {
	rc := &rulecheck.Checker{}
	good := "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          summary: '{{ $labels.job }} is down'\n"
	if err := checkRules(rc, "rules/g.rules.yml", decodeRules(t, good), []byte(good)); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(good, "$labels.job }}", "$labels.job ", 1)
	err := checkRules(rc, "rules/g.rules.yml", decodeRules(t, bad), []byte(bad))
	if err == nil {
		t.Fatal("a broken template passed")
	}
	const want = `rules/g.rules.yml: rulefmt rejects the generated rules: [group "g", rule 1, "A": annotation "summary": template: __alert_A:1: function "is" not defined]`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
}

// TestARuleFileItsLoaderCannotReadFailsTheBuild: yaml.v3 writes a text of
// several lines that starts with a tab as a literal block no YAML parser
// reads. Spec validation refuses such a text; should anything else write
// one, the build reads the bytes back and fails, naming the file and
// rulefmt's problem, instead of writing it and saying it succeeded.
func TestARuleFileItsLoaderCannotReadFailsTheBuild(t *testing.T) {
	rg := rulefmt.RuleGroups{Groups: []rulefmt.RuleGroup{{Name: "worker", Rules: []rulefmt.Rule{{
		Alert: "WorkerDown", Expr: "up == 0", Annotations: map[string]string{"description": "\tSee the runbook.\n"},
	}}}}}
	content, err := marshal(rg)
	if err != nil {
		t.Fatal(err)
	}
	err = checkRules(&rulecheck.Checker{}, "rules/worker.rules.yml", rg, content)
	const want = "rules/worker.rules.yml: rulefmt rejects the generated rules: [yaml: line 9: found a tab character where an indentation space is expected"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want %s...\n%s", err, want, content)
	}
}

// TestAFileThatReadsBackAsOtherValuesFailsTheBuild: a file whose loader
// reads other values than were written is an error naming the field.
func TestAFileThatReadsBackAsOtherValuesFailsTheBuild(t *testing.T) {
	want := expAlert{ExpAnnotations: map[string]string{"summary": "\nstarts with a line break"}}
	lossy := func([]byte) (expAlert, error) {
		return expAlert{ExpAnnotations: map[string]string{"summary": "starts with a line break"}}, nil
	}
	err := readBack("tests/a.test.yml", want, nil, lossy)
	const msg = `tests/a.test.yml: reads back as something else: exp_annotations["summary"]: wrote "\nstarts with a line break", read "starts with a line break"`
	if err == nil || err.Error() != msg {
		t.Fatalf("got  %v\nwant %s", err, msg)
	}
	if err := readBack("tests/a.test.yml", want, nil, func([]byte) (expAlert, error) { return want, nil }); err != nil {
		t.Fatal(err)
	}
}

func decodeRules(t *testing.T, content string) rulefmt.RuleGroups {
	t.Helper()
	var rg rulefmt.RuleGroups
	if err := yaml.Unmarshal([]byte(content), &rg); err != nil {
		t.Fatal(err)
	}
	return rg
}

// TestEveryRuleFileDecodesToTheGroupsItWasCheckedAs: the build reads every
// rule file back with rulefmt.Parse and hands what it read to lint, which
// reads those groups instead of the file. This decodes every rule file the
// builders write again, strictly, as Prometheus does, and holds the result
// to the groups the build kept.
func TestEveryRuleFileDecodesToTheGroupsItWasCheckedAs(t *testing.T) {
	rc := &rulecheck.Checker{}
	n := 0
	for _, files := range buildEveryKind(t, rc) {
		for _, p := range files.Paths() {
			if !strings.HasSuffix(p, ".rules.yml") {
				continue
			}
			n++
			decoded, ok := (&rulecheck.Checker{}).Valid(files[p])
			if !ok {
				t.Errorf("%s: Prometheus' strict decoding and checks refuse it", p)
				continue
			}
			checked, ok := rc.Valid(files[p])
			if !ok || checked == decoded {
				t.Fatalf("%s: the build's checker did not keep the groups it checked", p)
			}
			if !reflect.DeepEqual(decoded, checked) {
				t.Errorf("%s decodes to other groups than the build checked:\ndecoded %+v\nchecked %+v", p, *decoded, *checked)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d rule files built", n)
	}
	t.Logf("%d rule files decoded", n)
}

// TestARecordWithAnIntervalOfItsOwnIsEvaluatedInItsServicesSlowGroup: the
// records a service evaluates less often go to a group of their interval,
// after the service's, in the same file, with the service's labels; the
// others and the alerts stay in the service's group, records first.
func TestARecordWithAnIntervalOfItsOwnIsEvaluatedInItsServicesSlowGroup(t *testing.T) {
	up := spec.Metric("up", spec.Eq("job", "api"))
	svc := spec.Service{Name: "api", EvaluationInterval: 30 * time.Second,
		Records: []spec.Record{
			{Name: "service:up:max", Expr: spec.Max(up)},
			{Name: "service:up:avg_3d", Expr: spec.Aggregate(parser.AVG, spec.Call("avg_over_time", spec.Range(up, 72*time.Hour))), Interval: 5 * time.Minute},
			{Name: "service:up:avg_1d", Expr: spec.Aggregate(parser.AVG, spec.Call("avg_over_time", spec.Range(up, 24*time.Hour))), Interval: 2 * time.Minute},
		},
		Alerts: []spec.Alert{{Name: "ApiDown", Expr: spec.Filter(up, spec.OpEq, 0), Severity: spec.Critical}},
	}
	s := spec.Spec{Services: []spec.Service{svc}}
	got := ruleGroups(s, groups(s)[0], &spec.Printer{})
	type shape struct {
		name     string
		interval model.Duration
		rules    []string
	}
	var shapes []shape
	for _, g := range got.Groups {
		if g.Labels[conventions.LabelService] != "api" {
			t.Errorf("group %s: labels %v, want the service's", g.Name, g.Labels)
		}
		sh := shape{name: g.Name, interval: g.Interval}
		for _, r := range g.Rules {
			sh.rules = append(sh.rules, r.Record+r.Alert)
		}
		shapes = append(shapes, sh)
	}
	want := []shape{
		{"api", model.Duration(30 * time.Second), []string{"service:up:max", "ApiDown"}},
		{"api-every-2m", model.Duration(2 * time.Minute), []string{"service:up:avg_1d"}},
		{"api-every-5m", model.Duration(5 * time.Minute), []string{"service:up:avg_3d"}},
	}
	if !reflect.DeepEqual(shapes, want) {
		t.Errorf("got  %+v\nwant %+v", shapes, want)
	}
}
