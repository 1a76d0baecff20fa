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

func TestCounterFunctionsWithMetadata(t *testing.T) {
	md := Metadata{
		"ceph_osd_up":   {{Type: "gauge"}},
		"ceph_pg_total": {{Type: "gauge"}},
		"requests":      {{Type: "counter"}},
		"latency":       {{Type: "histogram"}},
	}
	runCases(t, "counter-functions", []lintCase{
		{
			name: "a gauge named _total compared raw, and counters counted or under rate, pass",
			cfg:  Config{Metadata: md},
			in: `groups:
- name: g
  rules:
  - alert: PGs
    expr: ceph_pg_total < 64
  - alert: Cores
    expr: count without (cpu, mode) (node_cpu_seconds_total{mode="idle"}) < 2
  - record: cluster:node_cpu:ratio
    expr: cluster:node_cpu:sum_rate5m / count(sum(node_cpu_seconds_total) BY (instance, cpu))
  - record: node:node_num_cpu:sum
    expr: count by (node) (node_cpu_seconds_total{mode="idle"} * on (pod) group_left (node) kube_pod_info)
  - alert: Latency
    expr: histogram_quantile(0.9, sum by (le) (rate(latency_bucket[5m]))) > 1 and rate(latency_count[5m]) > 0
`,
		},
		{
			name: "metadata makes a foreign gauge under rate an error, and an OpenMetrics counter's _total a counter",
			cfg:  Config{Metadata: md},
			in: `groups:
- name: g
  rules:
  - alert: Flapping
    expr: rate(ceph_osd_up[5m]) > 0
  - alert: Stalled
    expr: delta(requests_total[10m]) == 0
  - alert: Restarts
    expr: latency_count - latency_count offset 1h > 3
`,
			want: []string{
				`rules.yml:5: error counter-functions: alert "Flapping": rate() on "ceph_osd_up", which is a gauge: rate only makes sense on counters; use delta() or deriv() for a gauge's change`,
				`rules.yml:7: warning counter-functions: alert "Stalled": delta() on "requests_total", which is a counter: a restart reads as a huge drop; use rate() or increase()`,
				`rules.yml:9: warning counter-functions: alert "Restarts": "latency_count" minus itself offset: a restart in between reads as a huge drop; use increase(latency_count[...])`,
			},
		},
		{
			name: "without metadata a _total name is only a guess, and a hint",
			in: `groups:
- name: g
  rules:
  - alert: Offline
    expr: minio_cluster_drive_offline_total > 0
`,
			want: []string{`rules.yml:5: info counter-functions: alert "Offline": counter "minio_cluster_drive_offline_total" is read without rate(), irate() or increase(): its raw value only grows and drops to zero when the process restarts (type guessed from the _total suffix; give --metadata or --prometheus to know)`},
		},
	})
}
