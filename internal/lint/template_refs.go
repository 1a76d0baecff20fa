package lint

import (
	"slices"
	"strings"
	"text/template/parse"
)

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
