package analysis

import (
	"math"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
)

// Range is what is known of the values of an expression: every sample
// lies in [Lo, Hi]; Why says what bounds it, for messages.
type Range struct {
	Lo, Hi float64
	Why    string
}

// AnyValue is the range of an expression nothing is known of.
var AnyValue = Range{Lo: math.Inf(-1), Hi: math.Inf(1)}

// Known reports whether anything bounds the range.
func (v Range) Known() bool { return !math.IsInf(v.Lo, -1) || !math.IsInf(v.Hi, 1) }

// IsCounter reports whether a metric is known to be a counter, never
// negative.
type IsCounter func(metric string) bool

// RangeOf works out the range of an expression's values from what its
// functions and metrics can return.
func RangeOf(e parser.Expr, counter IsCounter) Range {
	return ranges{counter}.of(e)
}

type ranges struct{ counter IsCounter }

func (run ranges) of(e parser.Expr) Range {
	switch e := e.(type) {
	case *parser.ParenExpr:
		return run.of(e.Expr)
	case *parser.StepInvariantExpr:
		return run.of(e.Expr)
	case *parser.SubqueryExpr:
		return run.of(e.Expr)
	case *parser.MatrixSelector:
		return run.of(e.VectorSelector)
	case *parser.NumberLiteral:
		return Range{e.Val, e.Val, ""}
	case *parser.UnaryExpr:
		v := run.of(e.Expr)
		if e.Op == parser.SUB {
			return Range{-v.Hi, -v.Lo, v.Why}
		}
		return v
	case *parser.VectorSelector:
		switch name := MetricName(e); {
		case name == catalog.Up:
			return Range{0, 1, "up is 0 or 1"}
		case name == catalog.Alerts:
			return Range{1, 1, "ALERTS is always 1"}
		default:
			if run.counter != nil && run.counter(name) {
				return Range{0, math.Inf(1), "counter " + name + " is never negative"}
			}
		}
	case *parser.Call:
		return run.callRange(e)
	case *parser.AggregateExpr:
		inner := run.of(e.Expr)
		switch e.Op {
		case parser.COUNT, parser.COUNT_VALUES:
			return Range{1, math.Inf(1), e.Op.String() + "() is at least 1: over no series it returns nothing, not 0"}
		case parser.GROUP:
			return Range{1, 1, "group() is always 1"}
		case parser.MIN, parser.MAX, parser.AVG, parser.TOPK, parser.BOTTOMK, parser.QUANTILE, parser.LIMITK, parser.LIMIT_RATIO:
			return inner
		case parser.SUM:
			if inner.Lo >= 0 {
				return Range{0, math.Inf(1), inner.Why}
			}
		case parser.STDDEV, parser.STDVAR:
			return Range{0, math.Inf(1), e.Op.String() + "() is never negative"}
		}
	case *parser.BinaryExpr:
		return run.binaryRange(e)
	}
	return AnyValue
}

func (run ranges) callRange(e *parser.Call) Range {
	arg := func(i int) Range {
		if i < len(e.Args) {
			return run.of(e.Args[i])
		}
		return AnyValue
	}
	num := func(i int) (float64, bool) {
		if i < len(e.Args) {
			if n, ok := Unparen(e.Args[i]).(*parser.NumberLiteral); ok {
				return n.Val, true
			}
		}
		return 0, false
	}
	switch name := e.Func.Name; name {
	case "absent", "absent_over_time", "present_over_time":
		return Range{1, 1, name + "() is 1 or nothing"}
	case "rate", "irate", "increase", "resets", "changes":
		return Range{0, math.Inf(1), name + "() is never negative"}
	case "count_over_time":
		return Range{1, math.Inf(1), "count_over_time() is at least 1"}
	case "time", "timestamp", "abs", "sqrt":
		return Range{0, math.Inf(1), name + "() is never negative"}
	case "sgn":
		return Range{-1, 1, "sgn() is -1, 0 or 1"}
	case "vector", "label_replace", "label_join", "avg_over_time", "min_over_time", "max_over_time",
		"last_over_time", "quantile_over_time", "round", "floor", "ceil", "sort", "sort_desc":
		if name == "quantile_over_time" {
			return arg(1)
		}
		return arg(0)
	case "clamp":
		lo, lok := num(1)
		hi, hok := num(2)
		if lok && hok {
			return Range{lo, hi, "clamp() bounds it"}
		}
	case "clamp_min":
		if lo, ok := num(1); ok {
			v := arg(0)
			return Range{math.Max(lo, v.Lo), v.Hi, "clamp_min() bounds it"}
		}
	case "clamp_max":
		if hi, ok := num(1); ok {
			v := arg(0)
			return Range{v.Lo, math.Min(hi, v.Hi), "clamp_max() bounds it"}
		}
	}
	return AnyValue
}

func (run ranges) binaryRange(e *parser.BinaryExpr) Range {
	if e.Op.IsComparisonOperator() {
		if e.ReturnBool {
			return Range{0, 1, "a bool comparison is 0 or 1"}
		}
		// A filter returns the left side's values (or the right side's,
		// against a scalar on the left).
		if _, ok := Unparen(e.LHS).(*parser.NumberLiteral); ok {
			return run.of(e.RHS)
		}
		return run.of(e.LHS)
	}
	l, r := run.of(e.LHS), run.of(e.RHS)
	why := l.Why
	if why == "" {
		why = r.Why
	}
	switch e.Op {
	case parser.LAND, parser.LUNLESS:
		return l
	case parser.LOR:
		return Range{math.Min(l.Lo, r.Lo), math.Max(l.Hi, r.Hi), why}
	case parser.ADD:
		return Range{l.Lo + r.Lo, l.Hi + r.Hi, why}
	case parser.SUB:
		return Range{l.Lo - r.Hi, l.Hi - r.Lo, why}
	case parser.MUL:
		if l.Lo >= 0 && r.Lo >= 0 {
			return Range{l.Lo * r.Lo, l.Hi * r.Hi, why}
		}
	case parser.DIV:
		if l.Lo >= 0 && r.Lo >= 0 {
			if partOfSum(e.LHS, e.RHS) {
				return Range{0, 1, "a/(a+b) of non-negative values is between 0 and 1"}
			}
			return Range{0, math.Inf(1), why}
		}
	}
	return AnyValue
}

// partOfSum reports whether part is one of the terms of a sum.
func partOfSum(part, sum parser.Expr) bool {
	b, ok := Unparen(sum).(*parser.BinaryExpr)
	if !ok || b.Op != parser.ADD {
		return false
	}
	for _, side := range []parser.Expr{b.LHS, b.RHS} {
		if SameExpr(side, part) || partOfSum(part, side) {
			return true
		}
	}
	return false
}

// Satisfiable reports whether "v op c" can be true for a value of v.
func Satisfiable(v Range, op parser.ItemType, c float64) bool {
	switch op {
	case parser.GTR:
		return v.Hi > c
	case parser.GTE:
		return v.Hi >= c
	case parser.LSS:
		return v.Lo < c
	case parser.LTE:
		return v.Lo <= c
	case parser.EQLC:
		return v.Lo <= c && c <= v.Hi
	case parser.NEQ:
		return !(v.Lo == c && v.Hi == c)
	}
	return true
}

// AlwaysTrue reports whether "v op c" holds for every value of v: when its
// negation can never hold.
func AlwaysTrue(v Range, op parser.ItemType, c float64) bool {
	neg, ok := negation[op]
	return ok && !Satisfiable(v, neg, c)
}

// negation is the comparison that holds where each one does not.
var negation = map[parser.ItemType]parser.ItemType{
	parser.GTR: parser.LTE, parser.GTE: parser.LSS, parser.LSS: parser.GTE,
	parser.LTE: parser.GTR, parser.EQLC: parser.NEQ, parser.NEQ: parser.EQLC,
}

// flip turns "c op v" into "v op' c".
func flip(op parser.ItemType) parser.ItemType {
	switch op {
	case parser.GTR:
		return parser.LSS
	case parser.GTE:
		return parser.LTE
	case parser.LSS:
		return parser.GTR
	case parser.LTE:
		return parser.GTE
	}
	return op
}

// ConstComparison splits a comparison with a number on one side into the
// other side, the operator as if the number were on the right, and the
// number.
func ConstComparison(b *parser.BinaryExpr) (parser.Expr, parser.ItemType, float64, bool) {
	if !b.Op.IsComparisonOperator() {
		return nil, 0, 0, false
	}
	if n, ok := Unparen(b.RHS).(*parser.NumberLiteral); ok {
		return b.LHS, b.Op, n.Val, true
	}
	if n, ok := Unparen(b.LHS).(*parser.NumberLiteral); ok {
		return b.RHS, flip(b.Op), n.Val, true
	}
	return nil, 0, 0, false
}
