package yamlspec

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/spec"
)

// Where locates a problem validation found (a *spec.FieldError) in the
// file: "promgen.yaml:12:5", at the offending field, or at the nearest
// field written above it (an alert's name for a problem inside the
// alert its builder made). Any other error is the file's.
func (d *Doc) Where(err error) string {
	var fe *spec.FieldError
	if !errors.As(err, &fe) {
		return d.Path
	}
	n := d.node(fe)
	return fmt.Sprintf("%s:%d:%d", d.Path, n.Line, n.Column)
}

// node is the node a FieldError is about, or the nearest one written.
func (d *Doc) node(fe *spec.FieldError) *yaml.Node {
	base := d.root
	if fe.Service != "" {
		svcs := valueOf(d.root, "services")
		if s := item(svcs, fe.Service); s != nil {
			base = s
		} else if svcs != nil {
			base = svcs
		}
	}
	if fe.Alert != "" && !fe.Pipeline {
		// A custom alert: its field, in the test when the problem is one's.
		if n := item(valueOf(base, "custom_alerts"), fe.Alert); n != nil {
			if t := item(valueOf(n, "tests"), fe.Test); fe.Test != "" && t != nil {
				return walk(t, fe.Field)
			}
			return walk(n, fe.Field)
		}
	}
	if fe.Alert != "" {
		lists := [][]string{{"alerts"}, {"kubernetes", "alerts"}, {"slos"}}
		if fe.Pipeline {
			lists = [][]string{{"pipeline"}}
		}
		for _, path := range lists {
			list := base
			for _, k := range path {
				if list = valueOf(list, k); list == nil {
					break
				}
			}
			if list == nil {
				continue
			}
			if n := find(list, func(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Value == fe.Alert }); n != nil {
				return n
			}
			// A burn-rate alert is its objectives'.
			if path[0] == "slos" {
				return list
			}
		}
		return base
	}
	return walk(base, fe.Field)
}

// item is the mapping of sequence n whose name is name.
func item(n *yaml.Node, name string) *yaml.Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Content {
		if v := valueOf(c, "name"); v != nil && v.Value == name {
			return c
		}
	}
	return nil
}

// walk follows a FieldError's field path down from n as far as the file
// has it.
func walk(n *yaml.Node, field string) *yaml.Node {
	for _, step := range fieldRE.FindAllStringSubmatch(field, -1) {
		var next *yaml.Node
		switch {
		case step[1] != "":
			next = valueOf(n, step[1])
		case step[2] != "":
			if i, _ := strconv.Atoi(step[2]); n.Kind == yaml.SequenceNode && i < len(n.Content) {
				next = n.Content[i]
			}
		default:
			key, err := strconv.Unquote(step[3])
			if err == nil {
				next = valueOf(n, key)
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return n
}

// fieldRE reads a FieldError's field path: names, [index] and ["key"].
var fieldRE = regexp.MustCompile(`([a-z][a-z0-9_]*)|\[([0-9]+)\]|\[("(?:[^"\\]|\\.)*")\]`)

// valueOf is the value of key in mapping n, nil when there is none.
func valueOf(n *yaml.Node, key string) *yaml.Node {
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
