package analysis

import (
	"math"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// TestRangeOf pins the values an expression can take.
func TestRangeOf(t *testing.T) {
	inf := math.Inf(1)
	counter := func(name string) bool { return name == "requests_total" }
	for _, c := range []struct {
		name, expr string
		lo, hi     float64
	}{
		{"up is 0 or 1", `up{job="j"}`, 0, 1},
		{"ALERTS is 1", `ALERTS`, 1, 1},
		{"a counter is never negative", `requests_total`, 0, inf},
		{"a metric not known as a counter is anything", `temperature`, -inf, inf},
		{"a bool comparison is 0 or 1", `temperature > bool 3`, 0, 1},
		{"a filter keeps the left side's values", `up > 0`, 0, 1},
		{"a filter against a scalar on the left keeps the right side's", `0 < up`, 0, 1},
		{"count is at least 1", `count(temperature)`, 1, inf},
		{"count_values is at least 1", `count_values("v", temperature)`, 1, inf},
		{"group is 1", `group by (a) (temperature)`, 1, 1},
		{"sum of non-negatives is non-negative", `sum(rate(requests_total[5m]))`, 0, inf},
		{"stddev is never negative", `stddev(temperature)`, 0, inf},
		{"min keeps its argument's range", `min(up)`, 0, 1},
		{"clamp bounds it", `clamp(temperature, -1, 5)`, -1, 5},
		{"clamp_min raises the floor", `clamp_min(up, 0.5)`, 0.5, 1},
		{"clamp_max lowers the ceiling", `clamp_max(temperature, 5)`, -inf, 5},
		{"abs is never negative", `abs(temperature)`, 0, inf},
		{"sgn is -1, 0 or 1", `sgn(temperature)`, -1, 1},
		{"absent is 1", `absent(up)`, 1, 1},
		{"vector() of a number is that number", `vector(3)`, 3, 3},
		{"negation flips the range", `-up`, -1, 0},
		{"a sum of ranges adds them", `up + up`, 0, 2},
		{"a difference subtracts them", `up - ALERTS`, -1, 0},
		{"a ratio of counters is non-negative", `rate(requests_total[5m]) / rate(requests_total[1h])`, 0, inf},
		{"a part of its sum is at most 1", `rate(requests_total[5m]) / (rate(requests_total[5m]) + rate(requests_total[1h]))`, 0, 1},
		{"or spans both sides", `up or vector(5)`, 0, 5},
		{"unless keeps the left side", `up unless temperature`, 0, 1},
		{"a product of non-negatives multiplies them", `up * 100`, 0, 100},
		{"a product with a negative is anything", `up * -1`, -inf, inf},
		{"rate is never negative", `rate(temperature[5m])`, 0, inf},
		{"quantile_over_time keeps its argument's range", `quantile_over_time(0.9, up[5m])`, 0, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := RangeOf(parse(t, c.expr), counter)
			if got.Lo != c.lo || got.Hi != c.hi {
				t.Errorf("%s: got [%v, %v], want [%v, %v]", c.expr, got.Lo, got.Hi, c.lo, c.hi)
			}
		})
	}
}

// TestComparisons checks Satisfiable and AlwaysTrue against the values
// themselves: for ranges with inclusive ends, whether some or every value
// of a fine sample of the range makes "v op c" true.
func TestComparisons(t *testing.T) {
	ops := map[parser.ItemType]func(v, c float64) bool{
		parser.GTR:  func(v, c float64) bool { return v > c },
		parser.GTE:  func(v, c float64) bool { return v >= c },
		parser.LSS:  func(v, c float64) bool { return v < c },
		parser.LTE:  func(v, c float64) bool { return v <= c },
		parser.EQLC: func(v, c float64) bool { return v == c },
		parser.NEQ:  func(v, c float64) bool { return v != c },
	}
	for _, r := range []Range{{0, 1, ""}, {1, 1, ""}, {-1, 0, ""}, {0.5, 2, ""}} {
		for op, holds := range ops {
			for c := -2.0; c <= 3; c += 0.25 {
				some, every := false, true
				for v := r.Lo; v <= r.Hi; v += 0.125 {
					some = some || holds(v, c)
					every = every && holds(v, c)
				}
				if got := Satisfiable(r, op, c); got != some {
					t.Errorf("Satisfiable([%v, %v] %s %v) = %v, want %v", r.Lo, r.Hi, op, c, got, some)
				}
				if got := AlwaysTrue(r, op, c); got != every {
					t.Errorf("AlwaysTrue([%v, %v] %s %v) = %v, want %v", r.Lo, r.Hi, op, c, got, every)
				}
			}
		}
	}
	if !Satisfiable(Range{0, 1, ""}, parser.ADD, 5) || AlwaysTrue(Range{0, 1, ""}, parser.ADD, 5) {
		t.Error("an operator that is no comparison: want satisfiable, never always true")
	}
}
