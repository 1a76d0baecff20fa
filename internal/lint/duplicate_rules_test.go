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
			name: "an alert name twice in one group with other expressions passes, and so do a warning and critical pair",
			in: `groups:
- name: gateway
  rules:
  - alert: ServiceDown
    expr: up{job="gateway"} == 0
  - alert: ServiceDown
    expr: up{job="gateway"} < 1
  - alert: DiskFull
    expr: disk_free_ratio < 0.1
    labels: {severity: warning}
  - alert: DiskFull
    expr: disk_free_ratio < 0.02
    labels: {severity: critical}
`,
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
			want: []string{`z.yml:4: error duplicate-rules: alert "ServiceDown": the same alert, labels and expression are already defined at rules.yml:4`},
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
			want: []string{`rules.yml:8: error duplicate-rules: record "job:up:sum": records the same series with the same expression as rules.yml:4: job:up:sum{}`},
		},
		{
			name: "a recording rule recording the same name and labels with another expression is a warning, as promtool reports it",
			in: `groups:
- name: a
  rules:
  - record: code:requests:increase1h
    expr: sum by (code) (increase(requests_total{verb="GET"}[1h]))
  - record: code:requests:increase1h
    expr: sum by (code) (increase(requests_total{verb="POST"}[1h]))
  - record: code:requests:increase1h
    expr: sum by (code) (increase(requests_total{verb="PUT"}[1h]))
    labels: {verb: put}
`,
			want: []string{`rules.yml:6: warning duplicate-rules: record "code:requests:increase1h": records the same series as rules.yml:4 (code:requests:increase1h{}): where both expressions return a series, one sample is dropped; give each a label that says how they differ`},
		},
		{
			name: "the same alert with other static labels is another alert",
			in: `groups:
- name: a
  labels: {team: a}
  rules:
  - alert: Down
    expr: up == 0
- name: b
  labels: {team: b}
  rules:
  - alert: Down
    expr: up == 0
- name: c
  labels: {team: b}
  rules:
  - alert: Down
    expr: up == 0
`,
			want: []string{`rules.yml:15: error duplicate-rules: alert "Down": the same alert, labels and expression are already defined at rules.yml:10`},
		},
		{
			name: "a group name used in two files passes: Prometheus keys groups by file and name",
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
