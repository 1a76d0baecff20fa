package lint

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template/parse"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// resultLabels is what is known of the labels of an expression's result
// series: either a bound (only names can be present) or, without one, the
// names certainly absent.
type resultLabels struct {
	bounded bool
	names   map[string]bool   // bounded: the names that may be present
	gone    map[string]string // unbounded: names certainly absent, with what removed them
	why     string            // bounded: what bounds it, e.g. "sum by (job)"
	absent  bool              // bounded by absent()
}

func unboundedLabels() resultLabels { return resultLabels{gone: map[string]string{}} }

func boundedLabels(why string, names ...string) resultLabels {
	rl := resultLabels{bounded: true, names: map[string]bool{}, why: why}
	for _, n := range names {
		rl.names[n] = true
	}
	return rl
}

// missing says why a label is certainly not on the result, "" if it may be.
func (rl resultLabels) missing(name string) string {
	if why, ok := rl.gone[name]; ok {
		return why
	}
	if rl.bounded {
		if rl.names[name] {
			return ""
		}
		return rl.why
	}
	return rl.gone[name]
}

func (rl resultLabels) with(names ...string) resultLabels {
	out := rl.clone()
	for _, n := range names {
		if out.bounded {
			out.names[n] = true
		}
		delete(out.gone, n)
	}
	return out
}

func (rl resultLabels) without(why string, names ...string) resultLabels {
	out := rl.clone()
	for _, n := range names {
		if !out.bounded || out.names[n] {
			out.gone[n] = why
		}
		delete(out.names, n)
	}
	return out
}

func (rl resultLabels) clone() resultLabels {
	out := rl
	out.names, out.gone = maps.Clone(rl.names), maps.Clone(rl.gone)
	if out.names == nil {
		out.names = map[string]bool{}
	}
	if out.gone == nil {
		out.gone = map[string]string{}
	}
	return out
}

// union is what is known of the labels of "a or b": a name is certainly
// absent only if it is absent on both sides.
func union(a, b resultLabels) resultLabels {
	switch {
	case a.bounded && b.bounded:
		out := a.with(slices.Collect(maps.Keys(b.names))...)
		out.why = a.why + " and " + b.why
		out.absent = a.absent && b.absent
		return out
	case a.bounded:
		a, b = b, a
	}
	out := unboundedLabels()
	for n, why := range a.gone {
		if b.missing(n) != "" {
			out.gone[n] = why
		}
	}
	return out
}

// labelsOf works out the labels of an expression's result; ok is false for
// scalars and strings.
func labelsOf(e parser.Expr) (rl resultLabels, ok bool) {
	switch e := e.(type) {
	case *parser.ParenExpr:
		return labelsOf(e.Expr)
	case *parser.StepInvariantExpr:
		return labelsOf(e.Expr)
	case *parser.SubqueryExpr:
		return labelsOf(e.Expr)
	case *parser.MatrixSelector:
		return labelsOf(e.VectorSelector)
	case *parser.UnaryExpr:
		return labelsOf(e.Expr)
	case *parser.VectorSelector:
		return unboundedLabels(), true
	case *parser.AggregateExpr:
		inner, ok := labelsOf(e.Expr)
		if !ok {
			return inner, false
		}
		switch e.Op {
		case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
			return inner, true
		}
		desc := aggregationText(e)
		extra := []string{}
		if e.Op == parser.COUNT_VALUES {
			if s, ok := unparen(e.Param).(*parser.StringLiteral); ok {
				extra = append(extra, s.Val)
			}
		}
		if e.Without {
			return inner.without(desc, e.Grouping...).with(extra...), true
		}
		return boundedLabels(desc, append(slices.Clone(e.Grouping), extra...)...), true
	case *parser.Call:
		switch e.Func.Name {
		case "absent", "absent_over_time":
			var names []string
			why := e.Func.Name + "() returns only the labels of its selector's equality matchers"
			if len(e.Args) > 0 && directSelector(e.Args[0]) == nil {
				why = e.Func.Name + "() of anything but a plain selector returns no labels at all"
			}
			if len(e.Args) > 0 {
				// Prometheus takes the labels from a selector argument
				// as written; anything else, even in parentheses, gives
				// none.
				if vs := directSelector(e.Args[0]); vs != nil {
					for _, m := range vs.LabelMatchers {
						if m.Type == labels.MatchEqual && m.Name != labels.MetricName {
							names = append(names, m.Name)
						}
					}
				}
			}
			rl := boundedLabels(why, names...)
			rl.absent = true
			return rl, true
		case "vector":
			return boundedLabels("vector()"), true
		case "label_replace", "label_join":
			inner, ok := labelsOf(e.Args[0])
			if s, isStr := unparen(e.Args[1]).(*parser.StringLiteral); ok && isStr {
				return inner.with(s.Val), true
			}
			return inner, ok
		case "histogram_quantile":
			inner, ok := labelsOf(e.Args[1])
			return inner.without("histogram_quantile()", "le"), ok
		}
		if e.Func.ReturnType != parser.ValueTypeVector {
			return resultLabels{}, false
		}
		for _, a := range e.Args {
			if t := a.Type(); t == parser.ValueTypeVector || t == parser.ValueTypeMatrix {
				return labelsOf(a)
			}
		}
		return unboundedLabels(), true
	case *parser.BinaryExpr:
		l, lok := labelsOf(e.LHS)
		r, rok := labelsOf(e.RHS)
		switch {
		case !lok && !rok:
			return resultLabels{}, false
		case !rok:
			return l, true
		case !lok:
			return r, true
		}
		vm := e.VectorMatching
		switch e.Op {
		case parser.LAND, parser.LUNLESS:
			return l, true
		case parser.LOR:
			return union(l, r), true
		}
		if vm == nil {
			return l, true
		}
		switch vm.Card {
		case parser.CardManyToOne:
			return l.with(vm.Include...), true
		case parser.CardOneToMany:
			return r.with(vm.Include...), true
		}
		if vm.On {
			return boundedLabels(fmt.Sprintf("on(%s)", strings.Join(vm.MatchingLabels, ", ")), vm.MatchingLabels...), true
		}
		return l.without(fmt.Sprintf("ignoring(%s)", strings.Join(vm.MatchingLabels, ", ")), vm.MatchingLabels...), true
	}
	return resultLabels{}, false
}

// directSelector returns the selector an argument is, as written.
func directSelector(e parser.Expr) *parser.VectorSelector {
	switch e := e.(type) {
	case *parser.VectorSelector:
		return e
	case *parser.MatrixSelector:
		vs, _ := e.VectorSelector.(*parser.VectorSelector)
		return vs
	}
	return nil
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

// orBranches returns the alternatives of an expression's "or"s.
func orBranches(e parser.Expr) []parser.Expr {
	if b, ok := unparen(e).(*parser.BinaryExpr); ok && b.Op == parser.LOR {
		return append(orBranches(b.LHS), orBranches(b.RHS)...)
	}
	return []parser.Expr{e}
}

// labelRef is a use of a series label in a template.
type labelRef struct {
	name    string
	guarded bool // the template tests the label in an if or with
}

// templateLabelRefs returns the series labels a template reads as
// $labels.x, .Labels.x or (index $labels "x"), in order, once each.
func templateLabelRefs(text string) []labelRef {
	if !strings.Contains(text, "{{") {
		return nil
	}
	t := parse.New("t")
	t.Mode = parse.SkipFuncCheck
	if _, err := t.Parse(templateDefs+text, "{{", "}}", map[string]*parse.Tree{}); err != nil {
		return nil
	}
	var (
		order   []string
		guarded = map[string]bool{}
	)
	add := func(name string) {
		if !slices.Contains(order, name) {
			order = append(order, name)
		}
	}
	// names a pipeline reads, so that a test of a label guards its uses.
	reads := func(n parse.Node) []string {
		var out []string
		walkTemplate(n, func(n parse.Node) {
			if name := labelOfNode(n); name != "" {
				out = append(out, name)
			}
		})
		return out
	}
	// visit walks the template; under range and with, . is another value
	// (a query result), so .Labels there is not the alert's.
	var visit func(n parse.Node, rebound bool)
	visit = func(n parse.Node, rebound bool) {
		switch n := n.(type) {
		case nil:
			return
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, k := range n.Nodes {
				visit(k, rebound)
			}
			return
		case *parse.IfNode:
			for _, name := range reads(n.Pipe) {
				guarded[name] = true
			}
			visit(n.Pipe, rebound)
			visit(n.List, rebound)
			visit(n.ElseList, rebound)
			return
		case *parse.WithNode:
			for _, name := range reads(n.Pipe) {
				guarded[name] = true
			}
			visit(n.Pipe, rebound)
			visit(n.List, true)
			visit(n.ElseList, rebound)
			return
		case *parse.RangeNode:
			visit(n.Pipe, rebound)
			visit(n.List, true)
			visit(n.ElseList, rebound)
			return
		case *parse.CommandNode:
			// index $labels "x"
			if len(n.Args) == 3 {
				if id, ok := n.Args[0].(*parse.IdentifierNode); ok && id.Ident == "index" {
					if v, ok := n.Args[1].(*parse.VariableNode); ok && len(v.Ident) == 1 && v.Ident[0] == "$labels" {
						if s, ok := n.Args[2].(*parse.StringNode); ok {
							add(s.Text)
						}
					}
				}
			}
			for _, a := range n.Args {
				visit(a, rebound)
			}
			return
		case *parse.ActionNode:
			visit(n.Pipe, rebound)
			return
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				visit(c, rebound)
			}
			return
		case *parse.ChainNode:
			visit(n.Node, rebound)
			return
		case *parse.TemplateNode:
			visit(n.Pipe, rebound)
			return
		case *parse.FieldNode:
			if rebound {
				return
			}
		}
		if name := labelOfNode(n); name != "" {
			add(name)
		}
	}
	for _, n := range t.Root.Nodes[4:] {
		visit(n, false)
	}
	var out []labelRef
	for _, name := range order {
		out = append(out, labelRef{name: name, guarded: guarded[name]})
	}
	return out
}

// labelOfNode returns the label a $labels.x or .Labels.x node reads.
func labelOfNode(n parse.Node) string {
	switch n := n.(type) {
	case *parse.VariableNode:
		if len(n.Ident) == 2 && n.Ident[0] == "$labels" {
			return n.Ident[1]
		}
	case *parse.FieldNode:
		if len(n.Ident) == 2 && n.Ident[0] == "Labels" {
			return n.Ident[1]
		}
	}
	return ""
}
