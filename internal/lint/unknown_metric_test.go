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
		{
			name: "Prometheus' own series are known",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: up == 0 or scrape_samples_scraped == 0 or ALERTS_FOR_STATE > 0 or count(ALERTS) > 10 or scrape_body_size_bytes > 1e6
`,
		},
	})
}

func TestUnknownMetricNeedsASource(t *testing.T) {
	in := `groups:
- name: g
  rules:
  - alert: A
    expr: kube_pod_info > 1 or node_load1 > 1
`
	for _, tc := range []struct {
		name string
		cfg  Config
		want int
	}{
		{"without a metric source beyond the catalog it is off", Config{}, 0},
		{"with metadata it is on, and knows what the metadata knows", Config{Metadata: Metadata{"node_load1": {{Type: "gauge"}}}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			for _, p := range Lint([]File{{Path: "rules.yml", Content: []byte(in)}}, tc.cfg) {
				if p.Check == "unknown-metric" {
					n++
				}
			}
			if n != tc.want {
				t.Errorf("got %d unknown-metric findings, want %d", n, tc.want)
			}
		})
	}
}
