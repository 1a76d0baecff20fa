package lint

import "testing"

func TestPromQLSyntax(t *testing.T) {
	runCases(t, "promql-syntax", []lintCase{
		{
			name: "an expression that parses passes",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: up == 0
`,
		},
		{
			name: "an expression that does not parse is an error at its line",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: up ==
`,
			want: []string{`rules.yml:5: error promql-syntax: alert "ServiceDown": expression does not parse: 1:6: parse error: unexpected end of input`},
		},
		{
			name: "an error in a multi-line expression points at the line it is on",
			in: `groups:
- name: g
  rules:
  - record: job:up:sum
    expr: |
      sum by (job) (
        up{job="x"
      )
`,
			want: []string{`rules.yml:8: error promql-syntax: record "job:up:sum": expression does not parse: 3:1: parse error: unexpected character inside braces: ')'`},
		},
	})
}
