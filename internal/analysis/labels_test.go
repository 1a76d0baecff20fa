package analysis

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

func parse(t *testing.T, expr string) parser.Expr {
	t.Helper()
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return e
}

// probe is the label names the table asks about.
var probe = []string{"a", "b", "c", "d", "job", "le", "v"}

// TestLabelsOf pins what each expression's result series carry. Cases
// marked "was:" are where the build's join proof (generate/joins.go) and
// lint's walker (lint/labelset.go) answered differently before this
// package replaced both.
func TestLabelsOf(t *testing.T) {
	for _, c := range []struct {
		name, expr string
		scalar     bool
		possible   string // "*" when unbounded
		sure       string
		gone       string // of probe
		absent     bool
	}{
		{name: "a selector keeps every label and is sure of its equality matchers", expr: `x{job="j", a=~"1", b=""}`, possible: "*", sure: "job"},
		{name: "sum by keeps only its grouping", expr: `sum by (a) (x{job="j"})`, possible: "a", gone: "b c d job le v"},
		{name: "sum by keeps what was sure", expr: `sum by (job) (x{job="j"})`, possible: "job", sure: "job", gone: "a b c d le v"},
		{name: "sum without removes its grouping", expr: `sum without (a, job) (x{job="j"})`, possible: "*", gone: "a job"},
		{name: "count_values adds its label (was: join proof dropped it)", expr: `count_values("v", x)`, possible: "v", sure: "v", gone: "a b c d job le"},
		{name: "count_values by keeps grouping and adds its label (was: join proof dropped it)", expr: `count_values by (a) ("v", x)`, possible: "a v", sure: "v", gone: "b c d job le"},
		{name: "histogram_quantile drops le (was: join proof kept it)", expr: `histogram_quantile(0.9, sum by (le, a) (rate(x[5m])))`, possible: "a", gone: "b c d job le v"},
		{name: "vector() has no labels (was: a scalar to the join proof)", expr: `vector(1)`, possible: "", gone: "a b c d job le v"},
		{name: "or vector() may lack every label but keeps none sure (was: join proof ignored the vector side)", expr: `x{job="j"} or vector(0)`, possible: "*"},
		{name: "scalar() is no vector (was: the join proof kept its argument's labels)", expr: `scalar(x)`, scalar: true},
		{name: "time() is no vector", expr: `time()`, scalar: true},
		{name: "absent() takes its equality matchers' labels (was: unknown to the join proof)", expr: `absent(x{a="1", b=~"2", c=""})`, possible: "a", sure: "a", gone: "b c d job le v", absent: true},
		{name: "absent() of an aggregation has no labels (was: unknown to the join proof)", expr: `absent(sum(x{a="1"}))`, possible: "", gone: "a b c d job le v", absent: true},
		{name: "absent_over_time() of a range takes its matchers' labels", expr: `absent_over_time(x{a="1"}[5m])`, possible: "a", sure: "a", gone: "b c d job le v", absent: true},
		{name: "label_replace with an empty replacement matching all removes its label (was: lint kept it)", expr: `label_replace(x{d="1"}, "d", "", "a", ".*")`, possible: "*", gone: "d"},
		{name: "label_replace with an empty replacement from no label removes its label (was: lint kept it)", expr: `label_replace(x, "d", "", "", "")`, possible: "*", gone: "d"},
		{name: "label_replace with an empty replacement matching some values may remove its label (was: join proof removed it)", expr: `label_replace(x{d="1"}, "d", "", "a", "foo.*")`, possible: "*"},
		{name: "label_replace with a literal replacement matching all sets its label", expr: `label_replace(sum by (a) (x), "d", "z", "a", "(.*)")`, possible: "a d", sure: "d", gone: "b c job le v"},
		{name: "label_replace from a capture may set its label", expr: `label_replace(sum by (a) (x), "d", "$1", "a", "(.*)")`, possible: "a d", gone: "b c job le v"},
		{name: "label_join with a separator sets its label", expr: `label_join(sum by (a) (x), "d", ",", "a", "b")`, possible: "a d", sure: "d", gone: "b c job le v"},
		{name: "label_join of one unsure label may set its label", expr: `label_join(sum by (a) (x), "d", ",", "a")`, possible: "a d", gone: "b c job le v"},
		{name: "on() keeps only the matching labels", expr: `x{job="j"} * on (a, job) y`, possible: "a job", sure: "job", gone: "b c d le v"},
		{name: "a filter with on() keeps only the matching labels too", expr: `x > on (a) y`, possible: "a", gone: "b c d job le v"},
		{name: "ignoring() removes its labels", expr: `x * ignoring (a) y`, possible: "*", gone: "a"},
		{name: "group_left adds the one side's labels", expr: `x * on (a) group_left (b) y{b="1"}`, possible: "*", sure: "b"},
		{name: "group_left of a label the one side lacks removes it", expr: `x{b="1"} * on (a) group_left (b) sum by (a) (y)`, possible: "*", gone: "b"},
		{name: "group_right keeps the right side's labels", expr: `sum by (a, b) (x) * on (a) group_right (b) sum by (a, c) (y)`, possible: "a b c", gone: "d job le v"},
		{name: "and keeps the left side's labels", expr: `sum by (a) (x) and on (a) y`, possible: "a", gone: "b c d job le v"},
		{name: "unless keeps the left side's labels", expr: `x{job="j"} unless y`, possible: "*", sure: "job"},
		{name: "or may carry either side's labels, sure only of both's", expr: `sum by (a, job) (x{job="j"}) or sum by (b, job) (y{job="k"})`, possible: "a b job", sure: "job", gone: "c d le v"},
		{name: "topk keeps every label", expr: `topk(3, x{job="j"})`, possible: "*", sure: "job"},
		{name: "arithmetic with a scalar keeps the vector's labels", expr: `2 * sum by (a) (x)`, possible: "a", gone: "b c d job le v"},
		{name: "functions keep their argument's labels", expr: `abs(rate(x{job="j"}[5m]))`, possible: "*", sure: "job"},
		{name: "a bool comparison keeps the labels", expr: `sum by (a) (x) > bool 1`, possible: "a", gone: "b c d job le v"},
		{name: "a subquery keeps the labels", expr: `max_over_time(sum by (a) (x)[1h:5m])`, possible: "a", gone: "b c d job le v"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, ok := LabelsOf(parse(t, c.expr), nil)
			if ok == c.scalar {
				t.Fatalf("%s: vector=%v, want %v", c.expr, ok, !c.scalar)
			}
			if c.scalar {
				return
			}
			possible := "*"
			if l.Bounded {
				possible = strings.Join(l.Names(), " ")
			}
			var gone []string
			for _, n := range probe {
				if l.Missing(n) != "" {
					gone = append(gone, n)
				}
			}
			got := [...]string{possible, strings.Join(slices.Sorted(maps.Keys(l.Guaranteed)), " "), strings.Join(gone, " ")}
			want := [...]string{c.possible, c.sure, c.gone}
			if got != want || l.Absent != c.absent {
				t.Errorf("%s:\n got possible %q sure %q gone %q absent %v\nwant possible %q sure %q gone %q absent %v",
					c.expr, got[0], got[1], got[2], l.Absent, want[0], want[1], want[2], c.absent)
			}
		})
	}
}

// TestLabelsOfSource: a source that knows its selectors' labels bounds the
// result by them, as the build's join proof knows its targets'.
func TestLabelsOfSource(t *testing.T) {
	src := func(vs *parser.VectorSelector) Labels { return Exactly("the target's labels", "a", "b", "le") }
	l, _ := LabelsOf(parse(t, `histogram_quantile(0.9, sum without (b) (rate(x[5m])))`), src)
	if got := strings.Join(l.Names(), " "); got != "a" || l.Missing("b") != "sum without (b)" {
		t.Errorf("got %q, missing b: %q", got, l.Missing("b"))
	}
}

func TestMissingSaysWhy(t *testing.T) {
	l, _ := LabelsOf(parse(t, `sum by (a) (label_replace(x, "a", "", "", ""))`), nil)
	if got, want := l.Missing("a"), `label_replace() with an empty replacement`; got != want {
		t.Errorf("a: got %q, want %q", got, want)
	}
	if got, want := l.Missing("b"), `sum by (a)`; got != want {
		t.Errorf("b: got %q, want %q", got, want)
	}
}

func TestSelectors(t *testing.T) {
	var got []string
	for _, vs := range Selectors(parse(t, `rate(x[5m]) / on (a) group_left {__name__="y"} or absent({__name__=~"z.*"})`)) {
		got = append(got, MetricName(vs))
	}
	if want := []string{"x", "y", ""}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCanMatch(t *testing.T) {
	for _, c := range []struct {
		name, expr string // a binary operation whose sides' labels decide
		want       bool
		key        string // of the left side
	}{
		{"sides sure of a label they both keep can match", `sum by (a) (x{a="1"}) * sum by (a) (y{a="2"})`, true, "a"},
		{"a label sure on one side and removed on the other never matches", `x{a="1"} * sum by (b) (y)`, false, ""},
		{"ignoring() leaves that label out of the match", `sum by (a, b) (x{a="1", b="1"}) * ignoring (a) sum by (b) (y{b="2"})`, true, "b"},
		{"on() compares only its labels", `x{b="1"} * on (a) sum by (a) (y)`, true, "a"},
		{"on() of a label one side certainly lacks never matches", `sum by (a) (x{a="1"}) * on (a) sum by (b) (y)`, false, "a"},
		{"unknown sides can match", `x * y`, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := Unparen(parse(t, c.expr)).(*parser.BinaryExpr)
			l, _ := LabelsOf(b.LHS, nil)
			r, _ := LabelsOf(b.RHS, nil)
			if got := CanMatch(l, r, b.VectorMatching); got != c.want {
				t.Errorf("CanMatch: got %v, want %v", got, c.want)
			}
			if got := strings.Join(MatchKey(l, b.VectorMatching), " "); got != c.key {
				t.Errorf("MatchKey: got %q, want %q", got, c.key)
			}
		})
	}
}
