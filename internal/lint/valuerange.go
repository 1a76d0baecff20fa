package lint

import (
	"math"

	"github.com/prometheus/prometheus/promql/parser"
)

// valueRange is what is known of the values of an expression: every sample
// lies in [lo, hi]; why says what bounds it, for messages.
type valueRange struct {
	lo, hi float64
	why    string
}

var anyValue = valueRange{lo: math.Inf(-1), hi: math.Inf(1)}

func (v valueRange) known() bool { return !math.IsInf(v.lo, -1) || !math.IsInf(v.hi, 1) }

// rangeOf works out the range of an expression's values from what its
// functions and metrics can return.
func (run *Run) rangeOf(e parser.Expr) valueRange {
	switch e := e.(type) {
	case *parser.ParenExpr:
		return run.rangeOf(e.Expr)
	case *parser.StepInvariantExpr:
		return run.rangeOf(e.Expr)
	case *parser.SubqueryExpr:
		return run.rangeOf(e.Expr)
	case *parser.MatrixSelector:
		return run.rangeOf(e.VectorSelector)
	case *parser.NumberLiteral:
		return valueRange{e.Val, e.Val, ""}
	case *parser.UnaryExpr:
		v := run.rangeOf(e.Expr)
		if e.Op == parser.SUB {
			return valueRange{-v.hi, -v.lo, v.why}
		}
		return v
	case *parser.VectorSelector:
		switch name := metricName(e); {
		case name == "up":
			return valueRange{0, 1, "up is 0 or 1"}
		case name == "ALERTS":
			return valueRange{1, 1, "ALERTS is always 1"}
		default:
			if mt := run.types.of(name); mt.Type == "counter" && !mt.Guessed {
				return valueRange{0, math.Inf(1), "counter " + name + " is never negative"}
			}
		}
	case *parser.Call:
		return run.callRange(e)
	case *parser.AggregateExpr:
		inner := run.rangeOf(e.Expr)
		switch e.Op {
		case parser.COUNT, parser.COUNT_VALUES:
			return valueRange{1, math.Inf(1), e.Op.String() + "() is at least 1: over no series it returns nothing, not 0"}
		case parser.GROUP:
			return valueRange{1, 1, "group() is always 1"}
		case parser.MIN, parser.MAX, parser.AVG, parser.TOPK, parser.BOTTOMK, parser.QUANTILE, parser.LIMITK, parser.LIMIT_RATIO:
			return inner
		case parser.SUM:
			if inner.lo >= 0 {
				return valueRange{0, math.Inf(1), inner.why}
			}
		case parser.STDDEV, parser.STDVAR:
			return valueRange{0, math.Inf(1), e.Op.String() + "() is never negative"}
		}
	case *parser.BinaryExpr:
		return run.binaryRange(e)
	}
	return anyValue
}

func (run *Run) callRange(e *parser.Call) valueRange {
	arg := func(i int) valueRange {
		if i < len(e.Args) {
			return run.rangeOf(e.Args[i])
		}
		return anyValue
	}
	num := func(i int) (float64, bool) {
		if i < len(e.Args) {
			if n, ok := unparen(e.Args[i]).(*parser.NumberLiteral); ok {
				return n.Val, true
			}
		}
		return 0, false
	}
	switch name := e.Func.Name; name {
	case "absent", "absent_over_time", "present_over_time":
		return valueRange{1, 1, name + "() is 1 or nothing"}
	case "rate", "irate", "increase", "resets", "changes":
		return valueRange{0, math.Inf(1), name + "() is never negative"}
	case "count_over_time":
		return valueRange{1, math.Inf(1), "count_over_time() is at least 1"}
	case "time", "timestamp", "abs", "sqrt":
		return valueRange{0, math.Inf(1), name + "() is never negative"}
	case "sgn":
		return valueRange{-1, 1, "sgn() is -1, 0 or 1"}
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
			return valueRange{lo, hi, "clamp() bounds it"}
		}
	case "clamp_min":
		if lo, ok := num(1); ok {
			v := arg(0)
			return valueRange{math.Max(lo, v.lo), v.hi, "clamp_min() bounds it"}
		}
	case "clamp_max":
		if hi, ok := num(1); ok {
			v := arg(0)
			return valueRange{v.lo, math.Min(hi, v.hi), "clamp_max() bounds it"}
		}
	}
	return anyValue
}

func (run *Run) binaryRange(e *parser.BinaryExpr) valueRange {
	if e.Op.IsComparisonOperator() {
		if e.ReturnBool {
			return valueRange{0, 1, "a bool comparison is 0 or 1"}
		}
		// A filter returns the left side's values (or the right side's,
		// against a scalar on the left).
		if _, ok := unparen(e.LHS).(*parser.NumberLiteral); ok {
			return run.rangeOf(e.RHS)
		}
		return run.rangeOf(e.LHS)
	}
	l, r := run.rangeOf(e.LHS), run.rangeOf(e.RHS)
	why := l.why
	if why == "" {
		why = r.why
	}
	switch e.Op {
	case parser.LAND, parser.LUNLESS:
		return l
	case parser.LOR:
		return valueRange{math.Min(l.lo, r.lo), math.Max(l.hi, r.hi), why}
	case parser.ADD:
		return valueRange{l.lo + r.lo, l.hi + r.hi, why}
	case parser.SUB:
		return valueRange{l.lo - r.hi, l.hi - r.lo, why}
	case parser.MUL:
		if l.lo >= 0 && r.lo >= 0 {
			return valueRange{l.lo * r.lo, l.hi * r.hi, why}
		}
	case parser.DIV:
		if l.lo >= 0 && r.lo >= 0 {
			if partOfSum(e.LHS, e.RHS) {
				return valueRange{0, 1, "a/(a+b) of non-negative values is between 0 and 1"}
			}
			return valueRange{0, math.Inf(1), why}
		}
	}
	return anyValue
}

// partOfSum reports whether part is one of the terms of a sum.
func partOfSum(part, sum parser.Expr) bool {
	b, ok := unparen(sum).(*parser.BinaryExpr)
	if !ok || b.Op != parser.ADD {
		return false
	}
	for _, side := range []parser.Expr{b.LHS, b.RHS} {
		if sameExpr(side, part) || partOfSum(part, side) {
			return true
		}
	}
	return false
}

// satisfiable reports whether "v op c" can be true for a value of v.
func satisfiable(v valueRange, op parser.ItemType, c float64) bool {
	switch op {
	case parser.GTR:
		return v.hi > c
	case parser.GTE:
		return v.hi >= c
	case parser.LSS:
		return v.lo < c
	case parser.LTE:
		return v.lo <= c
	case parser.EQLC:
		return v.lo <= c && c <= v.hi
	case parser.NEQ:
		return !(v.lo == c && v.hi == c)
	}
	return true
}

// alwaysTrue reports whether "v op c" holds for every value of v.
func alwaysTrue(v valueRange, op parser.ItemType, c float64) bool {
	switch op {
	case parser.GTR:
		return v.lo > c
	case parser.GTE:
		return v.lo >= c
	case parser.LSS:
		return v.hi < c
	case parser.LTE:
		return v.hi <= c
	case parser.EQLC:
		return v.lo == c && v.hi == c
	case parser.NEQ:
		return c < v.lo || c > v.hi
	}
	return false
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

// constComparison splits a comparison with a number on one side into the
// other side, the operator as if the number were on the right, and the
// number.
func constComparison(b *parser.BinaryExpr) (parser.Expr, parser.ItemType, float64, bool) {
	if !b.Op.IsComparisonOperator() {
		return nil, 0, 0, false
	}
	if n, ok := unparen(b.RHS).(*parser.NumberLiteral); ok {
		return b.LHS, b.Op, n.Val, true
	}
	if n, ok := unparen(b.LHS).(*parser.NumberLiteral); ok {
		return b.RHS, flip(b.Op), n.Val, true
	}
	return nil, 0, 0, false
}
