package rules

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/spec"
)

// Annotation queries are PromQL trees like every expression, printed by the
// same printer; only the Go-template wrapper around them is text.

// placeholder finds the $labels references a query's matchers hold.
var placeholder = regexp.MustCompile(`"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)"`)

// ofAlert is a matcher on the alert's own value of label, filled in by
// templateQuery when the annotation is rendered.
func ofAlert(label string) string { return "$labels." + label }

// templateQuery prints e as an annotation's query pipeline: matcher values
// of the form $labels.x (ofAlert) become the alert's label values, passed
// through printf, so the query is built from the AST and never glued from
// text.
func templateQuery(e parser.Expr) string {
	text := e.String()
	if !placeholder.MatchString(text) {
		return "query `" + text + "`"
	}
	var args []string
	text = placeholder.ReplaceAllStringFunc(strings.ReplaceAll(text, "%", "%%"), func(m string) string {
		args = append(args, ofAlert(placeholder.FindStringSubmatch(m)[1]))
		return "%q"
	})
	return "printf `" + text + "` " + strings.Join(args, " ") + " | query"
}

// queryValue renders the first value e returns when the alert is
// evaluated, piped through pipe and followed by unit, or fallback when it
// returns nothing.
func queryValue(e parser.Expr, pipe, unit, fallback string) string {
	if pipe != "" {
		pipe = " | " + pipe
	}
	return "{{ with " + templateQuery(e) + " }}{{ . | first | value" + pipe + " }}" + unit + "{{ else }}" + fallback + "{{ end }}"
}

// queryLabel renders label of the first series e returns, or fallback when
// it returns nothing.
func queryLabel(e parser.Expr, label, fallback string) string {
	return "{{ with " + templateQuery(e) + " }}{{ . | first | label " + strconv.Quote(label) + " }}{{ else }}" + fallback + "{{ end }}"
}

// sameAs matches each of labels to the alert's own value of it.
func sameAs(names ...string) []*labels.Matcher {
	out := make([]*labels.Matcher, len(names))
	for i, l := range names {
		out[i] = spec.Eq(l, ofAlert(l))
	}
	return out
}
