package lint

import "testing"

func TestRetentionRange(t *testing.T) {
	fifteen, err := ParseConfig("lint.yml", []byte("retention: 15d\noverrides:\n  - paths: [long.yml]\n    retention: 90d\n"))
	if err != nil {
		t.Fatal(err)
	}
	thirtyDays := `groups:
- name: g
  rules:
  - record: service:error_budget:remaining
    expr: 1 - avg_over_time(service:sli_errors:ratio_rate5m[30d])
`
	runCases(t, "retention-range", []lintCase{
		{
			name: "ranges within the retention pass, offset included",
			cfg:  Config{Policy: fifteen},
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: avg_over_time(x[14d]) > 0 or rate(x_total[1d] offset 14d) > 0 or max_over_time(rate(x_total[5m])[15d:1h]) > 0
`,
		},
		{
			name: "a 30-day objective window on a Prometheus that keeps 15 days is an error",
			cfg:  Config{Policy: fifteen},
			in:   thirtyDays,
			want: []string{
				`rules.yml:5: error retention-range: record "service:error_budget:remaining": [30d] reaches back 30d, further than the Prometheus retention of 15d: the oldest samples of the window are gone, so it is computed over part of it; raise the retention or shorten the window`,
			},
		},
		{
			name: "an offset and a subquery count as far as they reach back",
			cfg:  Config{Policy: fifteen},
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: rate(x_total[1d] offset 15d) > 0 or max_over_time(rate(x_total[5m])[16d:1h]) > 0
`,
			want: []string{
				`rules.yml:5: error retention-range: alert "A": [16d] reaches back 16d, further than the Prometheus retention of 15d: the oldest samples of the window are gone, so it is computed over part of it; raise the retention or shorten the window`,
				`rules.yml:5: error retention-range: alert "A": [1d] offset 15d reaches back 16d, further than the Prometheus retention of 15d: the oldest samples of the window are gone, so it is computed over part of it; raise the retention or shorten the window`,
			},
		},
		{
			name: "an override's longer retention holds for its files",
			cfg:  Config{Policy: fifteen},
			in:   "groups: []\n",
			more: map[string]string{"long.yml": thirtyDays},
		},
		{
			name: "without a retention in the config nothing is assumed",
			cfg:  Config{Policy: DefaultPolicy()},
			in:   thirtyDays,
		},
	})
}
