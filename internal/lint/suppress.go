package lint

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"sort"
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
		if len(f.directives) == 0 {
			continue // and its lines are never worked out
		}
		off := f.suppressions()
		if off.file[p.Check] || off.file["all"] {
			return true
		}
		if checks := off.rule[ruleKey{p.ruleLine, p.rule}]; checks[p.Check] || checks["all"] {
			return true
		}
	}
	return false
}

// suppressions are the checks a file's comments turn off: for the whole
// file, and for each rule. Worked out once per file, so a problem costs a
// lookup; rescanning the rules and lines for each problem made a file of
// 800 rules, each with a comment, take 78 s.
type suppressions struct {
	file map[string]bool
	rule map[ruleKey]map[string]bool
}

// ruleKey is a rule as a problem names it: its line and name.
type ruleKey struct {
	line int
	name string
}

func (f *RuleFile) suppressions() *suppressions {
	f.offOnce.Do(func() {
		off := &suppressions{file: map[string]bool{}, rule: map[ruleKey]map[string]bool{}}
		lines := f.indexLines()
		for _, d := range f.directives {
			if d.file {
				for _, c := range d.checks {
					off.file[c] = true
				}
				continue
			}
			r := lines.ruleOf(d.line)
			if r == nil {
				continue
			}
			k := ruleKey{r.Line(), r.Name()}
			if off.rule[k] == nil {
				off.rule[k] = map[string]bool{}
			}
			for _, c := range d.checks {
				off.rule[k][c] = true
			}
		}
		f.off = off
	})
	return f.off
}

// lineIndex is what ruleOf needs of a file, read in one pass over its
// lines and rules.
type lineIndex struct {
	rules       []*Rule // by line, in the file's order where lines tie
	code        []int   // code[l]: lines 1..l that hold more than comments
	first, last int     // the first and last line that is not blank
}

func (f *RuleFile) indexLines() *lineIndex {
	starts := f.positions().lineStarts
	x := &lineIndex{code: make([]int, len(starts)+1)}
	for l := 1; l <= len(starts); l++ {
		end := len(f.src)
		if l < len(starts) {
			end = starts[l]
		}
		t := bytes.TrimSpace(f.src[starts[l-1]:end])
		x.code[l] = x.code[l-1]
		if len(t) > 0 && !bytes.Equal(t, []byte("-")) && t[0] != '#' {
			x.code[l]++
		}
		if len(t) > 0 && (f.span[0] == 0 || f.span[0] <= l && l <= f.span[1]) {
			if x.first == 0 {
				x.first = l
			}
			x.last = l
		}
	}
	for gi := range f.Groups {
		for ri := range f.Groups[gi].Rules {
			x.rules = append(x.rules, &f.Groups[gi].Rules[ri])
		}
	}
	slices.SortStableFunc(x.rules, func(a, b *Rule) int { return a.Line() - b.Line() })
	return x
}

// ruleOf returns the rule a directive on a line is about: the next rule
// when only comments and blank lines lie between, else the rule the line
// is in; none outside the file's span (another PrometheusRule of the
// manifest).
func (x *lineIndex) ruleOf(line int) *Rule {
	if line < x.first || line > x.last {
		return nil
	}
	i := sort.Search(len(x.rules), func(i int) bool { return x.rules[i].Line() >= line })
	if i < len(x.rules) && x.onlyComments(line+1, x.rules[i].Line()-1) {
		return x.rules[i]
	}
	// The rule the line is in: the last to start at or before it, the
	// first of those that start on one line.
	j := sort.Search(len(x.rules), func(i int) bool { return x.rules[i].Line() > line }) - 1
	if j < 0 {
		return nil
	}
	for j > 0 && x.rules[j-1].Line() == x.rules[j].Line() {
		j--
	}
	return x.rules[j]
}

// onlyComments reports whether lines from..to (from 1) are blank, comments,
// or the "- " that opens a rule.
func (x *lineIndex) onlyComments(from, to int) bool {
	from, to = max(from, 1), min(to, len(x.code)-1)
	return from > to || x.code[to]-x.code[from-1] == 0
}
