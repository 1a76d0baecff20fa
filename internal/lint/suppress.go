package lint

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// A directive is a comment that turns checks off:
//
//	# promgen-lint disable CHECK[,CHECK...]        the next rule (or the rule the comment is in)
//	# promgen-lint file/disable CHECK[,CHECK...]   every rule of the file
//
// "all" names every check. Inside an expression, a PromQL comment works the
// same way.
type directive struct {
	line   int
	file   bool
	checks []string
}

var (
	directiveRe = regexp.MustCompile(`#\s*promgen-lint\b(.*)$`)
	disableRe   = regexp.MustCompile(`^\s+(file/)?disable\s+(\S.*?)\s*$`)
)

// directives finds the promgen-lint comments of a file; one that names an
// unknown check or is not a disable is an input problem at its line.
func directives(path string, content []byte) ([]directive, []Problem) {
	var (
		out []directive
		ps  []Problem
	)
	if !bytes.Contains(content, []byte("promgen-lint")) {
		return nil, nil // most files have none: spare matching every line
	}
	for i, line := range strings.Split(string(content), "\n") {
		m := directiveRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		bad := func(format string, args ...any) {
			ps = append(ps, Problem{Path: path, Line: i + 1, Severity: SeverityError, Check: checkInput, input: true, Message: fmt.Sprintf(format, args...)})
		}
		d := disableRe.FindStringSubmatch(m[1])
		if d == nil {
			bad("promgen-lint comment %q: want \"# promgen-lint disable CHECK\" or \"# promgen-lint file/disable CHECK\"", strings.TrimSpace(m[0]))
			continue
		}
		dir := directive{line: i + 1, file: d[1] != ""}
		for _, name := range strings.FieldsFunc(d[2], func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			if name != "all" && !KnownCheck(name) {
				bad("promgen-lint comment: unknown check %q (known: all, %s)", name, strings.Join(CheckNames(), ", "))
				continue
			}
			dir.checks = append(dir.checks, name)
		}
		out = append(out, dir)
	}
	return out, ps
}

// suppressed reports whether a comment turns the problem's check off for
// its rule or its file.
func (run *Run) suppressed(p Problem) bool {
	for _, f := range run.byPath[p.Path] {
		for _, d := range f.directives {
			if !slices.Contains(d.checks, p.Check) && !slices.Contains(d.checks, "all") {
				continue
			}
			if d.file {
				return true
			}
			if r := f.ruleOf(d.line); r != nil && p.ruleLine == r.Line() && p.rule == r.Name() {
				return true
			}
		}
	}
	return false
}

// ruleOf returns the rule a directive on a line is about: the next rule
// when only comments and blank lines lie between, else the rule the line
// is in.
func (f *RuleFile) ruleOf(line int) *Rule {
	if !f.holds(line) {
		return nil // another PrometheusRule of the manifest
	}
	var next, in *Rule
	for gi := range f.Groups {
		for ri := range f.Groups[gi].Rules {
			r := &f.Groups[gi].Rules[ri]
			if r.Line() >= line && (next == nil || r.Line() < next.Line()) {
				next = r
			}
			if r.Line() <= line && (in == nil || r.Line() > in.Line()) {
				in = r
			}
		}
	}
	if next != nil && f.onlyComments(line+1, next.Line()-1) {
		return next
	}
	return in
}

// onlyComments reports whether lines from..to (from 1) are blank, comments,
// or the "- " that opens a rule.
func (f *RuleFile) onlyComments(from, to int) bool {
	starts := f.positions().lineStarts
	for l := from; l <= to; l++ {
		if l < 1 || l > len(starts) {
			continue
		}
		end := len(f.src)
		if l < len(starts) {
			end = starts[l]
		}
		t := strings.TrimSpace(string(f.src[starts[l-1]:end]))
		if t != "" && t != "-" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

// holds reports whether a line lies within the text rulefmt read: for a
// PrometheusRule, its spec.groups.
func (f *RuleFile) holds(line int) bool {
	first, last := 0, 0
	for l := 1; l <= len(f.positions().lineStarts); l++ {
		if !f.onlyBlank(l) {
			if first == 0 {
				first = l
			}
			last = l
		}
	}
	return line >= first && line <= last
}

func (f *RuleFile) onlyBlank(l int) bool {
	end := len(f.src)
	starts := f.positions().lineStarts
	if l < len(starts) {
		end = starts[l]
	}
	return strings.TrimSpace(string(f.src[starts[l-1]:end])) == ""
}
