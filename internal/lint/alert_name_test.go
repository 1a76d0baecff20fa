package lint

import "testing"

func TestAlertName(t *testing.T) {
	runCases(t, "alert-name", []lintCase{
		{
			name: "CamelCase names with digits and acronyms pass",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: up == 0
  - alert: HTTP5xxErrors
    expr: up == 0
`,
		},
		{
			name: "snake_case and lower-case names are errors",
			in: `groups:
- name: g
  rules:
  - alert: service_down
    expr: up == 0
  - alert: highMemory
    expr: up == 0
`,
			want: []string{
				`rules.yml:4: error alert-name: alert "service_down": name does not match the alert name pattern ^[A-Z][A-Za-z0-9]*$ (CamelCase, like ServiceDown)`,
				`rules.yml:6: error alert-name: alert "highMemory": name does not match the alert name pattern ^[A-Z][A-Za-z0-9]*$ (CamelCase, like ServiceDown)`,
			},
		},
	})
}
