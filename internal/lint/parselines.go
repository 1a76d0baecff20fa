package lint

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/internal/rulecheck"
)

// The problems rulefmt finds are placed from the file's YAML nodes, never
// from the text of its errors, whose positions are partly missing (group
// nodes say 0:0, templates and durations none) and whose wording changes
// between Prometheus releases. What an error is about is found by asking
// rulefmt again about a part of the file: a rule with one field, a prefix
// of the groups, one key alone.

// problems places what rulefmt rejects in a file it decoded: a rule's
// problems at the rule, or at the field that alone brings the same error,
// the others (about groups) at their group.
func (rf *RuleFile) problems(errs []error) []Problem {
	var ps []Problem
	var groupErrs []error
	for _, err := range errs {
		var re *rulefmt.Error
		if !errors.As(err, &re) {
			groupErrs = append(groupErrs, err)
			continue
		}
		ps = append(ps, rf.ruleProblem(re))
	}
	return append(ps, rf.groupProblems(groupErrs)...)
}

func (rf *RuleFile) ruleProblem(re *rulefmt.Error) Problem {
	inner := re.Err.Unwrap()
	p := Problem{Path: rf.Path, Severity: SeverityError, Check: "parse", Message: fmt.Sprintf("rule %d of group %q", re.Rule, re.Group)}
	for _, g := range rf.Groups {
		// A name used for two groups is a problem of its own; the rule's
		// name tells them apart.
		if g.Name != re.Group || re.Rule < 1 || re.Rule > len(g.Rules) || g.Rules[re.Rule-1].Name() != re.RuleName {
			continue
		}
		r := &g.Rules[re.Rule-1]
		if r.Name() != "" {
			p.Message = r.String()
		}
		p.Line = r.Line()
		if inner != nil {
			p.Line = cmp.Or(r.fieldLine(inner.Error()), p.Line)
		}
		break
	}
	if inner != nil {
		p.Message += ": " + inner.Error()
	}
	return p
}

// fieldLine returns the line of the field of r that alone, beside its name
// and expression, makes rulefmt's Rule.Validate say msg; 0 when none does.
func (r *Rule) fieldLine(msg string) int {
	base := rulefmt.Rule{Record: r.Record, Alert: r.Alert, Expr: r.Expr}
	if slices.Contains(validate(base), msg) {
		return 0 // about the name or expression: the rule's line
	}
	p := r.pos()
	for _, f := range []struct {
		line int
		set  func(*rulefmt.Rule)
	}{
		{p.keys["for"], func(x *rulefmt.Rule) { x.For = r.For }},
		{p.keys["keep_firing_for"], func(x *rulefmt.Rule) { x.KeepFiringFor = r.KeepFiringFor }},
	} {
		probe := base
		f.set(&probe)
		if slices.Contains(validate(probe), msg) {
			return f.line
		}
	}
	// An entry's own problem (its template, its name) comes with it
	// alone; one of the whole map (annotations on a recording rule) with
	// any entry, and is placed at the map's key.
	for _, m := range []struct {
		key    string
		values map[string]string
		lines  map[string]int
		set    func(*rulefmt.Rule, map[string]string)
	}{
		{"labels", r.Labels, p.labels, func(x *rulefmt.Rule, m map[string]string) { x.Labels = m }},
		{"annotations", r.Annotations, p.annotations, func(x *rulefmt.Rule, m map[string]string) { x.Annotations = m }},
	} {
		var bring []string
		for k, v := range m.values {
			probe := base
			m.set(&probe, map[string]string{k: v})
			if slices.Contains(validate(probe), msg) {
				bring = append(bring, k)
			}
		}
		switch {
		case len(bring) == 1:
			return m.lines[bring[0]]
		case len(bring) > 1:
			return p.keys[m.key]
		}
	}
	return 0
}

// validate returns what rulefmt says of a rule, without positions.
func validate(r rulefmt.Rule) []string {
	var out []string
	for _, we := range r.Validate(rulefmt.RuleNode{}, model.UTF8Validation, rulecheck.Parser) {
		if err := we.Unwrap(); err != nil {
			out = append(out, err.Error())
		}
	}
	return out
}

// groupProblems places rulefmt's errors about groups (a name missing or
// repeated, a bad group label), which it reports in the order of the
// groups: the k-th is about the last group of the shortest prefix of the
// file's groups, rules left out, that brings k errors.
func (rf *RuleFile) groupProblems(errs []error) []Problem {
	if len(errs) == 0 {
		return nil
	}
	var nodes []*yaml.Node
	if gs := mapValue(rf.top, "groups"); gs != nil {
		nodes = gs.Content
	}
	groups := make([]rulefmt.RuleGroup, len(rf.Groups))
	for i, g := range rf.Groups {
		groups[i] = rulefmt.RuleGroup{Name: g.Name, Labels: g.Labels}
	}
	counts := map[int]int{}
	count := func(n int) int { // the errors of the first n groups
		if c, ok := counts[n]; ok {
			return c
		}
		b, err := yaml.Marshal(rulefmt.RuleGroups{Groups: groups[:n]})
		if err == nil {
			_, perrs := rulefmt.Parse(b, false, model.UTF8Validation, rulecheck.Parser, slog.New(slog.DiscardHandler))
			counts[n] = len(perrs)
		}
		return counts[n]
	}
	var ps []Problem
	for k, err := range errs {
		p := Problem{Path: rf.Path, Severity: SeverityError, Check: "parse", Message: err.Error()}
		if n := sort.Search(len(groups)+1, func(n int) bool { return count(n) > k }); n >= 1 && n <= len(groups) {
			i := n - 1
			p.Line = rf.positions().groups[i]
			// rulefmt prefixes the group's position, which its nodes
			// leave at 0:0.
			p.Message = strings.TrimPrefix(p.Message, "0:0: ")
			if i < len(nodes) {
				p.Message = strings.TrimPrefix(p.Message, fmt.Sprintf("%d:%d: ", nodes[i].Line, nodes[i].Column))
			}
		}
		ps = append(ps, p)
	}
	return ps
}

// decodeProblems places the errors of groups that could not be decoded
// (unknown fields, values of the wrong type, durations that are none) at
// the keys that bring them alone: every key of top, of each group and of
// each rule is handed to source and rulefmt in a file of its own. errs are reported
// as they are when no key alone brings an error.
func decodeProblems(path string, top *yaml.Node, source ruleSource, errs []error) []Problem {
	var ps []Problem
	try := func(at, doc *yaml.Node) {
		b, err := source(doc)
		var perrs []error
		if err != nil {
			perrs = []error{err}
		} else if rgs, errs := rulefmt.Parse(b, false, model.UTF8Validation, rulecheck.Parser, slog.New(slog.DiscardHandler)); rgs == nil {
			perrs = errs
		}
		for _, err := range perrs {
			msgs := []string{err.Error()}
			if te := (*yaml.TypeError)(nil); errors.As(err, &te) {
				msgs = te.Errors
			}
			for _, msg := range msgs {
				ps = append(ps, Problem{Path: path, Line: at.Line, Severity: SeverityError, Check: "parse", Message: withoutLine(msg, b)})
			}
		}
	}
	pairs(top, func(k, v *yaml.Node) {
		if k.Value != "groups" || v.Kind != yaml.SequenceNode {
			try(k, mapping(k, v))
			return
		}
		for _, g := range v.Content {
			if g.Kind != yaml.MappingNode {
				try(g, mapping(scalar("groups"), sequence(g)))
				continue
			}
			pairs(g, func(k, v *yaml.Node) {
				if k.Value != "rules" || v.Kind != yaml.SequenceNode {
					try(k, mapping(scalar("groups"), sequence(mapping(k, v))))
					return
				}
				for _, r := range v.Content {
					if r.Kind != yaml.MappingNode {
						try(r, mapping(scalar("groups"), sequence(mapping(scalar("rules"), sequence(r)))))
						continue
					}
					pairs(r, func(k, v *yaml.Node) {
						try(k, mapping(scalar("groups"), sequence(mapping(scalar("rules"), sequence(mapping(k, v))))))
					})
				}
			})
		}
	})
	if len(ps) > 0 {
		return ps
	}
	for _, err := range errs {
		ps = append(ps, Problem{Path: path, Line: nodeLine(top), Severity: SeverityError, Check: "parse", Message: err.Error()})
	}
	return ps
}

// withoutLine drops the "line N: " that yaml puts before a type error: N
// is a line of the probe, not of the file.
func withoutLine(msg string, probe []byte) string {
	for n := 1; n <= strings.Count(string(probe), "\n")+1; n++ {
		if rest, ok := strings.CutPrefix(msg, fmt.Sprintf("line %d: ", n)); ok {
			return rest
		}
	}
	return msg
}

// pairs calls f with each key and value of a mapping.
func pairs(n *yaml.Node, f func(k, v *yaml.Node)) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		f(n.Content[i], n.Content[i+1])
	}
}

func mapping(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: kv}
}

func sequence(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Content: items}
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
