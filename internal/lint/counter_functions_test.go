package lint

import "testing"

func TestCounterFunctions(t *testing.T) {
	runCases(t, "counter-functions", []lintCase{
		{
			name: "counters under rate, increase, absent and count pass",
			in: `groups:
- name: g
  rules:
  - alert: ContainerExits
    expr: sum by (compose_service) (rate(docker_container_exits_total[5m])) > 0
  - alert: SourceErrors
    expr: increase(gateway_exporter_source_errors_total[10m:1m]) > 0 or absent(gateway_exporter_source_errors_total)
  - alert: EventsSeen
    expr: count(gateway_exporter_events_total) > 0
  - alert: OOMEvents
    expr: up == 0 unless on(job) my_oom_total
`,
		},
		{
			name: "a recording rule may copy a counter as it is",
			in: `groups:
- name: g
  rules:
  - record: exits_total
    expr: docker_container_exits_total
`,
		},
		{
			name: "a catalog gauge under rate or increase is an error",
			in: `groups:
- name: g
  rules:
  - alert: Flapping
    expr: rate(up[5m]) > 0
  - alert: CrashLoop
    expr: |
      increase(
        docker_container_last_exit_code[15m]
      ) > 3
`,
			want: []string{
				`rules.yml:5: error counter-functions: alert "Flapping": rate() on "up", which is a gauge: rate only makes sense on counters; use delta() or deriv() for a gauge's change`,
				`rules.yml:9: error counter-functions: alert "CrashLoop": increase() on "docker_container_last_exit_code", which is a gauge: increase only makes sense on counters; use delta() or deriv() for a gauge's change`,
			},
		},
		{
			name: "a counter compared, summed or under delta is a warning",
			in: `groups:
- name: g
  rules:
  - alert: ManyExits
    expr: docker_container_exits_total > 3
  - alert: ManyEvents
    expr: sum(gateway_exporter_events_total) > 100
  - alert: ManyErrors
    expr: delta(requests_failed_total[5m]) > 0
  - alert: RawCounter
    expr: (docker_container_exits_total or gateway_exporter_events_total)
`,
			want: []string{
				`rules.yml:5: warning counter-functions: alert "ManyExits": counter "docker_container_exits_total" is read without rate(), irate() or increase(): its raw value only grows and drops to zero when the process restarts`,
				`rules.yml:7: warning counter-functions: alert "ManyEvents": counter "gateway_exporter_events_total" is read without rate(), irate() or increase(): its raw value only grows and drops to zero when the process restarts`,
				`rules.yml:9: info counter-functions: alert "ManyErrors": delta() on "requests_failed_total", which is a counter: a restart reads as a huge drop; use rate() or increase() (type guessed from the _total suffix; give --metadata or --prometheus to know)`,
				`rules.yml:11: warning counter-functions: alert "RawCounter": counter "docker_container_exits_total" is read without rate(), irate() or increase(): its raw value only grows and drops to zero when the process restarts`,
				`rules.yml:11: warning counter-functions: alert "RawCounter": counter "gateway_exporter_events_total" is read without rate(), irate() or increase(): its raw value only grows and drops to zero when the process restarts`,
			},
		},
	})
}
