package lint

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/sre-tools/promgen/internal/kubernetes"
	"github.com/sre-tools/promgen/internal/rulecheck"
)

// RuleFile is a rule file, or one PrometheusRule of a manifest, that parsed
// far enough to be checked: the values rulefmt read, with the lines they
// came from.
type RuleFile struct {
	Path   string
	Groups []Group

	// src is the file as read.
	src []byte
	// top is the mapping whose groups rulefmt read: a plain file's first
	// document, or {groups: spec.groups} of a PrometheusRule, its nodes at
	// the file's lines. nil until a line is asked for, when parseFile did
	// not need to decode the file.
	top *yaml.Node
	// span is the first and last line of a PrometheusRule's document in a
	// manifest, where its rules' comments may be; zero for a whole file.
	span [2]int
	// pos says where the groups and rules are in src. Only a problem, or a
	// comment that may suppress one, needs a line, so src is decoded into
	// YAML nodes the first time one is asked for: a file without problems
	// is read once, into rulefmt's types.
	posOnce sync.Once
	pos     *positions
	// directives are the promgen-lint comments of the file, and off what
	// they turn off, worked out once a problem asks.
	directives []directive
	offOnce    sync.Once
	off        *suppressions
}

// positions are the lines of a file's groups and rules.
type positions struct {
	lineStarts []int
	groups     []int       // the line of each group's name
	rules      [][]rulePos // each group's rules
}

// rulePos is where a rule is.
type rulePos struct {
	line        int            // the alert or record key
	keys        map[string]int // the line of each key of the rule
	expr        yaml.Node      // position and style of the expression
	labels      map[string]int
	annotations map[string]int
	// exprLines is the line of each byte of the expression, worked out the
	// first time a check asks: checks run concurrently.
	exprOnce  sync.Once
	exprLines []int
}

// Group is one rule group of a file.
type Group struct {
	Name   string
	Labels map[string]string
	Rules  []Rule
}

// Rule is one alerting or recording rule with its parsed expression.
type Rule struct {
	rulefmt.Rule
	// AST is the parsed expression; nil when the rule has none or ExprErr
	// says why it does not parse.
	AST     parser.Expr
	ExprErr error

	file        *RuleFile
	group       string
	groupLabels map[string]string
	gi, ri      int // the rule's group and its place in it
}

// IsAlert reports whether the rule is an alerting rule.
func (r *Rule) IsAlert() bool { return r.Alert != "" }

// Name is the alert or record name.
func (r *Rule) Name() string { return cmp.Or(r.Alert, r.Record) }

// String names the rule for messages.
func (r *Rule) String() string {
	if r.IsAlert() {
		return fmt.Sprintf("alert %q", r.Alert)
	}
	return fmt.Sprintf("record %q", r.Record)
}

// Line is the line of the rule's alert or record key.
func (r *Rule) Line() int { return r.pos().line }

// LabelLine returns the line of a label of the rule, or the rule's line when
// the label is not set on it.
func (r *Rule) LabelLine(name string) int {
	p := r.pos()
	if l, ok := p.labels[name]; ok {
		return l
	}
	return p.line
}

// AnnotationLine returns the line of an annotation, or the rule's line.
func (r *Rule) AnnotationLine(name string) int {
	p := r.pos()
	if l, ok := p.annotations[name]; ok {
		return l
	}
	return p.line
}

func (r *Rule) pos() *rulePos { return &r.file.positions().rules[r.gi][r.ri] }

// located counts the files whose positions were worked out, for a test
// that a run without problems works out none.
var located atomic.Int64

// positions decodes the file's YAML nodes, once, to locate its groups and
// rules.
func (rf *RuleFile) positions() *positions {
	rf.posOnce.Do(func() {
		located.Add(1)
		p := &positions{lineStarts: lineStarts(rf.src), groups: make([]int, len(rf.Groups)), rules: make([][]rulePos, len(rf.Groups))}
		if rf.top == nil {
			// rulefmt read src, so it decodes; should it not, no line is known.
			doc := &yaml.Node{}
			_ = yaml.Unmarshal(rf.src, doc)
			rf.top = &yaml.Node{}
			if len(doc.Content) > 0 {
				rf.top = doc.Content[0]
			}
		}
		var groupNodes []*yaml.Node
		if gs := mapValue(rf.top, "groups"); gs != nil {
			groupNodes = gs.Content
		}
		for i, g := range rf.Groups {
			gn := &yaml.Node{}
			if i < len(groupNodes) {
				gn = groupNodes[i]
			}
			p.groups[i] = cmp.Or(nodeLine(mapKey(gn, "name")), gn.Line)
			var ruleNodes []*yaml.Node
			if rs := mapValue(gn, "rules"); rs != nil {
				ruleNodes = rs.Content
			}
			p.rules[i] = make([]rulePos, len(g.Rules))
			for j := range g.Rules {
				n := &yaml.Node{}
				if j < len(ruleNodes) {
					n = ruleNodes[j]
				}
				rp := &p.rules[i][j]
				rp.line = cmp.Or(nodeLine(mapValue(n, "alert")), nodeLine(mapValue(n, "record")), nodeLine(mapValue(n, "expr")), n.Line)
				rp.keys = keyLines(n)
				rp.labels = keyLines(mapValue(n, "labels"))
				rp.annotations = keyLines(mapValue(n, "annotations"))
				if e := mapValue(n, "expr"); e != nil {
					rp.expr = *e
				}
			}
		}
		rf.pos = p
	})
	return rf.pos
}

// staticLabels are the labels the rule and its group set, as Prometheus
// adds them to the rule's output.
func (r *Rule) staticLabels() map[string]string {
	out := map[string]string{}
	for k, v := range r.groupLabels {
		out[k] = v
	}
	for k, v := range r.Labels {
		out[k] = v
	}
	return out
}

// parseFile reads a rule file or a PrometheusRule manifest. A file that is
// not YAML, or not rules at all, is an input problem (exit 2).
func parseFile(f File, rc *rulecheck.Checker) ([]*RuleFile, []Problem) {
	// A rule file Prometheus loads as it is (rc holds those the build
	// checked) needs no YAML nodes until a problem needs a line.
	if rgs, ok := rc.Valid(f.Content); ok {
		rf := newRuleFile(f.Path, f.Content, nil, rgs, rc)
		dirs, ps := directives(f.Path, f.Content)
		rf.directives = dirs
		return []*RuleFile{rf}, ps
	}
	docs, err := yamlDocuments(f.Content)
	if err != nil {
		line, msg := syntaxErrorLine(err)
		return nil, []Problem{{Path: f.Path, Line: line, Severity: SeverityError, Check: "parse", Message: msg, input: true}}
	}
	var (
		rfs      []*RuleFile
		ps       []Problem
		manifest bool
	)
	lines := strings.SplitAfter(string(f.Content), "\n")
	for d, doc := range docs {
		root := doc
		if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			root = root.Content[0]
		}
		if v := mapValue(root, "kind"); v == nil || v.Value != "PrometheusRule" {
			continue
		}
		manifest = true
		groups := mapValue(mapValue(root, "spec"), "groups")
		if groups == nil {
			ps = append(ps, Problem{Path: f.Path, Line: root.Line, Severity: SeverityError, Check: checkInput, input: true,
				Message: fmt.Sprintf("PrometheusRule %s has no spec.groups", manifestName(root))})
			continue
		}
		// The Operator decodes spec.groups into its types and hands them
		// to rulefmt as a rule file of their own; the nodes keep the
		// manifest's lines.
		top := mapping(scalar("groups"), groups)
		src, err := operatorRules(top)
		if err != nil {
			ps = append(ps, decodeProblems(f.Path, top, operatorRules, []error{err})...)
			continue
		}
		rf, errs := parseRules(f.Path, f.Content, src, top, operatorRules, rc)
		ps = append(ps, errs...)
		if rf != nil {
			rf.span = [2]int{groups.Line, len(lines)}
			if d+1 < len(docs) {
				rf.span[1] = documentEnd(lines, docs[d+1].Line)
			}
			rfs = append(rfs, rf)
		}
	}
	if !manifest && len(docs) > 0 && docs[0].Kind == yaml.DocumentNode && len(docs[0].Content) > 0 {
		root := docs[0].Content[0]
		if root.Kind != yaml.MappingNode || mapKey(root, "groups") == nil {
			if f.Found {
				return nil, nil
			}
			return nil, []Problem{{Path: f.Path, Line: root.Line, Severity: SeverityError, Check: checkInput, input: true,
				Message: "not a rule file: no groups, and not a PrometheusRule with spec.groups"}}
		}
		rf, errs := parseRules(f.Path, f.Content, f.Content, root, ruleFile, rc)
		ps = append(ps, errs...)
		if rf != nil {
			rfs = append(rfs, rf)
		}
	}
	dirs, errs := directives(f.Path, f.Content)
	ps = append(ps, errs...)
	for _, rf := range rfs {
		rf.directives = dirs
	}
	return rfs, ps
}

// documentEnd returns the last line of the document before the one whose
// content starts at line next: the line before its "---".
func documentEnd(lines []string, next int) int {
	for l := min(next, len(lines)); l > 1; l-- {
		if strings.HasPrefix(lines[l-1], "---") {
			return l - 1
		}
	}
	return next - 1
}

// ruleSource makes the rule file rulefmt reads of the mapping that holds
// the groups, or says why it cannot.
type ruleSource func(top *yaml.Node) ([]byte, error)

// ruleFile is a plain rule file's groups, as they are.
func ruleFile(top *yaml.Node) ([]byte, error) { return yaml.Marshal(top) }

// operatorRules is what the Operator makes of a PrometheusRule's groups:
// decoded strictly into its types, which know fields Prometheus does not
// (Thanos' partial_response_strategy), and marshalled for rulefmt.
func operatorRules(top *yaml.Node) ([]byte, error) {
	b, err := yaml.Marshal(top)
	if err != nil {
		return nil, err
	}
	var spec monitoringv1.PrometheusRuleSpec
	if err := k8syaml.UnmarshalStrict(b, &spec); err != nil {
		return nil, err
	}
	return kubernetes.RuleFile(spec)
}

// yamlDocuments decodes every document of a file into nodes.
func yamlDocuments(b []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return docs, nil
			}
			return nil, err
		}
		docs = append(docs, &n)
	}
}

// syntaxErrorLine splits a YAML syntax error into its line and message.
// yaml.v3 gives the line of a syntax error only in its text, always as
// "yaml: line N: message" (its parser's failf); the lint tests pin that
// form, so a library that changed it fails them rather than losing lines.
func syntaxErrorLine(err error) (int, string) {
	rest, ok := strings.CutPrefix(err.Error(), "yaml: line ")
	if !ok {
		return 0, err.Error()
	}
	num, msg, ok := strings.Cut(rest, ": ")
	line, convErr := strconv.Atoi(num)
	if !ok || convErr != nil {
		return 0, err.Error()
	}
	return line, msg
}

// mapKey returns the key node of a mapping's key, nil when it has none.
func mapKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

// mapValue returns the value node of a mapping's key, nil when it has none.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func manifestName(root *yaml.Node) string {
	if name := mapValue(mapValue(root, "metadata"), "name"); name != nil {
		return strconv.Quote(name.Value)
	}
	return "(unnamed)"
}

// parseRules parses rules with rulefmt, as Prometheus loads them: src is
// what rulefmt reads, top its nodes at the lines of content, the file, and
// source how src is made of them. It
// returns nil when rulefmt cannot decode the groups at all, and parse
// problems for everything rulefmt rejects except expressions, which
// promql-syntax reports with a finer line.
func parseRules(path string, content, src []byte, top *yaml.Node, source ruleSource, rc *rulecheck.Checker) (*RuleFile, []Problem) {
	var warned warnings
	// rc answers for a valid file, with each distinct template parsed once
	// per run; rulefmt.Parse reports the problems of any other.
	rgs, ok := rc.Valid(src)
	var errs []error
	if !ok {
		rgs, errs = rulefmt.Parse(src, false, model.UTF8Validation, rc.Parser(), slog.New(&warned))
	}
	if rgs == nil {
		// Its warnings only repeat the errors: a broken document reads
		// as a second one.
		return nil, decodeProblems(path, top, source, errs)
	}
	ps := warned.problems(path)
	rf := newRuleFile(path, content, top, rgs, rc)
	var kept []error
	for _, err := range errs {
		if !errors.As(err, new(parser.ParseErrors)) {
			kept = append(kept, err)
		}
	}
	return rf, append(ps, rf.problems(kept)...)
}

func nodeLine(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

func lineStarts(b []byte) []int {
	starts := []int{0}
	for i, c := range b {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
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

// newRuleFile holds the groups rulefmt read from src, each expression
// parsed; top is the mapping of its groups when the caller decoded it.
func newRuleFile(path string, src []byte, top *yaml.Node, rgs *rulefmt.RuleGroups, rc *rulecheck.Checker) *RuleFile {
	rf := &RuleFile{Path: path, src: src, top: top}
	for i, g := range rgs.Groups {
		group := Group{Name: g.Name, Labels: g.Labels}
		for j, r := range g.Rules {
			group.Rules = append(group.Rules, newRule(rf, &group, i, j, r, rc))
		}
		rf.Groups = append(rf.Groups, group)
	}
	return rf
}

func newRule(rf *RuleFile, g *Group, gi, ri int, r rulefmt.Rule, rc *rulecheck.Checker) Rule {
	rule := Rule{Rule: r, file: rf, group: g.Name, groupLabels: g.Labels, gi: gi, ri: ri}
	if r.Expr != "" {
		ast, err := rc.ParseExpr(r.Expr)
		if err != nil {
			rule.ExprErr = err
		} else {
			rule.AST = ast
		}
	}
	return rule
}

func keyLines(n *yaml.Node) map[string]int {
	out := map[string]int{}
	if n == nil {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i].Line
	}
	return out
}
