package lint

import (
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sre-tools/promgen/conventions"
)

// Setting is what a policy says of one check: off, on at the check's own
// severity, or on at a given severity.
type Setting string

// Settings a policy may give a check.
const (
	SettingOff     Setting = "off"
	SettingOn      Setting = "on"
	SettingError   Setting = Setting(SeverityError)
	SettingWarning Setting = Setting(SeverityWarning)
	SettingInfo    Setting = Setting(SeverityInfo)
)

// Conventions are a team's house rules for alerts and recording rules. The
// checks required-labels, required-annotations and alert-name run only where
// a policy sets conventions; record-name runs everywhere with the shape
// Prometheus' documentation gives, and with RecordName where it is set.
type Conventions struct {
	// Labels every alert must carry, each with its allowed values (none:
	// any non-empty value).
	Labels map[string][]string
	// Annotations every alert must carry, non-empty.
	Annotations []string
	// AlertName is the pattern alert names must match; nil: any.
	AlertName *regexp.Regexp
	// AlertNameDoc says the pattern in words for messages, e.g. "CamelCase,
	// like ServiceDown"; "" shows the pattern alone.
	AlertNameDoc string
	// RecordName is the pattern recording rule names must match; nil:
	// level:metric:operations as Prometheus documents it.
	RecordName *regexp.Regexp
}

// House returns promgen's own conventions, from package conventions: a
// severity out of its set, summary, description and runbook_url, and
// CamelCase alert names.
func House() *Conventions {
	return &Conventions{
		Labels:       map[string][]string{conventions.LabelSeverity: conventions.SeverityNames()},
		Annotations:  slices.Clone(conventions.RequiredAnnotations),
		AlertName:    conventions.AlertName,
		AlertNameDoc: "CamelCase, like ServiceDown",
	}
}

// Policy decides, for each file and rule, which checks run at which
// severity, under which conventions and scrape interval. Overrides apply in
// order over the top level, the last match winning per setting.
type Policy struct {
	// Root is the folder path globs are relative to: the config file's.
	Root string
	// ScrapeInterval is the scrape interval rate-range assumes; 0 is
	// Prometheus' default of 1m.
	ScrapeInterval time.Duration
	// Retention is how long the Prometheus that loads the rules keeps
	// samples, which the retention check holds ranges to; 0 is unknown,
	// and the check stays quiet.
	Retention   time.Duration
	Checks      map[string]Setting
	Conventions *Conventions
	Overrides   []Override
}

// Override is a part of a policy that applies to the files matching one of
// Paths (globs; none: every file) and the rules whose alert or record name
// matches one of Rules (regexps; none: every rule).
type Override struct {
	Paths          []string
	Rules          []*regexp.Regexp
	ScrapeInterval time.Duration
	Retention      time.Duration
	Checks         map[string]Setting
	// Conventions replace the ones in force when set; NoConventions turns
	// them off.
	Conventions   *Conventions
	NoConventions bool

	paths []*regexp.Regexp
}

// DefaultPolicy is the policy without a config file: every correctness
// check on, house conventions off, unknown-metric on only with a metric
// source beyond the catalog.
func DefaultPolicy() *Policy { return &Policy{} }

// HousePolicy is the policy for promgen's own output: every check on with
// house conventions, unknown-metric against the catalog, and the scrape
// interval of generated/prometheus/prometheus.yml.
func HousePolicy() *Policy {
	return &Policy{
		ScrapeInterval: 15 * time.Second,
		Checks:         map[string]Setting{"unknown-metric": SettingOn},
		Conventions:    House(),
	}
}

// Effective is the policy in force for one rule of one file.
type Effective struct {
	ScrapeInterval time.Duration
	// ScrapeIntervalSet is false when ScrapeInterval is Prometheus' default,
	// assumed because no config says.
	ScrapeIntervalSet bool
	// Retention is the Prometheus retention; 0 when no one says.
	Retention   time.Duration
	Conventions *Conventions
	checks      map[string]Setting
}

// DefaultScrapeInterval is Prometheus' default global scrape_interval.
const DefaultScrapeInterval = time.Minute

// For returns the policy in force for the rule named rule ("" for the file
// as a whole) of the file at path.
func (p *Policy) For(path, rule string) *Effective {
	eff := &Effective{ScrapeInterval: p.ScrapeInterval, Retention: p.Retention, Conventions: p.Conventions, checks: map[string]Setting{}}
	for k, v := range p.Checks {
		eff.checks[k] = v
	}
	rel := p.relative(path)
	for i := range p.Overrides {
		o := &p.Overrides[i]
		if !o.matches(rel, rule) {
			continue
		}
		if o.ScrapeInterval > 0 {
			eff.ScrapeInterval = o.ScrapeInterval
		}
		if o.Retention > 0 {
			eff.Retention = o.Retention
		}
		if o.Conventions != nil {
			eff.Conventions = o.Conventions
		}
		if o.NoConventions {
			eff.Conventions = nil
		}
		for k, v := range o.Checks {
			eff.checks[k] = v
		}
	}
	eff.ScrapeIntervalSet = eff.ScrapeInterval > 0
	if !eff.ScrapeIntervalSet {
		eff.ScrapeInterval = DefaultScrapeInterval
	}
	return eff
}

// setting returns what the policy says of a check, "" when nothing.
func (e *Effective) setting(check string) Setting { return e.checks[check] }

// relative returns path relative to the policy's root with forward slashes,
// as path globs are written; paths outside the root are kept as given.
func (p *Policy) relative(path string) string {
	path = filepath.Clean(path)
	if p.Root != "" {
		if abs, err := filepath.Abs(path); err == nil {
			if rel, err := filepath.Rel(p.Root, abs); err == nil && !strings.HasPrefix(rel, "..") {
				path = rel
			}
		}
	}
	return filepath.ToSlash(path)
}

func (o *Override) matches(path, rule string) bool {
	if o.paths == nil && len(o.Paths) > 0 {
		for _, g := range o.Paths {
			o.paths = append(o.paths, globRegexp(g))
		}
	}
	if len(o.paths) > 0 && !slices.ContainsFunc(o.paths, func(re *regexp.Regexp) bool { return re.MatchString(path) }) {
		return false
	}
	if len(o.Rules) > 0 && !slices.ContainsFunc(o.Rules, func(re *regexp.Regexp) bool { return re.MatchString(rule) }) {
		return false
	}
	return true
}

// globRegexp turns a path glob into a regexp: * and ? match within one path
// element, ** across elements, [...] a class; a glob without a slash
// matches the file name in any folder.
func globRegexp(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	if !strings.Contains(glob, "/") {
		b.WriteString("(?:.*/)?")
	}
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch {
		case strings.HasPrefix(glob[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		case c == '[':
			end := strings.IndexByte(glob[i:], ']')
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := glob[i+1 : i+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + class + "]")
			i += end
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil { // a class the config validated cannot get here
		return regexp.MustCompile(`^$.`)
	}
	return re
}

// validGlob reports whether every class of a glob is closed and valid.
func validGlob(glob string) error {
	for i := 0; i < len(glob); i++ {
		if glob[i] != '[' {
			continue
		}
		end := strings.IndexByte(glob[i:], ']')
		if end < 0 {
			return errors.New("unclosed [")
		}
		if _, err := regexp.Compile("[" + strings.TrimPrefix(glob[i+1:i+end], "!") + "]"); err != nil {
			return err
		}
		i += end
	}
	return nil
}
