package lint

import "testing"

func TestVolatileLabels(t *testing.T) {
	runCases(t, "volatile-labels", []lintCase{
		{
			name: "labels from the series' labels and constants pass, and $value in annotations is fine",
			in: `groups:
- name: g
  rules:
  - alert: HighMemoryUsage
    expr: docker_container_memory_usage_ratio > 0.85
    labels:
      severity: warning
      service: '{{ $labels.compose_service }}'
      team: '{{ if eq $labels.compose_service "db" }}data{{ else }}sre{{ end }}'
    annotations:
      description: 'memory at {{ $value | humanizePercentage }}'
`,
		},
		{
			name: "$value, .Value, humanized values, query results and the time in labels are errors",
			in: `groups:
- name: g
  rules:
  - alert: HighMemoryUsage
    expr: docker_container_memory_usage_ratio > 0.85
    labels:
      ratio: '{{ $value }}'
      pretty: '{{ humanizePercentage $value }}'
      raw: '{{ .Value }}'
      restarts: '{{ with query "docker_container_restarts_total" }}{{ . | first | value }}{{ end }}'
      since: '{{ now }}'
      severity: warning
`,
			want: []string{
				`rules.yml:7: error volatile-labels: alert "HighMemoryUsage": label "ratio" uses $value, which changes between evaluations and resets the alert's for timer; put it in an annotation`,
				`rules.yml:8: error volatile-labels: alert "HighMemoryUsage": label "pretty" uses $value, which changes between evaluations and resets the alert's for timer; put it in an annotation`,
				`rules.yml:9: error volatile-labels: alert "HighMemoryUsage": label "raw" uses .Value, which changes between evaluations and resets the alert's for timer; put it in an annotation`,
				`rules.yml:10: error volatile-labels: alert "HighMemoryUsage": label "restarts" uses query(), which changes between evaluations and resets the alert's for timer; put it in an annotation`,
				`rules.yml:11: error volatile-labels: alert "HighMemoryUsage": label "since" uses now(), which changes between evaluations and resets the alert's for timer; put it in an annotation`,
			},
		},
	})
}
