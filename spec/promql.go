package spec

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// The builders below assemble PromQL from the parser's own AST types, so an
// expression is never glued together from strings and prints canonically.

// Eq matches a label exactly.
func Eq(name, value string) *labels.Matcher { return matcher(labels.MatchEqual, name, value) }

// Neq excludes a label value.
func Neq(name, value string) *labels.Matcher { return matcher(labels.MatchNotEqual, name, value) }

// Re matches a label by regular expression.
func Re(name, re string) *labels.Matcher { return matcher(labels.MatchRegexp, name, re) }

func matcher(t labels.MatchType, name, value string) *labels.Matcher {
	m, err := labels.NewMatcher(t, name, value)
	if err != nil {
		panic(fmt.Sprintf("spec: matcher %s %q: %v", name, value, err))
	}
	return m
}

// Metric selects a metric's series.
func Metric(name string, matchers ...*labels.Matcher) *parser.VectorSelector {
	all := append([]*labels.Matcher{matcher(labels.MatchEqual, labels.MetricName, name)}, matchers...)
	return &parser.VectorSelector{Name: name, LabelMatchers: all}
}

// Range turns a selector into a range over d.
func Range(v *parser.VectorSelector, d time.Duration) *parser.MatrixSelector {
	return &parser.MatrixSelector{VectorSelector: v, Range: d}
}

// Num is a number literal.
func Num(v float64) *parser.NumberLiteral { return &parser.NumberLiteral{Val: v} }

// Str is a string literal.
func Str(s string) *parser.StringLiteral { return &parser.StringLiteral{Val: s} }

// Call calls a PromQL function by name.
func Call(name string, args ...parser.Expr) *parser.Call {
	f, ok := parser.Functions[name]
	if !ok {
		panic("spec: unknown PromQL function " + name)
	}
	return &parser.Call{Func: f, Args: args}
}

// Filter keeps the series of e whose value compares true with v, e.g.
// Filter(up, parser.EQLC, 0) is up == 0.
func Filter(e parser.Expr, op parser.ItemType, v float64) *parser.BinaryExpr {
	return binary(op, e, Num(v), nil)
}

// Comparison operators for Filter.
const (
	OpEq = parser.EQLC
	OpGt = parser.GTR
	OpGe = parser.GTE
	OpLt = parser.LSS
)

// Binary applies an arithmetic or comparison operator between two vectors,
// matching on the given labels (all labels when on is empty).
func Binary(op parser.ItemType, lhs, rhs parser.Expr, on ...string) *parser.BinaryExpr {
	return binary(op, lhs, rhs, matching(parser.CardOneToOne, on, nil))
}

// Sub is lhs - rhs, e.g. time() - timestamp.
func Sub(lhs, rhs parser.Expr) *parser.BinaryExpr {
	return binary(parser.SUB, lhs, rhs, nil)
}

// Join multiplies lhs by rhs one-to-many on the given labels and copies the
// include labels from rhs: the diagnostic join. rhs must hold at most one
// series per on-group and value 1; wrap it in Or with a fallback so the alert
// still fires when rhs is absent.
func Join(lhs, rhs parser.Expr, on, include []string) *parser.BinaryExpr {
	return binary(parser.MUL, lhs, rhs, matching(parser.CardManyToOne, on, include))
}

// Or is lhs or on(on) rhs: rhs series are kept only where lhs has none.
func Or(lhs, rhs parser.Expr, on ...string) *parser.BinaryExpr {
	return binary(parser.LOR, lhs, rhs, matching(parser.CardManyToMany, on, nil))
}

// UnlessAny is lhs unless on () rhs: all of lhs while rhs is empty, none
// of it otherwise.
func UnlessAny(lhs, rhs parser.Expr) *parser.BinaryExpr {
	return binary(parser.LUNLESS, lhs, rhs, &parser.VectorMatching{Card: parser.CardManyToMany, On: true})
}

// And is lhs and on(on) rhs: lhs series that have a match in rhs.
func And(lhs, rhs parser.Expr, on ...string) *parser.BinaryExpr {
	return binary(parser.LAND, lhs, rhs, matching(parser.CardManyToMany, on, nil))
}

// binary builds a binary expression, adding the parentheses that the AST
// implies but its printer does not: an operand that binds more loosely than
// the operator (or as loosely, on the right) must be wrapped.
func binary(op parser.ItemType, lhs, rhs parser.Expr, vm *parser.VectorMatching) *parser.BinaryExpr {
	wrap := func(e parser.Expr, right bool) parser.Expr {
		b, ok := e.(*parser.BinaryExpr)
		if !ok {
			return e
		}
		if p, q := precedence(b.Op), precedence(op); p < q || (right && p == q && op != parser.POW) {
			return Paren(e)
		}
		return e
	}
	return &parser.BinaryExpr{Op: op, LHS: wrap(lhs, false), RHS: wrap(rhs, true), VectorMatching: vm}
}

// precedence follows PromQL's binary operator precedence, loosest first.
func precedence(op parser.ItemType) int {
	switch op {
	case parser.LOR:
		return 1
	case parser.LAND, parser.LUNLESS:
		return 2
	case parser.EQLC, parser.NEQ, parser.LTE, parser.LSS, parser.GTE, parser.GTR:
		return 3
	case parser.ADD, parser.SUB:
		return 4
	case parser.MUL, parser.DIV, parser.MOD, parser.ATAN2:
		return 5
	default: // parser.POW
		return 6
	}
}

func matching(card parser.VectorMatchCardinality, on, include []string) *parser.VectorMatching {
	return &parser.VectorMatching{Card: card, MatchingLabels: on, On: len(on) > 0, Include: include}
}

// Aggregate applies an aggregation operator by the given labels.
func Aggregate(op parser.ItemType, e parser.Expr, by ...string) *parser.AggregateExpr {
	return &parser.AggregateExpr{Op: op, Expr: e, Grouping: by}
}

// Max is max by (by) (e).
func Max(e parser.Expr, by ...string) *parser.AggregateExpr { return Aggregate(parser.MAX, e, by...) }

// TopK is topk by (by) (k, e).
func TopK(k int, e parser.Expr, by ...string) *parser.AggregateExpr {
	a := Aggregate(parser.TOPK, e, by...)
	a.Param = Num(float64(k))
	return a
}

// SetLabel adds a constant label to every series of e (label_replace).
func SetLabel(e parser.Expr, name, value string) *parser.Call {
	return Call("label_replace", e, Str(name), Str(value), Str(""), Str(""))
}

// Paren wraps e in parentheses, for readability where precedence is implicit.
func Paren(e parser.Expr) *parser.ParenExpr { return &parser.ParenExpr{Expr: e} }

// PromQL prints an expression the way Prometheus formats it.
func PromQL(e parser.Expr) string { return parser.Prettify(e) }

// Printer prints each expression as PromQL does and parses the text back,
// once per expression. Validate checks that the text promgen writes means
// the spec's tree; a build that hands Validate the Printer it writes with
// prints and parses every expression once (printing is quadratic in an
// expression's depth, and large specs hold thousands). The zero value
// parses as Prometheus does by default. It is safe for concurrent use;
// the trees it returns are shared: read them only.
type Printer struct {
	// Parse parses an expression's text; nil is Prometheus' default parser.
	Parse func(string) (parser.Expr, error)

	texts sync.Map // parser.Expr -> string
}

// PromQL is PromQL(e), printed once per expression.
func (p *Printer) PromQL(e parser.Expr) string {
	if t, ok := p.texts.Load(e); ok {
		return t.(string)
	}
	t := PromQL(e)
	p.texts.Store(e, t)
	return t
}

// parse parses the text of e as it is written.
func (p *Printer) parse(e parser.Expr) (string, parser.Expr, error) {
	text := p.PromQL(e)
	parse := p.Parse
	if parse == nil {
		parse = parser.NewParser(parser.Options{}).ParseExpr
	}
	back, err := parse(text)
	return text, back, err
}
