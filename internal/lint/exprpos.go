package lint

import (
	"cmp"
	"sort"

	"github.com/prometheus/prometheus/promql/parser/posrange"
	"go.yaml.in/yaml/v3"
)

// ExprLine returns the file line of a byte offset into the expression, so
// problems point at the line they are on, whether the expression is a
// literal (|) or folded (>) block, a plain scalar over several lines or a
// quoted one.
func (r *Rule) ExprLine(pos posrange.Pos) int {
	p := r.pos()
	p.exprOnce.Do(func() { p.exprLines = alignScalar(r.Expr, p.expr, r.file) })
	if len(p.exprLines) == 0 {
		return cmp.Or(p.expr.Line, p.line)
	}
	i := min(max(int(pos), 0), len(p.exprLines)-1)
	return p.exprLines[i]
}

// alignScalar returns the source line of each byte of a scalar's value. YAML
// folds line breaks into spaces, strips indentation and unescapes quotes, so
// the value is walked against its source: a run of whitespace in the value
// matches a run in the source, other bytes match one to one, and escapes and
// doubled quotes are skipped. It gives up (the rest on the last line found)
// if the two part ways.
func alignScalar(value string, n yaml.Node, rf *RuleFile) []int {
	if rf == nil {
		return nil
	}
	starts := rf.positions().lineStarts
	if n.Line == 0 || n.Line > len(starts) || value == "" {
		return nil
	}
	src := rf.src
	j := starts[n.Line-1] + max(n.Column-1, 0)
	if j > len(src) {
		return nil
	}
	lineOf := func(off int) int {
		return sort.Search(len(starts), func(i int) bool { return starts[i] > off })
	}
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		for j < len(src) && src[j] != '\n' { // the indicator line
			j++
		}
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		j++
	}
	double := n.Style&yaml.DoubleQuotedStyle != 0
	single := n.Style&yaml.SingleQuotedStyle != 0
	out := make([]int, len(value))
	last := n.Line
	for i := 0; i < len(value); {
		c := value[i]
		if isSpace(c) {
			// Leading indentation and folded breaks: one run against one run.
			for j < len(src) && (isSpace(src[j]) || double && src[j] == '\\' && j+1 < len(src) && src[j+1] == '\n') {
				j++
			}
			for i < len(value) && isSpace(value[i]) {
				out[i] = last
				i++
			}
			continue
		}
		// Skip what the source has and the value does not: escapes,
		// doubled quotes, whitespace the value folded away.
		for k := 0; j < len(src) && src[j] != c && k < 8; j++ {
			if !isSpace(src[j]) {
				k++
			}
		}
		if j >= len(src) || src[j] != c {
			for ; i < len(value); i++ {
				out[i] = last
			}
			break
		}
		last = lineOf(j)
		out[i] = last
		if single && c == '\'' && j+1 < len(src) && src[j+1] == '\'' {
			j++
		}
		i++
		j++
	}
	return out
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
