package lint

import "testing"

func TestSuppressionComments(t *testing.T) {
	runCases(t, "impossible-comparison", []lintCase{
		{
			name: "a comment above a rule turns the check off for that rule only, even one of two with its name",
			in: `groups:
- name: g
  rules:
  # promgen-lint disable impossible-comparison
  - alert: A
    expr: up > 1
    labels: {severity: warning}
  - alert: A
    expr: up > 2
    labels: {severity: critical}
`,
			want: []string{`rules.yml:9: error impossible-comparison: alert "A": up > 2 can never be true (up is 0 or 1): the alert never fires`},
		},
		{
			name: "a PromQL comment inside the expression works the same",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: |
      # promgen-lint disable impossible-comparison, rate-range
      up > 1
`,
		},
		{
			name: "a comment inside a rule's expression is about that rule, not the next",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: |
      # promgen-lint disable impossible-comparison
      up > 1
  - alert: B
    expr: up > 2
`,
			want: []string{`rules.yml:9: error impossible-comparison: alert "B": up > 2 can never be true (up is 0 or 1): the alert never fires`},
		},
		{
			name: "file/disable turns it off for the whole file, all for every check",
			in: `# promgen-lint file/disable all
groups:
- name: g
  rules:
  - alert: A
    expr: up > 1
`,
		},
		{
			name: "a comment for another check leaves this one on",
			in: `groups:
- name: g
  rules:
  # promgen-lint disable rate-range
  - alert: A
    expr: up > 1
`,
			want: []string{`rules.yml:6: error impossible-comparison: alert "A": up > 1 can never be true (up is 0 or 1): the alert never fires`},
		},
		{
			name: "a comment in one PrometheusRule of a manifest does not reach into another",
			in: `kind: PrometheusRule
metadata: {name: a}
spec:
  groups:
  - name: a
    rules:
    - alert: A
      expr: up > 1
---
kind: PrometheusRule
metadata: {name: b}
spec:
  groups:
  - name: b
    rules:
    # promgen-lint disable impossible-comparison
    - alert: B
      expr: up > 1
`,
			want: []string{`rules.yml:8: error impossible-comparison: alert "A": up > 1 can never be true (up is 0 or 1): the alert never fires`},
		},
	})
}
