package lint

import "testing"

func TestHealthcheck(t *testing.T) {
	cfg := Config{Services: []Service{
		{Name: "inference-gateway", Job: "inference-gateway", Healthcheck: true},
		{Name: "worker", Job: "worker-metrics"},
	}}
	runCases(t, "healthcheck", []lintCase{
		{
			name: "a health alert on a service with a healthcheck passes",
			cfg:  cfg,
			in: `groups:
- name: g
  rules:
  - alert: ContainerUnhealthy
    expr: docker_container_health_status{compose_service="inference-gateway", status="unhealthy"} == 1
`,
		},
		{
			name: "alerts on a service without a healthcheck pass when they do not read the health status",
			cfg:  cfg,
			in: `groups:
- name: g
  rules:
  - alert: WorkerDown
    expr: up{job="worker-metrics"} == 0
`,
		},
		{
			name: "a health alert on a service without a healthcheck is an error, found by compose_service or service label",
			cfg:  cfg,
			in: `groups:
- name: g
  rules:
  - alert: WorkerUnhealthy
    expr: docker_container_health_status{compose_service="worker", status="unhealthy"} == 1
  - alert: WorkerNotHealthy
    expr: max(docker_container_health_status{status!="healthy"}) == 1
    labels:
      service: worker
`,
			want: []string{
				`rules.yml:4: error healthcheck: alert "WorkerUnhealthy": alerts on the health status of service "worker", whose container has no healthcheck: docker_container_health_status is absent and the alert never fires; give the service a healthcheck`,
				`rules.yml:6: error healthcheck: alert "WorkerNotHealthy": alerts on the health status of service "worker", whose container has no healthcheck: docker_container_health_status is absent and the alert never fires; give the service a healthcheck`,
			},
		},
	})
}
