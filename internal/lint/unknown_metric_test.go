package lint

import "testing"

func TestUnknownMetric(t *testing.T) {
	runCases(t, "unknown-metric", []lintCase{
		{
			name: "catalog metrics and series recorded in any file of the run pass",
			in: `groups:
- name: g
  rules:
  - alert: MemoryHigh
    expr: '{__name__="container_memory_working_set_bytes"} / container_spec_memory_limit_bytes > 0.9 and up == 1'
  - alert: RecordedHigh
    expr: job:memory:ratio > 0.9
`,
			more: map[string]string{"recording.yml": `groups:
- name: r
  rules:
  - record: job:memory:ratio
    expr: max by (job) (docker_container_memory_usage_ratio)
`},
		},
		{
			name: "a name no source publishes is a warning, once per rule",
			in: `groups:
- name: g
  rules:
  - alert: MemoryHigh
    expr: docker_container_memory_ratio > 0.9 or docker_container_memory_ratio{compose_service="db"} > 0.8
`,
			want: []string{`rules.yml:5: warning unknown-metric: alert "MemoryHigh": metric "docker_container_memory_ratio" is not in the catalog, and no rule records it`},
		},
	})
}
