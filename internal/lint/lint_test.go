package lint

import (
	"testing"
)

func TestParse(t *testing.T) {
	runCases(t, "promql-syntax", []lintCase{
		{
			name: "a YAML syntax error names its line and the parser's message, once",
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
			name: "a bad template is reported at its rule, and the other problems of the file with it",
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
				`rules.yml:4: error parse: group "g", rule 1, "ServiceDown": annotation "summary": template: __alert_ServiceDown:1: unclosed action`,
				`rules.yml:9: error promql-syntax: record "job:up": expression does not parse: 1:4: parse error: unexpected end of input inside braces`,
				`rules.yml:10: error parse: group "g", rule 3, "NoExpr": field 'expr' must be set in rule`,
			},
		},
	})
}
