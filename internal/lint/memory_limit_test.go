package lint

import "testing"

// services is a spec where only the gateway has a memory limit.
var services = Config{Services: []Service{
	{Name: "inference-gateway", Job: "inference-gateway", MemoryLimitBytes: 4 << 30},
	{Name: "worker", Job: "worker-metrics"},
}}

func TestMemoryLimit(t *testing.T) {
	runCases(t, "memory-limit", []lintCase{
		{
			name: "memory ratio alerts on a service with a limit pass",
			cfg:  services,
			in: `groups:
- name: g
  rules:
  - alert: HighMemoryUsage
    expr: docker_container_memory_usage_ratio{compose_service="inference-gateway"} > 0.85
  - alert: CriticalMemoryUsage
    expr: container_memory_working_set_bytes{job="inference-gateway"} / container_spec_memory_limit_bytes{job="inference-gateway"} > 0.95
`,
		},
		{
			name: "memory alerts that are not ratios need no limit",
			cfg:  services,
			in: `groups:
- name: g
  rules:
  - alert: WorkerMemoryHigh
    expr: docker_container_memory_working_set_bytes{compose_service="worker"} > 1e9
`,
		},
		{
			name: "a ratio alert on a service without a limit is an error, found by compose_service, job or service label",
			cfg:  services,
			in: `groups:
- name: g
  rules:
  - alert: WorkerMemoryHigh
    expr: docker_container_memory_usage_ratio{compose_service="worker"} > 0.85
  - alert: WorkerMemoryCritical
    expr: container_memory_working_set_bytes{job="worker-metrics"} / container_spec_memory_limit_bytes > 0.95
  - alert: WorkerWorkingSetHigh
    expr: max(docker_container_memory_working_set_bytes / docker_container_memory_limit_bytes) > 0.9
    labels:
      service: worker
`,
			want: []string{
				`rules.yml:4: error memory-limit: alert "WorkerMemoryHigh": alerts on the memory ratio of service "worker", which has no memory limit: the ratio is absent or meaningless; set a memory limit for the service`,
				`rules.yml:6: error memory-limit: alert "WorkerMemoryCritical": alerts on the memory ratio of service "worker", which has no memory limit: the ratio is absent or meaningless; set a memory limit for the service`,
				`rules.yml:8: error memory-limit: alert "WorkerWorkingSetHigh": alerts on the memory ratio of service "worker", which has no memory limit: the ratio is absent or meaningless; set a memory limit for the service`,
			},
		},
	})
}
