package lint

import "testing"

func TestRequiredLabels(t *testing.T) {
	runCases(t, "required-labels", []lintCase{
		{
			name: "an alert with a known severity passes",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: up == 0
    labels:
      severity: critical
`,
		},
		{
			name: "a severity set on the group applies to its alerts",
			in: `groups:
- name: g
  labels:
    severity: info
  rules:
  - alert: ServiceDown
    expr: up == 0
`,
		},
		{
			name: "recording rules need no severity",
			in: `groups:
- name: g
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
`,
		},
		{
			name: "an alert without severity is an error at the alert",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: up == 0
    labels:
      team: sre
`,
			want: []string{`rules.yml:4: error required-labels: alert "ServiceDown": label "severity" is missing; want one of critical, warning, info`},
		},
		{
			name: "a severity outside the set is an error at the label",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: up == 0
    labels:
      team: sre
      severity: page
`,
			want: []string{`rules.yml:8: error required-labels: alert "ServiceDown": label "severity" is "page"; want one of critical, warning, info`},
		},
	})
}
