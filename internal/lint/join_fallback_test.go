package lint

import "testing"

func TestJoinFallback(t *testing.T) {
	runCases(t, "join-fallback", []lintCase{
		{
			name: "a diagnostic join with an or fallback to its left side passes",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: |
      (
        up{job="inference-gateway"} == 0
      ) * on(job) group_left(reason, exit_code) max by (job, reason, exit_code) (
        label_replace(docker_container_last_termination_info, "job", "$1", "compose_service", "(.*)")
      )
      or on(job) up{job="inference-gateway"} == 0
`,
		},
		{
			name: "joins that add no labels, joins feeding unless and recording rules pass",
			in: `groups:
- name: g
  rules:
  - alert: Down
    expr: (up == 0) * on(job) group_left() max by (job) (up)
  - alert: DownWithoutInfo
    expr: up == 0 unless on(job) (up * on(job) group_left(reason) docker_container_last_termination_info)
  - record: job:termination:info
    expr: up * on(job) group_left(reason) docker_container_last_termination_info
`,
		},
		{
			name: "a group_right join whose fallback offers its right side passes",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: docker_container_last_termination_info * on(job) group_right(reason) (up == 0) or (up == 0)
`,
		},
		{
			name: "a diagnostic join without a fallback is an error at the join",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: |
      max by (job, reason) (
        (up{job="inference-gateway"} == 0) * on(job) group_left(reason, exit_code) docker_container_last_termination_info
      )
`,
			want: []string{`rules.yml:7: error join-fallback: alert "ServiceDown": group_left(reason, exit_code) join yields nothing while the joined series are absent (exporter down, no data yet), so the alert cannot fire; add an "or on(...)" fallback to the left side: up{job="inference-gateway"} == 0`},
		},
		{
			name: "an or whose other side does not offer the unjoined side is no fallback",
			in: `groups:
- name: g
  rules:
  - alert: ServiceDown
    expr: (up == 0) * on(job) group_left(reason) docker_container_last_termination_info or vector(0)
`,
			want: []string{`rules.yml:5: error join-fallback: alert "ServiceDown": group_left(reason) join yields nothing while the joined series are absent (exporter down, no data yet), so the alert cannot fire; add an "or on(...)" fallback to the left side: up == 0`},
		},
		{
			name: "metadata joins from the same target, joins from the same exporter and divisors pass",
			in: `groups:
- name: g
  rules:
  - alert: NodeErrors
    expr: (rate(node_network_receive_errs_total[5m]) > 1) * on (instance) group_left (nodename) node_uname_info
  - alert: OSDDown
    expr: (ceph_osd_up == 0) * on (ceph_daemon) group_left (hostname) ceph_osd_metadata
  - alert: VolumeFull
    expr: kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes < 0.03 and on (instance) group_left (node) kubelet_node_name
  - alert: PodMemory
    expr: sum by (pod) (container_memory_working_set_bytes) / on (pod) group_left (node) max by (pod, node) (kube_pod_info) > 1e9
  - alert: QueueShare
    expr: sum by (queue) (rabbitmq_queue_messages) / on () group_left () (sum(rabbitmq_queue_messages) * on () group_left (cluster) rabbitmq_identity_info) > 0.5
`,
		},
		{
			name: "a join with another exporter's series, as names tell, is a warning",
			in: `groups:
- name: g
  rules:
  - alert: ProbeFailed
    expr: (up{job="api"} == 0) * on (instance) group_left (phase) probe_failed_phase
`,
			want: []string{`rules.yml:5: warning join-fallback: alert "ProbeFailed": group_left(phase) join yields nothing while the joined series are absent (exporter down, no data yet), so the alert cannot fire; add an "or on(...)" fallback to the left side: up{job="api"} == 0`},
		},
	})
}
