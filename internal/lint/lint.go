// Package lint checks Prometheus rule files for mistakes that promtool
// accepts but that break alerting in practice: alerts without the labels
// and annotations routing and triage need, counters read raw, volatile
// labels, joins that silence an alert, and metric names no source publishes.
//
// Each check lives in its own file behind the Check interface and is listed
// in checks.go; Lint runs all of them over every file of a run at once, so
// checks such as duplicate-rules see across files.
package lint

import (
	"cmp"
	"fmt"
	"slices"
)

// File is one Prometheus rule file to lint.
type File struct {
	Path    string
	Content []byte
}

// Service is what lint knows of a spec service.
type Service struct {
	Name             string // compose service
	Job              string // prometheus job
	MemoryLimitBytes int64  // 0 = none
}

// Config is the context of a run.
type Config struct {
	Services []Service
}

// Severity says whether a problem fails the run.
type Severity string

// Severities of problems: an error fails the run, a warning does not.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Problem is one finding of a check at a line of a file.
type Problem struct {
	Path     string   `json:"path"`
	Line     int      `json:"line"`
	Severity Severity `json:"severity"`
	Check    string   `json:"check"`
	Message  string   `json:"message"`
}

// String formats the problem as "file:line: severity check-name: message",
// the form editors and CI logs link back to the source. Line 0 means the
// parser named no line, and is left out.
func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s %s: %s", p.Path, p.Severity, p.Check, p.Message)
	}
	return fmt.Sprintf("%s:%d: %s %s: %s", p.Path, p.Line, p.Severity, p.Check, p.Message)
}

// Lint parses every file and runs every check over all of them together. It
// returns all problems, parse errors included (check "parse"), sorted by
// path, line and check.
func Lint(files []File, cfg Config) []Problem {
	var (
		ps     []Problem
		parsed []*RuleFile
	)
	for _, f := range files {
		rf, errs := parseRuleFile(f)
		ps = append(ps, errs...)
		if rf != nil {
			parsed = append(parsed, rf)
		}
	}
	for _, c := range checks {
		for _, p := range c.Check(parsed, cfg) {
			p.Check = c.Name()
			ps = append(ps, p)
		}
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Check, b.Check),
			cmp.Compare(a.Message, b.Message),
		)
	})
	// rulefmt reports a YAML error once per decoding of the file.
	return slices.Compact(ps)
}

// HasErrors reports whether any problem is an error, which makes the run fail.
func HasErrors(ps []Problem) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.Severity == SeverityError })
}
