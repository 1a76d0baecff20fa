package lint

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/sre-tools/promgen/internal/rulecheck"
)

// TestParseProblemLines pins the line of every kind of problem rulefmt
// finds, in a plain rule file and in the same groups inside a
// PrometheusRule manifest, where each line is 5 further down.
func TestParseProblemLines(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string // "line: check: message"
		// manifest is what the manifest form says where it differs: the
		// Operator's types decode it first. "" wants no problem.
		manifest []string
	}{
		{
			name: "an expression that does not parse is at its line",
			in:   "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: |\n      up\n      == \n",
			want: []string{`7: promql-syntax: alert "A": expression does not parse: 3:1: parse error: unexpected end of input`},
		},
		{
			name:     "an unknown field of a rule is at its key",
			in:       "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    foo: 1\n",
			want:     []string{`6: parse: field foo not found in type rulefmt.Rule`},
			manifest: []string{`6: parse: error unmarshaling JSON: while decoding JSON: json: unknown field "foo"`},
		},
		{
			name:     "an unknown field of a group is at its key",
			in:       "groups:\n- name: g\n  bar: x\n  rules:\n  - alert: A\n    expr: up == 0\n",
			want:     []string{`3: parse: field bar not found in type rulefmt.RuleGroup`},
			manifest: []string{`3: parse: error unmarshaling JSON: while decoding JSON: json: unknown field "bar"`},
		},
		{
			name:     "Thanos' partial_response_strategy is no field of Prometheus, but the Operator's",
			in:       "groups:\n- name: g\n  partial_response_strategy: warn\n  rules:\n  - alert: A\n    expr: up == 0\n",
			want:     []string{`3: parse: field partial_response_strategy not found in type rulefmt.RuleGroup`},
			manifest: []string{""},
		},
		{
			name: "a group name used twice is at the second group's name",
			in:   "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n- name: h\n  rules: []\n- name: g\n  rules: []\n",
			want: []string{`8: parse: groupname: "g" is repeated in the same file`},
		},
		{
			name: "a group without a name is at the group",
			in:   "groups:\n- name: g\n  rules: []\n- rules:\n  - alert: A\n    expr: up == 0\n",
			want: []string{`4: parse: Groupname must not be empty`},
		},
		{
			name: "each of several group problems is at its own group",
			in:   "groups:\n- name: g\n  rules: []\n- rules: []\n- name: g\n  rules: []\n- rules: []\n",
			want: []string{
				`4: parse: Groupname must not be empty`,
				`5: parse: groupname: "g" is repeated in the same file`,
				`7: parse: Groupname must not be empty`,
				`7: parse: groupname: "" is repeated in the same file`,
			},
		},
		{
			name: "a rule's problem in the second group of a repeated name is in that group",
			in:   "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n- name: g\n  rules:\n  - alert: B\n    expr: up == 0\n    annotations:\n      s: '{{ .Foo'\n",
			want: []string{
				`6: parse: groupname: "g" is repeated in the same file`,
				`11: parse: alert "B": annotation "s": template: __alert_B:1: unclosed action`,
			},
		},
		{
			name: "a rule without alert or record is at the rule",
			in:   "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n  - expr: up == 0\n    labels: {a: b}\n",
			want: []string{`6: parse: rule 2 of group "g": one of 'record' or 'alert' must be set`},
		},
		{
			name: "a template that does not parse is at its annotation",
			in:   "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    annotations:\n      fine: '{{ $labels.x }}'\n      broken: '{{ .Foo'\n",
			want: []string{`8: parse: alert "A": annotation "broken": template: __alert_A:1: unclosed action`},
		},
		{
			name: "annotations on a recording rule are at their key",
			in:   "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n    labels: {x: y}\n    annotations:\n      a: b\n      c: d\n",
			want: []string{`7: parse: record "a": invalid field 'annotations' in recording rule`},
		},
		{
			name: "a for that is no duration is at its key, and so is every other",
			in:   "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 5x\n  - alert: B\n    expr: up == 0\n    keep_firing_for: 1y2\n",
			want: []string{
				`6: parse: unknown unit "x" in duration "5x"`,
				`9: parse: not a valid duration string: "1y2"`,
			},
		},
	} {
		manifest := "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: m\nspec:\n" +
			strings.TrimSuffix(indent(tc.in, "  "), "  ")
		for _, form := range []struct {
			name, content string
			shift         int
			want          []string
		}{{"plain file", tc.in, 0, tc.want}, {"manifest", manifest, 5, tc.want}} {
			if form.shift > 0 && tc.manifest != nil {
				form.want = tc.manifest
			}
			t.Run(form.name+"/"+tc.name, func(t *testing.T) {
				var got, want []string
				for _, p := range Lint([]File{{Path: "rules.yml", Content: []byte(form.content)}}, Config{}) {
					if p.Check == "parse" || p.Check == "promql-syntax" {
						got = append(got, fmt.Sprintf("%d: %s: %s", p.Line, p.Check, p.Message))
					}
				}
				for _, w := range form.want {
					if w == "" {
						continue
					}
					line, rest, _ := strings.Cut(w, ": ")
					var n int
					fmt.Sscan(line, &n)
					want = append(want, fmt.Sprintf("%d: %s", n+form.shift, rest))
				}
				if !slices.Equal(got, want) {
					t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
				}
			})
		}
	}
}

func indent(s, by string) string {
	return by + strings.ReplaceAll(s, "\n", "\n"+by)
}

// TestParseProblemLinesIgnoreWording hands the locator a rulefmt error that
// says nothing at all: its line comes from the group and rule it names and
// the file's YAML nodes, never from the error's text.
func TestParseProblemLinesIgnoreWording(t *testing.T) {
	src := "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n  - alert: B\n    expr: up == 0\n"
	rfs, ps := parseFile(File{Path: "r.yml", Content: []byte(src)}, &rulecheck.Checker{})
	if len(rfs) != 1 || len(ps) != 0 {
		t.Fatal(rfs, ps)
	}
	silent := &rulefmt.Error{Group: "g", Rule: 2, RuleName: "B"}
	if silent.Error() != "" {
		t.Fatalf("the planted error says %q", silent.Error())
	}
	got := rfs[0].problems([]error{silent})
	if len(got) != 1 || got[0].Line != 6 {
		t.Errorf("got %+v, want one problem at line 6", got)
	}
}

// TestGroupProblemLinesIgnoreWording hands the locator group errors in
// words rulefmt never used: each is placed by the order rulefmt reports
// group errors in, at the group whose prefix of the file brings it.
func TestGroupProblemLinesIgnoreWording(t *testing.T) {
	src := "groups:\n- rules: []\n- name: g\n  rules: []\n- rules: []\n"
	rfs, _ := parseFile(File{Path: "r.yml", Content: []byte(src)}, &rulecheck.Checker{})
	if len(rfs) != 1 {
		t.Fatal(rfs)
	}
	var got []int
	for _, p := range rfs[0].groupProblems([]error{errors.New("a"), errors.New("b"), errors.New("c")}) {
		got = append(got, p.Line)
	}
	if want := []int{2, 5, 5}; !slices.Equal(got, want) {
		t.Errorf("got lines %v, want %v", got, want)
	}
}
