package lint

import "testing"

func TestDuplicateRules(t *testing.T) {
	runCases(t, "duplicate-rules", []lintCase{
		{
			name: "distinct alerts and groups across files pass, and one name may recur in other groups with other expressions",
			in: `groups:
- name: gateway
  rules:
  - alert: ServiceDown
    expr: up{job="gateway"} == 0
  - alert: HighMemoryUsage
    expr: docker_container_memory_usage_ratio > 0.85
`,
			more: map[string]string{"other.yml": `groups:
- name: db
  rules:
  - alert: ServiceDown
    expr: up{job="db"} == 0
`},
		},
		{
			name: "an alert name twice in one group is an error at the second",
			in: `groups:
- name: gateway
  rules:
  - alert: ServiceDown
    expr: up{job="gateway"} == 0
  - alert: ServiceDown
    expr: up{job="gateway"} < 1
`,
			want: []string{`rules.yml:6: error duplicate-rules: alert "ServiceDown": defined twice in group "gateway", first at line 4`},
		},
		{
			name: "the same alert and expression in another file is an error, however it is spaced",
			in: `groups:
- name: gateway
  rules:
  - alert: ServiceDown
    expr: up{job="gateway"}==0
`,
			more: map[string]string{"z.yml": `groups:
- name: copy
  rules:
  - alert: ServiceDown
    expr: (up{job="gateway"} == 0)
`},
			want: []string{`z.yml:4: error duplicate-rules: alert "ServiceDown": the same rule with the same expression is already defined at rules.yml:4`},
		},
		{
			name: "a recording rule defined twice is an error",
			in: `groups:
- name: a
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
- name: b
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
`,
			want: []string{`rules.yml:8: error duplicate-rules: record "job:up:sum": the same rule with the same expression is already defined at rules.yml:4`},
		},
		{
			name: "a group name used in two files is an error",
			in: `groups:
- name: gateway
  rules:
  - alert: ServiceDown
    expr: up{job="gateway"} == 0
`,
			more: map[string]string{"z.yml": `groups:
- name: gateway
  rules:
  - alert: HighMemoryUsage
    expr: docker_container_memory_usage_ratio > 0.85
`},
			want: []string{`z.yml:2: error duplicate-rules: group "gateway" is also defined at rules.yml:2`},
		},
		{
			name: "a group name twice in one file is left to the parse check, as Prometheus refuses the file",
			in: `groups:
- name: gateway
  rules:
  - alert: ServiceDown
    expr: up{job="gateway"} == 0
- name: gateway
  rules:
  - alert: HighMemoryUsage
    expr: docker_container_memory_usage_ratio > 0.85
`,
			want: []string{`rules.yml:6: error parse: groupname: "gateway" is repeated in the same file`},
		},
	})
}
