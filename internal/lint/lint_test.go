package lint

import (
	"regexp"
	"testing"
)

func TestParse(t *testing.T) {
	runCases(t, "promql-syntax", []lintCase{
		{
			name: "a YAML syntax error is the parser's message, which names its line, once",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: 'up == 0
    labels: {}
`,
			want: []string{`rules.yml:5: error parse: found unexpected end of stream`},
		},
		{
			name: "documents after the first, which Prometheus ignores, are a warning",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: up == 0
---
groups:
- name: ignored
  rules: []
`,
			want: []string{`rules.yml: warning parse: Multiple document yaml rules files are not supported, only the first document is processed`},
		},
		{
			name: "every unknown field is reported at its own line",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    exp: up == 0
  - alert: Other
    expr: up == 0
    label: {}
`,
			want: []string{
				`rules.yml:5: error parse: field exp not found in type rulefmt.Rule`,
				`rules.yml:8: error parse: field label not found in type rulefmt.Rule`,
			},
		},
		{
			name: "a bad template is reported at its annotation, and the other problems of the file with it",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: up == 0
    annotations:
      summary: '{{ $labels.job '
  - record: job:up
    expr: up{
  - alert: NoExpr
`,
			want: []string{
				`rules.yml:7: error parse: alert "ServiceDown": annotation "summary": template: __alert_ServiceDown:1: unclosed action`,
				`rules.yml:9: error promql-syntax: record "job:up": expression does not parse: 1:4: parse error: unexpected end of input inside braces`,
				`rules.yml:10: error parse: alert "NoExpr": field 'expr' must be set in rule`,
			},
		},
	})
}

func TestProblemString(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Problem
		want string
	}{
		{"a problem reads file:line: severity check: message",
			Problem{Path: "a.yml", Line: 3, Severity: SeverityWarning, Check: "unknown-metric", Message: "m"},
			"a.yml:3: warning unknown-metric: m"},
		{"a problem the parser named no line for leaves the line out",
			Problem{Path: "a.yml", Severity: SeverityError, Check: "parse", Message: "m"},
			"a.yml: error parse: m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHasErrors(t *testing.T) {
	warning := Problem{Severity: SeverityWarning}
	failure := Problem{Severity: SeverityError}
	for _, tc := range []struct {
		name string
		ps   []Problem
		want bool
	}{
		{"no problems are no errors", nil, false},
		{"warnings alone are no errors", []Problem{warning, warning}, false},
		{"one error among warnings is an error", []Problem{warning, failure}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := HasErrors(tc.ps); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckNamesAreUniqueKebabCase(t *testing.T) {
	kebab := regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)
	seen := map[string]bool{"parse": true}
	for _, c := range checks {
		if !kebab.MatchString(c.Name()) || seen[c.Name()] {
			t.Errorf("check name %q is not kebab-case or used twice", c.Name())
		}
		seen[c.Name()] = true
	}
}
