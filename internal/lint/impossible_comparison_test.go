package lint

import "testing"

func TestImpossibleComparison(t *testing.T) {
	runCases(t, "impossible-comparison", []lintCase{
		{
			name: "comparisons that can be true pass",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: up == 0 or up != 1 or count(up == 0) > 2 or rate(x_total[5m]) > 0 or absent(up) == 1
  - alert: Ratio
    expr: sum(rate(e_total[5m])) / (sum(rate(e_total[5m])) + sum(rate(ok_total[5m]))) > 0.05
  - alert: Percent
    expr: 100 * sum(rate(e_total[5m])) / (sum(rate(e_total[5m])) + sum(rate(ok_total[5m]))) > 5
  - alert: Gauge
    expr: temperature < 0
`,
		},
		{
			name: "up above 1, count of nothing at 0, a negative rate, absent at 0 and a bounded ratio above 1 never hold",
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: up > 1
  - alert: B
    expr: count by (job) (up == 1) == 0
  - alert: C
    expr: 0 > increase(x_total[5m])
  - alert: D
    expr: absent(up{job="a"}) == 0
  - alert: E
    expr: sum(rate(e_total[5m])) / (sum(rate(e_total[5m])) + sum(rate(ok_total[5m]))) > 1
  - alert: F
    expr: docker_container_restarts_total < 0
`,
			want: []string{
				`rules.yml:5: error impossible-comparison: alert "A": up > 1 can never be true (up is 0 or 1): the alert never fires`,
				`rules.yml:7: error impossible-comparison: alert "B": count by (job) (up == 1) == 0 can never be true (count() is at least 1: over no series it returns nothing, not 0): the alert never fires`,
				`rules.yml:9: error impossible-comparison: alert "C": increase(x_total[5m]) < 0 can never be true (increase() is never negative): the alert never fires`,
				`rules.yml:11: error impossible-comparison: alert "D": absent(up{job="a"}) == 0 can never be true (absent() is 1 or nothing): the alert never fires`,
				`rules.yml:13: error impossible-comparison: alert "E": sum(rate(e_total[5m])) / (sum(rate(e_total[5m])) + sum(rate(ok_total[5m]))) > 1 can never be true (a/(a+b) of non-negative values is between 0 and 1): the alert never fires`,
				`rules.yml:15: error impossible-comparison: alert "F": docker_container_restarts_total < 0 can never be true (counter docker_container_restarts_total is never negative): the alert never fires`,
			},
		},
	})
}
