package lint

import "testing"

func TestAlertCondition(t *testing.T) {
	runCases(t, "alert-condition", []lintCase{
		{
			name: "comparisons, and, unless, absent, ALERTS, heartbeats and recorded conditions pass",
			in: `groups:
- name: g
  rules:
  - alert: Down
    expr: up == 0
  - alert: Joined
    expr: sum by (job) (rate(errors_total[5m])) * on (job) group_left () (up == 1) > 0
  - alert: Unless
    expr: up unless on (job) maintenance
  - alert: Missing
    expr: absent(up{job="api"})
  - alert: Meta
    expr: count(ALERTS{alertstate="firing"})
  - alert: Watchdog
    expr: vector(1)
  - record: job:errors:burning
    expr: sum by (job) (rate(errors_total[5m])) > 1
  - alert: Burning
    expr: job:errors:burning
`,
		},
		{
			name: "an aggregate or function without a condition is an error, a bare selector a warning",
			in: `groups:
- name: g
  rules:
  - alert: Invalid
    expr: sum by (pod) (endpoint_state{state="invalid"})
  - alert: Present
    expr: pg_index_invalid
`,
			want: []string{
				`rules.yml:5: error alert-condition: alert "Invalid": the expression has no condition that can be false: every series it returns fires, all the time; compare it with a threshold (for a heartbeat such as Watchdog, write vector(1))`,
				`rules.yml:7: warning alert-condition: alert "Present": the expression has no condition: every series it returns fires; compare it with a threshold unless the series exists only while something is wrong`,
			},
		},
		{
			name: "a bool comparison and an always-true comparison are no condition",
			in: `groups:
- name: g
  rules:
  - alert: Bool
    expr: |
      rate(errors_total[5m])
        > bool 1
  - alert: Always
    expr: rate(errors_total[5m]) >= 0 or up < 2
`,
			want: []string{
				`rules.yml:6: error alert-condition: alert "Bool": the comparison has bool, which returns 0 or 1 for every series instead of filtering: the alert fires for every series all the time; drop bool`,
				`rules.yml:9: error alert-condition: alert "Always": the expression has no condition that can be false: every series it returns fires, all the time; compare it with a threshold (for a heartbeat such as Watchdog, write vector(1))`,
			},
		},
	})
}
