package lint

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/parser/posrange"
	"go.yaml.in/yaml/v3"
)

// RuleFile is a rule file that parsed far enough to be checked: the values
// rulefmt read, with the lines they came from.
type RuleFile struct {
	Path   string
	Groups []Group
}

// Group is one rule group of a file.
type Group struct {
	Name   string
	Line   int
	Labels map[string]string
	Rules  []Rule
}

// Rule is one alerting or recording rule with its parsed expression.
type Rule struct {
	rulefmt.Rule
	// Line is the line of the rule's alert or record key.
	Line int
	// AST is the parsed expression; nil when the rule has none or ExprErr
	// says why it does not parse.
	AST     parser.Expr
	ExprErr error

	exprLine    int
	exprLiteral bool // a "|" block, whose text starts on the line after exprLine
	labelLines  map[string]int
}

// IsAlert reports whether the rule is an alerting rule.
func (r *Rule) IsAlert() bool { return r.Alert != "" }

// String names the rule for messages.
func (r *Rule) String() string {
	if r.IsAlert() {
		return fmt.Sprintf("alert %q", r.Alert)
	}
	return fmt.Sprintf("record %q", r.Record)
}

// LabelLine returns the line of a label of the rule, or the rule's line when
// the label is not set on it.
func (r *Rule) LabelLine(name string) int {
	if l, ok := r.labelLines[name]; ok {
		return l
	}
	return r.Line
}

// ExprLine returns the file line of a byte offset into the expression, so
// problems in a multi-line "|" expression point at the line they are on.
func (r *Rule) ExprLine(pos posrange.Pos) int {
	if !r.exprLiteral {
		return r.exprLine
	}
	end := min(max(int(pos), 0), len(r.Expr))
	return r.exprLine + 1 + strings.Count(r.Expr[:end], "\n")
}

// promql parses expressions the way Prometheus and promtool do by default:
// no experimental syntax.
var promql = parser.NewParser(parser.Options{})

// Positions of a rule file: rulefmt keeps none of labels and annotations and
// hides the ones it has, so the file is decoded a second time into nodes.
type (
	fileNode struct {
		Groups []groupNode `yaml:"groups"`
	}
	groupNode struct {
		Name  yaml.Node  `yaml:"name"`
		Rules []ruleNode `yaml:"rules"`
	}
	ruleNode struct {
		Record yaml.Node `yaml:"record"`
		Alert  yaml.Node `yaml:"alert"`
		Expr   yaml.Node `yaml:"expr"`
		Labels yaml.Node `yaml:"labels"`
	}
)

// parseRuleFile parses a file with rulefmt, as Prometheus loads it. It
// returns nil when the YAML cannot be read at all, and parse problems for
// everything rulefmt rejects except expressions, which promql-syntax reports
// with a finer line.
func parseRuleFile(f File) (*RuleFile, []Problem) {
	var warned warnings
	rgs, errs := rulefmt.Parse(f.Content, false, model.UTF8Validation, promql, slog.New(&warned))
	if rgs == nil {
		// Its warnings only repeat the errors: a broken document reads
		// as a second one.
		return nil, parseProblems(f.Path, errs, nil)
	}
	ps := warned.problems(f.Path)
	var nodes fileNode
	if err := yaml.Unmarshal(f.Content, &nodes); err != nil {
		return nil, append(ps, parseProblems(f.Path, append(errs, err), nil)...)
	}
	rf := &RuleFile{Path: f.Path}
	for i, g := range rgs.Groups {
		gn := nodes.Groups[i]
		group := Group{Name: g.Name, Line: gn.Name.Line, Labels: g.Labels}
		for j, r := range g.Rules {
			group.Rules = append(group.Rules, newRule(r, gn.Rules[j]))
		}
		rf.Groups = append(rf.Groups, group)
	}
	var kept []error
	for _, err := range errs {
		if !errors.As(err, new(parser.ParseErrors)) {
			kept = append(kept, err)
		}
	}
	return rf, append(ps, parseProblems(f.Path, kept, rf)...)
}

// warnings collects what rulefmt logs as warnings: content it ignores, such
// as every YAML document after the first, which Prometheus never loads.
type warnings []string

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	*w = append(*w, r.Message)
	return nil
}

func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }

// problems reports the warnings for a file; rulefmt names no line for them.
func (w warnings) problems(path string) []Problem {
	var ps []Problem
	for _, msg := range w {
		ps = append(ps, Problem{Path: path, Severity: SeverityWarning, Check: "parse", Message: msg})
	}
	return ps
}

func newRule(r rulefmt.Rule, n ruleNode) Rule {
	rule := Rule{
		Rule:        r,
		Line:        cmp.Or(n.Alert.Line, n.Record.Line, n.Expr.Line),
		exprLine:    n.Expr.Line,
		exprLiteral: n.Expr.Style&yaml.LiteralStyle != 0,
		labelLines:  map[string]int{},
	}
	for i := 0; i+1 < len(n.Labels.Content); i += 2 {
		rule.labelLines[n.Labels.Content[i].Value] = n.Labels.Content[i].Line
	}
	if r.Expr != "" {
		ast, err := promql.ParseExpr(r.Expr)
		if err != nil {
			rule.ExprErr = err
		} else {
			rule.AST = ast
		}
	}
	return rule
}

var (
	// rulefmt prefixes errors with "line:col: " and sometimes a second one.
	posPrefix = regexp.MustCompile(`(?s)^(\d+):\d+: (?:\d+:\d+: )?(.*)$`)
	// yaml names lines as "yaml: line N: " or, in unmarshal errors, "line N: ".
	yamlLine = regexp.MustCompile(`(?s)^(?:yaml: )?line (\d+): (.*)$`)
)

// parseProblems turns rulefmt and yaml errors into problems at the line the
// parser named, each unmarshal error of a file separately.
func parseProblems(path string, errs []error, rf *RuleFile) []Problem {
	var ps []Problem
	add := func(msg string, fallback int) {
		line := 0
		for _, re := range []*regexp.Regexp{posPrefix, yamlLine} {
			if m := re.FindStringSubmatch(msg); m != nil {
				line, _ = strconv.Atoi(m[1])
				msg = m[2]
				break
			}
		}
		// rulefmt gives "0:0" for nodes that were never filled in.
		line = cmp.Or(line, fallback, groupLine(rf, msg))
		ps = append(ps, Problem{Path: path, Line: line, Severity: SeverityError, Check: "parse", Message: msg})
	}
	for _, err := range errs {
		var te *yaml.TypeError
		var re *rulefmt.Error
		switch {
		case errors.As(err, &te):
			for _, msg := range te.Errors {
				add(msg, 0)
			}
		case errors.As(err, &re):
			add(err.Error(), ruleLine(rf, re.Group, re.Rule))
		default:
			add(err.Error(), 0)
		}
	}
	return ps
}

// ruleLine finds the line of the n-th (from 1) rule of a group, for the
// rulefmt errors that name no line, such as bad templates.
func ruleLine(rf *RuleFile, group string, n int) int {
	if rf == nil {
		return 0
	}
	for _, g := range rf.Groups {
		if g.Name == group && n >= 1 && n <= len(g.Rules) {
			return g.Rules[n-1].Line
		}
	}
	return 0
}

// repeatedGroup matches rulefmt's error for a group name used twice in a file.
var repeatedGroup = regexp.MustCompile(`^groupname: "(.*)" is repeated in the same file$`)

// groupLine finds the line of a group that rulefmt's group errors are about:
// rulefmt means to give it but its group nodes carry no position (line 0).
func groupLine(rf *RuleFile, msg string) int {
	if rf == nil {
		return 0
	}
	name, seen := "", 0
	if m := repeatedGroup.FindStringSubmatch(msg); m != nil {
		name, seen = m[1], 1 // the repeat, not the first
	} else if msg != "Groupname must not be empty" {
		return 0
	}
	for _, g := range rf.Groups {
		if g.Name == name {
			if seen == 0 {
				return g.Line
			}
			seen--
		}
	}
	return 0
}
