// Package lint checks Prometheus rule files for mistakes that promtool
// accepts but that break alerting in practice: alerts that always or never
// fire, templates that read labels the expression removed, counters and
// gauges read the wrong way, ranges too short to hold two samples, joins
// that silence an alert, rules that collide, and, where a policy asks for
// them, the house conventions of labels, annotations and names.
//
// Each check lives in its own file behind the Check interface and is listed
// in checks.go; Lint runs all of them over every file of a run at once, so
// checks such as duplicate-rules see across files. A Policy (from a
// .promgen-lint.yml, see config.go) turns checks on and off, sets their
// severity and the conventions, per path and per rule; comments in a rule
// file turn checks off for one rule or the whole file (suppress.go).
package lint

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/sre-tools/promgen/internal/parallel"
	"github.com/sre-tools/promgen/internal/rulecheck"
)

// File is one Prometheus rule file to lint: a rule file or a Kubernetes
// PrometheusRule manifest.
type File struct {
	Path    string
	Content []byte
	// Found is true for a file a folder walk or glob found rather than one
	// named on its own: when it holds no rules at all (a CRD, a
	// kustomization) it is skipped quietly instead of an input error.
	Found bool
}

// Service is what lint knows of a spec service.
type Service struct {
	Name             string // compose service
	Job              string // prometheus job
	MemoryLimitBytes int64  // 0 = none
	Healthcheck      bool   // the container has a healthcheck
}

// Config is the context of a run: what the spec knows, where metric types
// come from, and the policy that decides which checks run how.
type Config struct {
	Services []Service
	// Metadata is metric metadata beyond the catalog, from a metadata file
	// or a live Prometheus; nil when there is none.
	Metadata Metadata
	// Policy decides which checks run with which severity and conventions;
	// nil is DefaultPolicy.
	Policy *Policy
	// Rules checks and decodes the rule files; sharing the Checker that
	// generated and checked them spares decoding them again. nil is a
	// fresh one.
	Rules *rulecheck.Checker
}

// Severity says how bad a problem is; --fail-on picks the least severity
// that fails a run (error by default).
type Severity string

// Severities of problems, most severe first: an error breaks alerting, a
// warning very likely does, info is a hint that rests on a guess (such as a
// metric's type guessed from its name).
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// rank orders severities: higher is more severe, 0 is unknown.
func (s Severity) rank() int {
	switch s {
	case SeverityError:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// ParseSeverity reads a severity name as the config and --fail-on write it.
func ParseSeverity(s string) (Severity, error) {
	if sev := Severity(s); sev.rank() > 0 {
		return sev, nil
	}
	return "", fmt.Errorf("%q is not a severity: want error, warning or info", s)
}

// Problem is one finding of a check at a line of a file.
type Problem struct {
	Path     string   `json:"path"`
	Line     int      `json:"line"`
	Severity Severity `json:"severity"`
	Check    string   `json:"check"`
	Message  string   `json:"message"`

	rule     string // the alert or record name the problem is about, for the policy
	ruleLine int    // and its line, for suppressions
	hint     bool   // rests on a guess: stays info whatever severity the policy sets
	input    bool   // the file could not be read as rules at all
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

// Lint parses every file and runs every check over all of them together,
// with the severities and conventions cfg.Policy sets for each file and
// rule, less what comments in the files turn off. It returns all problems,
// parse errors included (check "parse"), sorted by path, line and check.
func Lint(files []File, cfg Config) []Problem {
	pol := cfg.Policy
	if pol == nil {
		pol = DefaultPolicy()
	}
	var (
		ps     []Problem
		parsed []*RuleFile
	)
	for _, r := range parseFiles(files, cfg.Rules) {
		ps = append(ps, r.problems...)
		parsed = append(parsed, r.files...)
	}
	run := &Run{Config: cfg, Policy: pol, Files: parsed, types: newTypes(cfg.Metadata)}
	run.index()
	// The checks read the parsed files and share only what run guards, so
	// they run on every core; their problems are gathered in check order.
	found := make([][]Problem, len(checks))
	parallel.Each(len(checks), func(i int) { found[i] = checks[i].Check(run) })
	for i, c := range checks {
		for _, p := range found[i] {
			p.Check = c.Name()
			ps = append(ps, p)
		}
	}
	ps = run.apply(ps)
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Check, b.Check),
			cmp.Compare(a.Message, b.Message),
		)
	})
	// rulefmt reports a YAML error once per decoding of the file.
	return slices.CompactFunc(ps, func(a, b Problem) bool { return a.String() == b.String() })
}

// parsedFile is what parseFile makes of one file.
type parsedFile struct {
	files    []*RuleFile
	problems []Problem
}

// parseFiles parses files on every core, in their order: each file is
// parsed on its own, and rulefmt's parse and template checks are most of a
// large run. The files share one rulecheck.Checker, so a template that
// every file repeats is parsed once.
func parseFiles(files []File, rc *rulecheck.Checker) []parsedFile {
	out := make([]parsedFile, len(files))
	if rc == nil {
		rc = &rulecheck.Checker{}
	}
	parallel.Each(len(files), func(i int) { out[i].files, out[i].problems = parseFile(files[i], rc) })
	return out
}

// apply sets each problem's severity by the policy of its file and rule and
// drops those the policy or a comment turns off.
func (run *Run) apply(ps []Problem) []Problem {
	out := ps[:0]
	for _, p := range ps {
		if p.Check == "parse" || p.Check == checkInput {
			out = append(out, p)
			continue
		}
		sev, on := run.enabled(run.policyOf(p.Path, p.rule), p.Check)
		if !on || run.suppressed(p) {
			continue
		}
		if sev != "" && !p.hint {
			p.Severity = sev
		}
		out = append(out, p)
	}
	return out
}

// HasErrors reports whether any problem is an error, which makes the run fail.
func HasErrors(ps []Problem) bool {
	return HasAtLeast(ps, SeverityError)
}

// HasAtLeast reports whether any problem is at least as severe as min: the
// --fail-on threshold.
func HasAtLeast(ps []Problem, min Severity) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.Severity.rank() >= min.rank() })
}

// HasInputErrors reports whether a file could not be read as rules at all (it
// is not YAML, a PrometheusRule has no spec.groups, a comment names an
// unknown check): the run is a usage error, not a finding.
func HasInputErrors(ps []Problem) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.input })
}

// enabled says whether a check runs under a policy, and at which severity
// ("" for the check's own).
func (run *Run) enabled(eff *Effective, check string) (Severity, bool) {
	switch s := eff.setting(check); s {
	case SettingOff:
		return "", false
	case SettingOn:
		return "", true
	case "":
		switch {
		case conventionChecks[check]:
			return "", eff.Conventions != nil
		case check == "unknown-metric":
			return "", run.Metadata != nil
		}
		return "", true
	default:
		return Severity(s), true
	}
}
