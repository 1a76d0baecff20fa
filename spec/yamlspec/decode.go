package yamlspec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/spec"
)

// Error is one problem of a spec file, where it is written.
type Error struct {
	File         string
	Line, Column int
	Problem      string
}

func (e *Error) Error() string {
	switch {
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", e.File, e.Problem)
	case e.Column == 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Problem)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Problem)
}

// Doc is a decoded spec file: its fields, and its nodes, which locate the
// problems validation finds later.
type Doc struct {
	// Path is the file's path, as errors name it.
	Path string
	File File
	// Spec is what the file says, as a Go spec would say it.
	Spec spec.Spec
	root *yaml.Node
}

// Load reads and decodes the spec file at path.
func Load(path string) (*Doc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// Parse decodes a spec file strictly: an unknown field, a value of the
// wrong type, an unknown alert name or a bad duration, size or matcher is
// an error, and every one of them is reported, joined, each an *Error;
// then the PromQL of every custom alert, whose problems are reported
// likewise.
func Parse(path string, data []byte) (*Doc, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &Error{File: path, Line: syntaxLine(err), Problem: strings.TrimPrefix(syntaxProblem(err), "yaml: ")}
	}
	if len(root.Content) == 0 {
		return nil, &Error{File: path, Problem: "empty: write a spec (promgen init writes a starter)"}
	}
	doc := &Doc{Path: path, root: root.Content[0]}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&doc.File)
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te):
		var errs []error
		for _, msg := range te.Errors {
			errs = append(errs, doc.typeError(msg))
		}
		return nil, errors.Join(errs...)
	case err == io.EOF:
		return nil, &Error{File: path, Problem: "empty: write a spec (promgen init writes a starter)"}
	case err != nil:
		return nil, &Error{File: path, Problem: err.Error()}
	}
	if dec.Decode(new(yaml.Node)) != io.EOF {
		return nil, &Error{File: path, Problem: "more than one YAML document: a spec is one"}
	}
	if doc.Spec, err = doc.spec(); err != nil {
		return nil, err
	}
	return doc, nil
}

// Dir is the folder of the spec file, which its relative paths start from.
func (d *Doc) Dir() string { return filepath.Dir(d.Path) }

var (
	// The decoder's messages start with the line; nodeError's with the
	// column too.
	lineRE = regexp.MustCompile(`^line (\d+)(?:, column (\d+))?: (.*)$`)
	// The decoder names an unknown field, and quotes (cut to 7 characters
	// and "...") a value of the wrong type.
	unknownRE = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	valueRE   = regexp.MustCompile("`([^`]*?)(\\.\\.\\.)?`")
)

// typeError turns one of the decoder's messages into an Error, with the
// column of the node it is about, which the decoder leaves out.
func (d *Doc) typeError(msg string) error {
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		return &Error{File: d.Path, Problem: msg}
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	problem := m[3]
	if col > 0 {
		return &Error{File: d.Path, Line: line, Column: col, Problem: problem}
	}
	match := func(*yaml.Node) bool { return true }
	if u := unknownRE.FindStringSubmatch(problem); u != nil {
		problem = fmt.Sprintf("unknown field %q", u[1])
		match = func(n *yaml.Node) bool { return n.Value == u[1] }
	} else if v := valueRE.FindStringSubmatch(problem); v != nil {
		match = func(n *yaml.Node) bool { return n.Value == v[1] || v[2] != "" && strings.HasPrefix(n.Value, v[1]) }
	}
	if n := find(d.root, func(n *yaml.Node) bool { return n.Line == line && match(n) }); n != nil {
		col = n.Column
	}
	return &Error{File: d.Path, Line: line, Column: col, Problem: problem}
}

// find returns the first node under n, in document order, that match
// accepts.
func find(n *yaml.Node, match func(*yaml.Node) bool) *yaml.Node {
	if match(n) {
		return n
	}
	for _, c := range n.Content {
		if f := find(c, match); f != nil {
			return f
		}
	}
	return nil
}

var syntaxRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func syntaxLine(err error) int {
	if m := syntaxRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func syntaxProblem(err error) string {
	if m := syntaxRE.FindStringSubmatch(err.Error()); m != nil {
		return m[2]
	}
	return err.Error()
}
