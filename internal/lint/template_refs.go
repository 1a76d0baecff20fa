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
	guard := func(pipe *parse.PipeNode) {
		for _, name := range reads(pipe) {
			guarded[name] = true
		}
	}
	// visit walks the template; under range and with, . is another value
	// (a query result), so .Labels there is not the alert's.
	var visit func(n parse.Node, rebound bool)
	branch := func(b *parse.BranchNode, rebound bool) {
		visit(b.Pipe, rebound)
		visit(b.List, true)
		visit(b.ElseList, rebound)
	}
	visit = func(n parse.Node, rebound bool) {
		switch n := n.(type) {
		case *parse.IfNode:
			guard(n.Pipe)
		case *parse.WithNode:
			guard(n.Pipe)
			branch(&n.BranchNode, rebound)
			return
		case *parse.RangeNode:
			branch(&n.BranchNode, rebound)
			return
		case *parse.CommandNode:
			if name := indexedLabel(n); name != "" {
				add(name)
			}
		case *parse.FieldNode:
			if rebound {
				return
			}
		}
		if name := labelOfNode(n); name != "" {
			add(name)
		}
		for _, k := range templateKids(n) {
			visit(k, rebound)
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

// indexedLabel returns the label of an (index $labels "x").
func indexedLabel(n *parse.CommandNode) string {
	if len(n.Args) != 3 {
		return ""
	}
	id, ok := n.Args[0].(*parse.IdentifierNode)
	v, ok2 := n.Args[1].(*parse.VariableNode)
	s, ok3 := n.Args[2].(*parse.StringNode)
	if !ok || !ok2 || !ok3 || id.Ident != "index" || len(v.Ident) != 1 || v.Ident[0] != "$labels" {
		return ""
	}
	return s.Text
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
