package lint

import "testing"

func TestRateRange(t *testing.T) {
	thirty, err := ParseConfig("lint.yml", []byte("scrape_interval: 30s\n"))
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, "rate-range", []lintCase{
		{
			name: "ranges of two scrape intervals or more pass, and *_over_time needs one sample",
			cfg:  Config{Policy: thirty},
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: rate(x_total[1m]) > 0 or increase(x_total[5m]) > 0 or max_over_time(y[30s]) > 0
`,
		},
		{
			name: "a shorter range is an error at the configured interval",
			cfg:  Config{Policy: thirty},
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: rate(x_total[45s]) > 0 or deriv(y[30s]) > 0
`,
			want: []string{
				`rules.yml:5: error rate-range: alert "A": deriv() over [30s] holds fewer than two samples at a scrape interval of 30s, so it returns nothing or flaps; use at least [2m]`,
				`rules.yml:5: error rate-range: alert "A": rate() over [45s] holds fewer than two samples at a scrape interval of 30s, so it returns nothing or flaps; use at least [2m]`,
			},
		},
		{
			name: "without a configured interval, Prometheus' default 1m is assumed and it is only a hint",
			cfg:  Config{Policy: DefaultPolicy()},
			in: `groups:
- name: g
  rules:
  - alert: A
    expr: rate(x_total[1m]) > 0 or rate(x_total[2m]) > 0
`,
			want: []string{
				`rules.yml:5: info rate-range: alert "A": rate() over [1m] holds fewer than two samples at a scrape interval of 1m (Prometheus' default, assumed: set scrape_interval in the lint config), so it returns nothing or flaps; use at least [4m]`,
			},
		},
	})
}
