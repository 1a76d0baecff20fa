package analysis

import (
	"fmt"
	"maps"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Labels is what is known of the label names of an expression's result
// series: the names each series certainly carries, and either a bound (only
// Possible names can be present) or, without one, the names certainly gone.
type Labels struct {
	Bounded    bool
	Possible   map[string]bool   // when Bounded: the names that may be present
	Guaranteed map[string]bool   // names every result series carries
	Gone       map[string]string // names certainly absent, with what removed them
	Why        string            // when Bounded: what bounds it, e.g. "sum by (job)"
	Absent     bool              // the result is absent()'s
}

// Unbounded is a selector's labels when nothing is known of its targets:
// any name may be present, and its equality matchers' are certain.
func Unbounded(vs *parser.VectorSelector) Labels {
	var l Labels
	if vs != nil {
		for _, m := range vs.LabelMatchers {
			// A matcher on "" selects series without the label.
			if m.Type == labels.MatchEqual && m.Name != labels.MetricName && m.Value != "" {
				if l.Guaranteed == nil {
					l.Guaranteed = map[string]bool{}
				}
				l.Guaranteed[m.Name] = true
			}
		}
	}
	return l
}

// Exactly is the labels of series known to carry just these names.
func Exactly(why string, names ...string) Labels {
	l := Labels{Bounded: true, Possible: map[string]bool{}, Guaranteed: map[string]bool{}, Why: why}
	for _, n := range names {
		l.Possible[n], l.Guaranteed[n] = true, true
	}
	return l
}

// Missing says why a label is certainly not on the result, "" if it may be.
func (l Labels) Missing(name string) string {
	if why, ok := l.Gone[name]; ok {
		return why
	}
	if l.Bounded && !l.Possible[name] {
		return l.Why
	}
	return ""
}

// Names returns the names that may be present, sorted; nil when unbounded.
func (l Labels) Names() []string {
	if !l.Bounded {
		return nil
	}
	return slices.Sorted(maps.Keys(l.Possible))
}

func (l Labels) clone() Labels {
	out := l
	out.Possible, out.Guaranteed, out.Gone = maps.Clone(l.Possible), maps.Clone(l.Guaranteed), maps.Clone(l.Gone)
	if out.Possible == nil {
		out.Possible = map[string]bool{}
	}
	if out.Guaranteed == nil {
		out.Guaranteed = map[string]bool{}
	}
	if out.Gone == nil {
		out.Gone = map[string]string{}
	}
	return out
}

// add makes name possible, and certain if sure.
func (l Labels) add(name string, sure bool) Labels {
	out := l.clone()
	if out.Bounded {
		out.Possible[name] = true
	}
	delete(out.Gone, name)
	if sure {
		out.Guaranteed[name] = true
	}
	return out
}

// maybe makes name possible but no longer certain.
func (l Labels) maybe(name string) Labels {
	out := l.add(name, false)
	delete(out.Guaranteed, name)
	return out
}

func (l Labels) drop(why string, names ...string) Labels {
	out := l.clone()
	for _, n := range names {
		if out.Missing(n) == "" {
			out.Gone[n] = why
		}
		delete(out.Possible, n)
		delete(out.Guaranteed, n)
	}
	return out
}

// keep bounds the labels to names, as "by" and "on" do.
func (l Labels) keep(why string, names ...string) Labels {
	out := Exactly(why).clone()
	for _, n := range names {
		if why := l.Missing(n); why != "" {
			out.Gone[n] = why
			continue
		}
		out.Possible[n] = true
		if l.Guaranteed[n] {
			out.Guaranteed[n] = true
		}
	}
	return out
}

// union is what is known of the labels of "a or b": a name is certain only
// if certain on both sides, absent only if absent on both.
func union(a, b Labels) Labels {
	out := Labels{Guaranteed: map[string]bool{}, Gone: map[string]string{}}
	for n := range a.Guaranteed {
		if b.Guaranteed[n] {
			out.Guaranteed[n] = true
		}
	}
	if a.Bounded && b.Bounded {
		out.Bounded, out.Possible = true, map[string]bool{}
		maps.Copy(out.Possible, a.Possible)
		maps.Copy(out.Possible, b.Possible)
		out.Why = a.Why + " and " + b.Why
		out.Absent = a.Absent && b.Absent
	}
	for _, side := range []Labels{a, b} {
		for n, why := range side.Gone {
			if a.Missing(n) != "" && b.Missing(n) != "" {
				out.Gone[n] = why
			}
		}
	}
	return out
}

// Source gives the labels of a selector's series. Nil means Unbounded. The
// analysis copies Labels before it changes them, so a Source may share its
// answers.
type Source func(vs *parser.VectorSelector) Labels

// LabelsOf works out the labels of an expression's result series; ok is
// false for scalars and strings.
func LabelsOf(e parser.Expr, src Source) (Labels, bool) {
	if src == nil {
		src = Unbounded
	}
	var of Operands
	of = func(e parser.Expr) (Labels, bool) {
		if vs, ok := e.(*parser.VectorSelector); ok {
			return src(vs), true
		}
		return Step(e, of)
	}
	return of(e)
}

// Operands gives the labels of a node's operands: LabelsOf's own
// recursion, or a caller's that follows one alternative of each.
type Operands func(operand parser.Expr) (Labels, bool)

// Step works out the labels of one node's result from its operands'. It is
// PromQL's label semantics, once; LabelsOf folds it over an expression.
func Step(e parser.Expr, of Operands) (Labels, bool) {
	switch e := e.(type) {
	case *parser.ParenExpr:
		return of(e.Expr)
	case *parser.StepInvariantExpr:
		return of(e.Expr)
	case *parser.SubqueryExpr:
		return of(e.Expr)
	case *parser.MatrixSelector:
		return of(e.VectorSelector)
	case *parser.UnaryExpr:
		return of(e.Expr)
	case *parser.VectorSelector:
		return Unbounded(e), true
	case *parser.AggregateExpr:
		return aggregateLabels(e, of)
	case *parser.Call:
		return callLabels(e, of)
	case *parser.BinaryExpr:
		return binaryLabels(e, of)
	}
	return Labels{}, false
}

func aggregateLabels(e *parser.AggregateExpr, of Operands) (Labels, bool) {
	inner, ok := of(e.Expr)
	if !ok {
		return inner, false
	}
	switch e.Op {
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
		return inner, true
	}
	desc := aggregationText(e)
	out := inner.keep(desc, e.Grouping...)
	if e.Without {
		out = inner.drop(desc, e.Grouping...)
	}
	if e.Op == parser.COUNT_VALUES {
		// Its label holds each value as text, never empty.
		if s, ok := Unparen(e.Param).(*parser.StringLiteral); ok {
			out = out.add(s.Val, true)
		}
	}
	return out, true
}

func callLabels(e *parser.Call, of Operands) (Labels, bool) {
	str := func(i int) (string, bool) {
		if i >= len(e.Args) {
			return "", false
		}
		s, ok := Unparen(e.Args[i]).(*parser.StringLiteral)
		if !ok {
			return "", false
		}
		return s.Val, true
	}
	switch name := e.Func.Name; name {
	case "absent", "absent_over_time":
		return absentLabels(e), true
	case "vector":
		return Exactly("vector()"), true
	case "histogram_quantile":
		inner, ok := of(e.Args[1])
		return inner.drop("histogram_quantile()", labels.BucketLabel), ok
	case "label_replace":
		inner, ok := of(e.Args[0])
		dst, dok := str(1)
		repl, rok := str(2)
		srcLabel, sok := str(3)
		re, reok := str(4)
		if !ok || !dok || !rok || !sok || !reok {
			return inner, ok
		}
		// Where the regexp matches, dst takes the replacement, and an
		// empty one removes it; elsewhere dst is left as it was.
		always := matchesAll(re) || (srcLabel == "" || inner.Missing(srcLabel) != "") && matchesEmpty(re)
		switch {
		case repl == "" && always:
			return inner.drop(name+"() with an empty replacement", dst), true
		case always && !strings.Contains(repl, "$"):
			return inner.add(dst, true), true
		}
		return inner.maybe(dst), true
	case "label_join":
		inner, ok := of(e.Args[0])
		dst, dok := str(1)
		if !ok || !dok {
			return inner, ok
		}
		// An empty join removes dst: certain only if a source label is.
		sep, _ := str(2)
		sure := len(e.Args) > 4 && sep != ""
		for i := 3; i < len(e.Args); i++ {
			if s, ok := str(i); ok && inner.Guaranteed[s] {
				sure = true
			}
		}
		if sure {
			return inner.add(dst, true), true
		}
		return inner.maybe(dst), true
	}
	if e.Func.ReturnType != parser.ValueTypeVector {
		return Labels{}, false
	}
	for _, a := range e.Args {
		if t := a.Type(); t == parser.ValueTypeVector || t == parser.ValueTypeMatrix {
			return of(a)
		}
	}
	return Unbounded(nil), true
}

// absentLabels: absent() returns one series with the labels of its
// selector's equality matchers, as written; of anything else, none.
func absentLabels(e *parser.Call) Labels {
	var vs *parser.VectorSelector
	if len(e.Args) > 0 {
		switch a := e.Args[0].(type) {
		case *parser.VectorSelector:
			vs = a
		case *parser.MatrixSelector:
			vs, _ = a.VectorSelector.(*parser.VectorSelector)
		}
	}
	why := e.Func.Name + "() returns only the labels of its selector's equality matchers"
	var names []string
	if vs == nil {
		why = e.Func.Name + "() of anything but a plain selector returns no labels at all"
	} else {
		names = slices.Sorted(maps.Keys(Unbounded(vs).Guaranteed))
	}
	l := Exactly(why, names...)
	l.Absent = true
	return l
}

func binaryLabels(e *parser.BinaryExpr, of Operands) (Labels, bool) {
	l, lok := of(e.LHS)
	r, rok := of(e.RHS)
	switch {
	case !lok && !rok:
		return Labels{}, false
	case !rok:
		return l, true
	case !lok:
		return r, true
	}
	switch e.Op {
	case parser.LAND, parser.LUNLESS:
		return l, true
	case parser.LOR:
		return union(l, r), true
	}
	vm := e.VectorMatching
	if vm == nil {
		return l, true
	}
	switch vm.Card {
	case parser.CardManyToOne:
		return include("group_left", l, r, vm.Include), true
	case parser.CardOneToMany:
		return include("group_right", r, l, vm.Include), true
	}
	if vm.On {
		return l.keep(fmt.Sprintf("on(%s)", strings.Join(vm.MatchingLabels, ", ")), vm.MatchingLabels...), true
	}
	return l.drop(fmt.Sprintf("ignoring(%s)", strings.Join(vm.MatchingLabels, ", ")), vm.MatchingLabels...), true
}

// include copies a join's extra labels from the "one" side onto the
// "many" side's series; a name the one side lacks is removed.
func include(modifier string, many, one Labels, names []string) Labels {
	out := many
	for _, n := range names {
		if why := one.Missing(n); why != "" {
			out = out.drop(fmt.Sprintf("%s(%s) copies it from a side without it (%s)", modifier, n, why), n)
			continue
		}
		out = out.add(n, one.Guaranteed[n])
		if !one.Guaranteed[n] {
			delete(out.Guaranteed, n)
		}
	}
	return out
}

// CanMatch reports whether series with labels a and b can match in a binary
// operation: no label the match compares is certainly on one side and certainly not on the other.
func CanMatch(a, b Labels, vm *parser.VectorMatching) bool {
	var compared []string
	if vm != nil && vm.On {
		compared = vm.MatchingLabels
	} else {
		for _, side := range []Labels{a, b} {
			for l := range side.Guaranteed {
				if l != labels.MetricName && (vm == nil || !slices.Contains(vm.MatchingLabels, l)) {
					compared = append(compared, l)
				}
			}
		}
	}
	for _, l := range compared {
		if a.Guaranteed[l] && b.Missing(l) != "" || b.Guaranteed[l] && a.Missing(l) != "" {
			return false
		}
	}
	return true
}

// MatchKey is the labels a binary operation compares, as far as a side's
// labels are known.
func MatchKey(a Labels, vm *parser.VectorMatching) []string {
	if vm != nil && vm.On {
		return slices.Sorted(slices.Values(vm.MatchingLabels))
	}
	var out []string
	for _, l := range a.Names() {
		if vm == nil || !slices.Contains(vm.MatchingLabels, l) {
			out = append(out, l)
		}
	}
	return out
}

// matchesAll reports whether a label_replace regexp, anchored as
// Prometheus anchors it, matches every value.
func matchesAll(re string) bool {
	r, err := syntax.Parse("(?s:"+re+")", syntax.Perl)
	if err != nil {
		return false
	}
	r = r.Simplify()
	for r.Op == syntax.OpCapture {
		r = r.Sub[0]
	}
	return r.Op == syntax.OpStar && r.Sub[0].Op == syntax.OpAnyChar
}

// matchesEmpty reports whether a label_replace regexp matches an absent
// label's empty value.
func matchesEmpty(re string) bool {
	r, err := regexp.Compile("^(?s:" + re + ")$")
	return err == nil && r.MatchString("")
}

func aggregationText(e *parser.AggregateExpr) string {
	switch {
	case e.Without:
		return fmt.Sprintf("%s without (%s)", e.Op, strings.Join(e.Grouping, ", "))
	case len(e.Grouping) > 0:
		return fmt.Sprintf("%s by (%s)", e.Op, strings.Join(e.Grouping, ", "))
	}
	return e.Op.String() + "()"
}
