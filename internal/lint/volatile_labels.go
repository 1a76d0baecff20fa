package lint

import (
	"maps"
	"slices"
	"text/template/parse"
)

// templateDefs are the variables Prometheus defines before expanding an
// alert's templates; parsing needs them declared.
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// volatileLabels reports alert labels whose template reads data that changes
// between evaluations: the sample value, query results or the time. A label
// is part of an alert's identity, so each change ends the alert and starts a
// new one whose for timer begins again; such data belongs in annotations.
type volatileLabels struct{}

func (volatileLabels) Name() string { return "volatile-labels" }

func (volatileLabels) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if !r.IsAlert() {
			return nil
		}
		var ps []Problem
		for _, name := range slices.Sorted(maps.Keys(r.Labels)) {
			if what := volatileData(r.Labels[name]); what != "" {
				ps = append(ps, ruleProblem(f, r, r.LabelLine(name), SeverityError,
					"label %q uses %s, which changes between evaluations and resets the alert's for timer; put it in an annotation", name, what))
			}
		}
		return ps
	})
}

// volatileData returns what volatile data a label template reads, or "" if
// none (or if it does not parse, which the parse check reports).
func volatileData(text string) string {
	t := parse.New("label")
	t.Mode = parse.SkipFuncCheck
	if _, err := t.Parse(templateDefs+text, "{{", "}}", map[string]*parse.Tree{}); err != nil {
		return ""
	}
	// Skip the definitions, which read .Value themselves.
	var found string
	for _, n := range t.Root.Nodes[4:] {
		walkTemplate(n, func(n parse.Node) {
			if found != "" {
				return
			}
			switch n := n.(type) {
			case *parse.VariableNode:
				if n.Ident[0] == "$value" {
					found = "$value"
				}
			case *parse.FieldNode:
				if n.Ident[0] == "Value" {
					found = ".Value"
				}
			case *parse.IdentifierNode:
				if n.Ident == "query" || n.Ident == "now" {
					found = n.Ident + "()"
				}
			}
		})
	}
	return found
}

// walkTemplate calls fn on a template node and everything under it.
func walkTemplate(n parse.Node, fn func(parse.Node)) {
	fn(n)
	for _, k := range templateKids(n) {
		walkTemplate(k, fn)
	}
}

// templateKids returns the nodes under a template node, in order.
func templateKids(n parse.Node) []parse.Node {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil { // an if without else has a nil ElseList
			return n.Nodes
		}
	case *parse.ActionNode:
		return []parse.Node{n.Pipe}
	case *parse.PipeNode:
		if n != nil { // {{template "x"}} has a nil Pipe
			kids := make([]parse.Node, 0, len(n.Decl)+len(n.Cmds))
			for _, d := range n.Decl {
				kids = append(kids, d)
			}
			for _, c := range n.Cmds {
				kids = append(kids, c)
			}
			return kids
		}
	case *parse.CommandNode:
		return n.Args
	case *parse.ChainNode:
		return []parse.Node{n.Node}
	case *parse.IfNode:
		return []parse.Node{n.Pipe, n.List, n.ElseList}
	case *parse.RangeNode:
		return []parse.Node{n.Pipe, n.List, n.ElseList}
	case *parse.WithNode:
		return []parse.Node{n.Pipe, n.List, n.ElseList}
	case *parse.TemplateNode:
		return []parse.Node{n.Pipe}
	}
	return nil
}
