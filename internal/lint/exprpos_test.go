package lint

import "testing"

// The lines of problems inside expressions, however YAML writes them:
// rate(up[5m]) is an error of counter-functions at the line of "up".
func TestExpressionLines(t *testing.T) {
	runCases(t, "counter-functions", []lintCase{
		{
			name: "a literal block points at the line of the selector",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: |
      sum(
        rate(up[5m])
      ) > 0
`,
			want: []string{`rules.yml:7: error counter-functions: alert "A": rate() on "up", which is a gauge: rate only makes sense on counters; use delta() or deriv() for a gauge's change`},
		},
		{
			name: "a folded block points at the line of the selector",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: >
      sum(
        rate(
          up[5m])
      ) > 0
`,
			want: []string{`rules.yml:8: error counter-functions: alert "A": rate() on "up", which is a gauge: rate only makes sense on counters; use delta() or deriv() for a gauge's change`},
		},
		{
			name: "a plain scalar over several lines points at the line of the selector",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: sum(
      rate(up[5m])) > 0
`,
			want: []string{`rules.yml:6: error counter-functions: alert "A": rate() on "up", which is a gauge: rate only makes sense on counters; use delta() or deriv() for a gauge's change`},
		},
		{
			name: "a double-quoted scalar with escapes and folds points at the line of the selector",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: "sum by (job) (\n  foo{job=\"a\"}\n) > 0 or
      rate(up{job=\"b\"}[5m]) > 0"
`,
			want: []string{`rules.yml:6: error counter-functions: alert "A": rate() on "up", which is a gauge: rate only makes sense on counters; use delta() or deriv() for a gauge's change`},
		},
		{
			name: "a single-quoted scalar with doubled quotes points at the line of the selector",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: 'foo{job=''a''} > 0
      or

      rate(up[5m]) > 0'
`,
			want: []string{`rules.yml:8: error counter-functions: alert "A": rate() on "up", which is a gauge: rate only makes sense on counters; use delta() or deriv() for a gauge's change`},
		},
	})
}
