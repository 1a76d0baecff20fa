package rulecheck

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
)

// TestValidAgreesWithRulefmt holds Valid to rulefmt.Parse, which
// Prometheus loads rule files with: what one rejects the other rejects, and
// what one accepts the other accepts. One checker runs every case, in
// order, so a template it remembered from a good file cannot let a bad one
// through.
func TestValidAgreesWithRulefmt(t *testing.T) {
	rule := func(body string) string {
		return "groups:\n  - name: g\n    rules:\n" + body
	}
	alert := func(extra string) string {
		return rule("      - alert: A\n        expr: up == 0\n" + extra)
	}
	cases := []struct {
		name, file, problem string // problem: part of rulefmt's message; "" when valid
	}{
		{"an alert with templates is valid", alert("        labels:\n          severity: page\n        annotations:\n          summary: '{{ $labels.job }} is down'\n"), ""},
		{"the same templates again are valid", alert("        annotations:\n          summary: '{{ $labels.job }} is down'\n"), ""},
		{"a recording rule is valid", rule("      - record: job:up:sum\n        expr: sum by (job) (up)\n        labels:\n          team: a\n"), ""},
		{"a broken annotation template is refused", alert("        annotations:\n          summary: '{{ $labels.job '\n"), "annotation \"summary\""},
		{"a broken label template is refused", alert("        labels:\n          x: '{{ end }}'\n"), "label \"x\""},
		{"an undefined template function is refused", alert("        annotations:\n          summary: '{{ nosuchfunc }}'\n"), "nosuchfunc"},
		{"an expression that does not parse is refused", rule("      - alert: A\n        expr: up ==\n"), "could not parse expression"},
		{"a rule without expression is refused", rule("      - alert: A\n"), "field 'expr' must be set"},
		{"a rule both alert and record is refused", rule("      - alert: A\n        record: r\n        expr: up\n"), "only one of 'record' and 'alert'"},
		{"a recording rule with annotations is refused", rule("      - record: r\n        expr: up\n        annotations:\n          a: b\n"), "invalid field 'annotations'"},
		{"a recording rule with for is refused", rule("      - record: r\n        expr: up\n        for: 1m\n"), "invalid field 'for'"},
		{"a record name with braces is refused", rule("      - record: r{a}\n        expr: up\n"), "braces present"},
		{"a rule labelled __name__ is refused", alert("        labels:\n          __name__: x\n"), "invalid label name"},
		{"a group labelled __name__ is refused", "groups:\n  - name: g\n    labels:\n      __name__: x\n    rules:\n      - alert: A\n        expr: up\n", "invalid label name"},
		{"a group without name is refused", "groups:\n  - rules:\n      - alert: A\n        expr: up\n", "Groupname must not be empty"},
		{"a group name twice is refused", "groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n", "is repeated"},
		{"an unknown field is refused", alert("        labelz:\n          a: b\n"), "field labelz not found"},
		{"a file that is not YAML is refused", "groups: [\n", "did not find expected node content"},
	}
	rc := &Checker{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, upstream := rulefmt.Parse([]byte(c.file), false, model.UTF8Validation, Parser, slog.New(slog.DiscardHandler))
			_, ok := rc.Valid([]byte(c.file))
			switch {
			case c.problem == "" && (!ok || len(upstream) > 0):
				t.Fatalf("Valid: %v; rulefmt: %v; want both to accept it", ok, upstream)
			case c.problem != "" && len(upstream) == 0:
				t.Fatalf("rulefmt accepts it: the case is wrong")
			case c.problem != "" && ok:
				t.Fatalf("accepted, but rulefmt rejects it: %v", upstream)
			case c.problem != "" && !strings.Contains(fmt.Sprint(upstream), c.problem):
				t.Errorf("rulefmt says %v, not %q: the case is wrong", upstream, c.problem)
			}
		})
	}
}

// TestValidDecodesAFileOnce: the build and lint share a Checker, and a file
// the build accepted is handed to lint without being decoded again; a file
// it rejected is rejected again.
func TestValidDecodesAFileOnce(t *testing.T) {
	c := &Checker{}
	good := []byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n")
	first, ok := c.Valid(good)
	if !ok {
		t.Fatal("a valid file was rejected")
	}
	again, ok := c.Valid(append([]byte(nil), good...))
	if !ok || again != first {
		t.Errorf("the same content was decoded again (%p, then %p)", first, again)
	}
	bad := []byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up ==\n")
	for range 2 {
		if _, ok := c.Valid(bad); ok {
			t.Fatal("an invalid expression was accepted")
		}
	}
}

// TestAcceptKeepsTheGroups: a generator that read its file with
// rulefmt.Parse hands over what it read, and Valid answers for the file
// with those groups, without decoding it again.
func TestAcceptKeepsTheGroups(t *testing.T) {
	c := &Checker{}
	good := &rulefmt.RuleGroups{Groups: []rulefmt.RuleGroup{{Name: "g", Rules: []rulefmt.Rule{
		{Alert: "A", Expr: "up == 0", Annotations: map[string]string{"summary": "{{ $labels.job }} is down"}},
	}}}}
	content := []byte("the file good was read from")
	c.Accept(content, good)
	if got, ok := c.Valid(content); !ok || got != good {
		t.Errorf("Valid decoded the content again (%v, %p) instead of answering with the groups (%p)", ok, got, good)
	}
}

// TestParseExprOncePerText: the build, lint and the dashboards parse the
// same expressions; each text is parsed once, an invalid one every time.
func TestParseExprOncePerText(t *testing.T) {
	c := &Checker{}
	first, err := c.ParseExpr(`sum by (job) (up{job="a"})`)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Parser().ParseExpr(`sum by (job) (up{job="a"})`)
	if err != nil || again != first {
		t.Errorf("parsed again: %p, then %p (%v)", first, again, err)
	}
	other, err := c.ParseExpr(`sum by (job) (up{job="b"})`)
	if err != nil || other == first {
		t.Errorf("another text got the first tree (%v)", err)
	}
	for range 2 {
		if _, err := c.ParseExpr("up =="); err == nil {
			t.Fatal("an invalid expression parsed")
		}
	}
}
