package lint

import "testing"

func TestRequiredAnnotations(t *testing.T) {
	runCases(t, "required-annotations", []lintCase{
		{
			name: "an alert with summary, description and runbook_url passes",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: up == 0
    annotations:
      summary: Service down
      description: '{{ $labels.job }} is down'
      runbook_url: https://example.com/runbooks/service-down
`,
		},
		{
			name: "each missing or blank annotation is an error of its own",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: up == 0
    annotations:
      summary: Service down
      description: '  '
`,
			want: []string{
				`rules.yml:4: error required-annotations: alert "ServiceDown": annotation "description" is missing or empty`,
				`rules.yml:4: error required-annotations: alert "ServiceDown": annotation "runbook_url" is missing or empty`,
			},
		},
	})
}
