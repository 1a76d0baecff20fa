// Package rulecheck tells whether Prometheus accepts a rule file: rulefmt
// is the only judge. It remembers what rulefmt.Parse read from each file it
// accepted, and the expressions it parsed, so that `promgen build`, which
// checks every rule file it renders and then lints them, reads each file
// and each expression once. For a file it rejects, rulefmt.Parse says why,
// with lines. (It once carried a copy of rulefmt's validation that parsed
// each template once; BenchmarkLint200Files showed no difference.)
package rulecheck

import (
	"context"
	"log/slog"
	"sync"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// Checker remembers the expressions it has parsed and the files rulefmt
// accepted. It is safe for concurrent use.
type Checker struct {
	accepted sync.Map // file content -> *rulefmt.RuleGroups
	exprs    sync.Map // expression text -> parser.Expr, parsed without error
}

// Parser parses expressions as Prometheus and promtool do by default.
var Parser = parser.NewParser(parser.Options{})

// Valid returns the rule groups of content when rulefmt.Parse (strict, UTF-8
// names, Parser) accepts it without an error or a warning, and ok false
// otherwise: then ask rulefmt.Parse for its problems. The groups of a file
// it has accepted before are returned again, shared: read them only.
func (c *Checker) Valid(content []byte) (groups *rulefmt.RuleGroups, ok bool) {
	if g, ok := c.accepted.Load(string(content)); ok {
		return g.(*rulefmt.RuleGroups), true
	}
	var warned warned
	groups, errs := rulefmt.Parse(content, false, model.UTF8Validation, c.Parser(), slog.New(&warned))
	if len(errs) > 0 || warned {
		return nil, false
	}
	c.accepted.Store(string(content), groups)
	return groups, true
}

// Accept has Valid answer for content with groups from then on: a caller
// that has read content with rulefmt.Parse, without a problem, hands over
// what it read, and lint reads the file again from it.
func (c *Checker) Accept(content []byte, groups *rulefmt.RuleGroups) {
	c.accepted.Store(string(content), groups)
}

// ParseExpr parses an expression as Parser does, once per text: a build
// parses an alert's expression to validate the spec, to check its rule
// file and to lint it.
// The tree is shared: read it only. A text that fails is parsed again
// each time, for its errors.
func (c *Checker) ParseExpr(text string) (parser.Expr, error) {
	if e, ok := c.exprs.Load(text); ok {
		return e.(parser.Expr), nil
	}
	e, err := Parser.ParseExpr(text)
	if err == nil {
		c.exprs.Store(text, e)
	}
	return e, err
}

// Parser is Parser with c's ParseExpr, for rulefmt's checks.
func (c *Checker) Parser() parser.Parser { return sharedParser{Parser, c} }

type sharedParser struct {
	parser.Parser
	c *Checker
}

func (p sharedParser) ParseExpr(text string) (parser.Expr, error) { return p.c.ParseExpr(text) }

// warned records whether rulefmt logged a warning (a second YAML document,
// which Prometheus ignores).
type warned bool

func (w *warned) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warned) Handle(context.Context, slog.Record) error {
	*w = true
	return nil
}
func (w *warned) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warned) WithGroup(string) slog.Handler      { return w }
