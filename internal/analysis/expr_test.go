package analysis

import (
	"slices"
	"testing"
)

// TestSelected pins which values of a label an expression selects targets'
// series by: the build's scrape checks and join proof (spec, generate) and
// lint's service checks all ask it.
func TestSelected(t *testing.T) {
	for _, c := range []struct {
		name, expr string
		want       []string
	}{
		{"an equality matcher selects its value", `up{job="a"} == 0`, []string{"a"}},
		{"every selector counts, in source order, each value once", `rate(x{job="b"}[5m]) / on() y{job="a"} + z{job="b"}`, []string{"b", "a"}},
		{"a regexp or a negation selects no one value", `up{job=~"a"} + up{job!="b"}`, nil},
		{"ALERTS carries the job of the alerts, not of a target", `ALERTS{job="a"} or ALERTS_FOR_STATE{job="b"}`, nil},
		{"ALERTS written as a __name__ matcher is ALERTS too", `{__name__="ALERTS", job="a"}`, nil},
		{"a selector inside a subquery or function counts", `max_over_time(absent(up{job="a"})[5m:])`, []string{"a"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Selected(parse(t, c.expr), "job"); !slices.Equal(got, c.want) {
				t.Errorf("%s: got %q, want %q", c.expr, got, c.want)
			}
		})
	}
	if got := Selected(nil, "job"); got != nil {
		t.Errorf("nil: got %q", got)
	}
}
