package lint

import "testing"

func TestRateAggregation(t *testing.T) {
	runCases(t, "rate-aggregation", []lintCase{
		{
			name: "aggregated rates and rates of recorded rates pass",
			in: `groups:
- name: g
  rules:
  - record: job:x:rate5m
    expr: sum by (job) (rate(x_total[5m]))
  - alert: A
    expr: sum(rate(x_total[5m])) > 0 or max_over_time(job:x:rate5m[10m]) > 1 or rate(topk(1, x_total)[5m:]) > 0
`,
		},
		{
			name: "rate of a summed subquery or of a recorded raw sum is reported",
			in: `groups:
- name: g
  rules:
  - record: job:x:sum
    expr: sum by (job) (x_total)
  - alert: A
    expr: rate(sum by (job) (x_total)[5m:]) > 0
  - alert: B
    expr: increase(job:x:sum[1h]) > 0
`,
			want: []string{
				`rules.yml:7: error rate-aggregation: alert "A": rate() of sum(...) over a subquery: the aggregate hides each series' counter resets, so a restart reads as a huge spike; write sum(rate(...[range]))`,
				`rules.yml:9: warning rate-aggregation: alert "B": increase() of "job:x:sum", which a rule records as sum() of raw values: the sum hides each series' counter resets, so a restart reads as a huge spike; record sum(increase(...)) instead`,
			},
		},
	})
}
