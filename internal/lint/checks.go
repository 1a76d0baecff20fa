package lint

import (
	"fmt"
	"slices"
	"sync"
)

// Check is one lint rule. It sees every file of a run at once, so checks
// across files (duplicates, recorded metric names) need nothing more.
type Check interface {
	// Name is the check's kebab-case name, printed with each problem.
	Name() string
	// Check returns the problems found; Lint fills in their Check field
	// and applies the policy to them.
	Check(run *Run) []Problem
}

// checks is every check Lint runs, in one place so that adding a check is a
// new file and one line here.
var checks = []Check{
	promqlSyntax{},
	requiredLabels{},
	requiredAnnotations{},
	alertName{},
	recordName{},
	counterFunctions{},
	rateRange{},
	retentionRange{},
	rateAggregation{},
	alertCondition{},
	impossibleComparison{},
	templateLabels{},
	absentLabels{},
	volatileLabels{},
	duplicateRules{},
	unknownMetric{},
	memoryLimit{},
	healthcheck{},
	joinFallback{},
}

// conventionChecks run only where the policy sets conventions: they check a
// team's house rules, which a file written elsewhere need not follow.
var conventionChecks = map[string]bool{"required-labels": true, "required-annotations": true, "alert-name": true}

// checkInput names problems with a file that cannot be read as rules at
// all; they make the run a usage error (exit 2).
const checkInput = "input"

// KnownCheck reports whether name is a check a config or comment may name.
func KnownCheck(name string) bool { return slices.Contains(CheckNames(), name) }

// CheckNames lists every check's name, in the order they run.
func CheckNames() []string {
	var out []string
	for _, c := range checks {
		out = append(out, c.Name())
	}
	return out
}

// Run is one lint run: its config, its parsed files and what checks share.
type Run struct {
	Config
	Policy *Policy
	Files  []*RuleFile

	types *types
	// recorded maps each recorded metric name to the rules that record it.
	recorded map[string][]*Rule
	policies map[[2]string]*Effective
	byPath   map[string][]*RuleFile
	// mu guards what checks, which run concurrently, work out once per
	// run: policies and templateRefs.
	mu sync.Mutex
	// templateRefs remembers templateLabelRefs per template text.
	templateRefs map[string][]labelRef
}

func (run *Run) index() {
	run.recorded = map[string][]*Rule{}
	run.policies = map[[2]string]*Effective{}
	run.byPath = map[string][]*RuleFile{}
	for _, f := range run.Files {
		run.byPath[f.Path] = append(run.byPath[f.Path], f)
		for gi := range f.Groups {
			for ri := range f.Groups[gi].Rules {
				if r := &f.Groups[gi].Rules[ri]; r.Record != "" {
					run.recorded[r.Record] = append(run.recorded[r.Record], r)
				}
			}
		}
	}
}

// policy returns the policy in force for a rule of a file.
func (run *Run) policy(f *RuleFile, r *Rule) *Effective { return run.policyOf(f.Path, r.Name()) }

// policyOf returns the policy in force for the rule named rule of the file
// at path, worked out once per run.
func (run *Run) policyOf(path, rule string) *Effective {
	key := [2]string{path, rule}
	run.mu.Lock()
	defer run.mu.Unlock()
	if e, ok := run.policies[key]; ok {
		return e
	}
	e := run.Policy.For(path, rule)
	run.policies[key] = e
	return e
}

// eachRule runs fn on every rule of every file and gathers its problems.
func (run *Run) eachRule(fn func(f *RuleFile, g *Group, r *Rule) []Problem) []Problem {
	var ps []Problem
	for _, f := range run.Files {
		for gi := range f.Groups {
			g := &f.Groups[gi]
			for ri := range g.Rules {
				ps = append(ps, fn(f, g, &g.Rules[ri])...)
			}
		}
	}
	return ps
}

// ruleProblem is a problem of one rule; the message starts with the rule's
// name so it reads on its own.
func ruleProblem(f *RuleFile, r *Rule, line int, sev Severity, format string, args ...any) Problem {
	return Problem{Path: f.Path, Line: line, Severity: sev, Message: r.String() + ": " + fmt.Sprintf(format, args...), rule: r.Name(), ruleLine: r.Line()}
}
