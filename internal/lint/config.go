package lint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// ConfigNames are the names FindConfig looks for, in order.
var ConfigNames = []string{".promgen-lint.yml", ".promgen-lint.yaml"}

// FindConfig looks for a config file in dir and its parents up to the root
// of the repository (the first folder with a .git) and returns its path, or
// "" when there is none.
func FindConfig(dir string) (string, error) { return FindFile(dir, ConfigNames) }

// FindFile looks for a file of one of names, in order, in dir and its
// parents up to the root of the repository, as FindConfig does: promgen's
// YAML spec is found the same way.
func FindFile(dir string, names []string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		for _, name := range names {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return "", nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// LoadConfig reads the config file at path; its path globs are relative to
// its folder.
func LoadConfig(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := ParseConfig(path, b)
	if err != nil {
		return nil, err
	}
	if p.Root, err = filepath.Abs(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return p, nil
}

// The config file's shape; nodes keep the lines errors name.
type (
	configFile struct {
		ScrapeInterval yaml.Node        `yaml:"scrape_interval"`
		Retention      yaml.Node        `yaml:"retention"`
		Checks         yaml.Node        `yaml:"checks"`
		Conventions    yaml.Node        `yaml:"conventions"`
		Overrides      []overrideConfig `yaml:"overrides"`
	}
	overrideConfig struct {
		Paths          []yaml.Node `yaml:"paths"`
		Rules          []yaml.Node `yaml:"rules"`
		ScrapeInterval yaml.Node   `yaml:"scrape_interval"`
		Retention      yaml.Node   `yaml:"retention"`
		Checks         yaml.Node   `yaml:"checks"`
		Conventions    yaml.Node   `yaml:"conventions"`
	}
	conventionsConfig struct {
		Labels      map[string][]string `yaml:"labels"`
		Annotations []string            `yaml:"annotations"`
		AlertName   yaml.Node           `yaml:"alert_name"`
		RecordName  yaml.Node           `yaml:"record_name"`
	}
)

// ParseConfig reads a config file's content; errors name path and line.
func ParseConfig(path string, content []byte) (*Policy, error) {
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", path, line, fmt.Sprintf(format, args...)))
	}
	var cf configFile
	dec := yaml.NewDecoder(strings.NewReader(string(content)))
	dec.KnownFields(true)
	if err := dec.Decode(&cf); err != nil && !errors.Is(err, errEOF) {
		return nil, yamlError(path, err)
	}
	p := &Policy{}
	p.ScrapeInterval = duration("scrape_interval", "30s", &cf.ScrapeInterval, fail)
	p.Retention = duration("retention", "15d", &cf.Retention, fail)
	p.Checks = checkSettings(&cf.Checks, fail)
	p.Conventions, _ = conventionsOf(&cf.Conventions, fail)
	for _, oc := range cf.Overrides {
		o := Override{ScrapeInterval: duration("scrape_interval", "30s", &oc.ScrapeInterval, fail), Retention: duration("retention", "15d", &oc.Retention, fail),
			Checks: checkSettings(&oc.Checks, fail)}
		o.Conventions, o.NoConventions = conventionsOf(&oc.Conventions, fail)
		for _, n := range oc.Paths {
			if err := validGlob(n.Value); err != nil {
				fail(n.Line, "paths: bad glob %q: %v", n.Value, err)
				continue
			}
			o.Paths = append(o.Paths, strings.TrimPrefix(n.Value, "./"))
		}
		for _, n := range oc.Rules {
			re, err := regexp.Compile("^(?:" + n.Value + ")$")
			if err != nil {
				fail(n.Line, "rules: bad regexp %q: %v", n.Value, err)
				continue
			}
			o.Rules = append(o.Rules, re)
		}
		p.Overrides = append(p.Overrides, o)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// errEOF is what the decoder returns for an empty file, which is a valid,
// empty config.
var errEOF = func() error {
	var v struct{}
	return yaml.NewDecoder(strings.NewReader("")).Decode(&v)
}()

// yamlError puts the file's path in front of the line yaml names.
func yamlError(path string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var errs []error
		for _, msg := range te.Errors {
			errs = append(errs, fmt.Errorf("%s:%s", path, strings.TrimPrefix(msg, "line ")))
		}
		return errors.Join(errs...)
	}
	// A syntax error names its line only in yaml's text.
	if line, msg := syntaxErrorLine(err); line > 0 {
		return fmt.Errorf("%s:%d: %s", path, line, msg)
	}
	return fmt.Errorf("%s: %w", path, err)
}

func duration(key, example string, n *yaml.Node, fail func(int, string, ...any)) time.Duration {
	if n.Kind == 0 {
		return 0
	}
	d, err := model.ParseDuration(n.Value)
	if err != nil || d <= 0 {
		fail(n.Line, "%s: %q is not a positive duration such as %s", key, n.Value, example)
		return 0
	}
	return time.Duration(d)
}

// checkSettings reads a mapping of check names to settings.
func checkSettings(n *yaml.Node, fail func(int, string, ...any)) map[string]Setting {
	if n.Kind == 0 {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		fail(n.Line, "checks: want a mapping of check name to off, on, error, warning or info")
		return nil
	}
	out := map[string]Setting{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !KnownCheck(k.Value) {
			fail(k.Line, "checks: unknown check %q (known: %s)", k.Value, strings.Join(CheckNames(), ", "))
			continue
		}
		s := Setting(v.Value)
		switch {
		case v.Tag == "!!bool": // YAML 1.1 readers take off and on for booleans
			s = SettingOff
			if v.Value == "true" {
				s = SettingOn
			}
		case s == SettingOff || s == SettingOn || Severity(s).rank() > 0:
		default:
			fail(v.Line, "checks: %s: %q is not off, on, error, warning or info", k.Value, v.Value)
			continue
		}
		out[k.Value] = s
	}
	return out
}

// conventionsOf reads a conventions value: "promgen" for the house
// conventions, "none" to turn them off, or a mapping.
func conventionsOf(n *yaml.Node, fail func(int, string, ...any)) (c *Conventions, none bool) {
	switch {
	case n.Kind == 0:
		return nil, false
	case n.Kind == yaml.ScalarNode && n.Value == "promgen":
		return House(), false
	case n.Kind == yaml.ScalarNode && n.Value == "none":
		return nil, true
	case n.Kind != yaml.MappingNode:
		fail(n.Line, "conventions: want promgen, none or a mapping with labels, annotations, alert_name, record_name")
		return nil, false
	}
	var cc conventionsConfig
	if err := n.Decode(&cc); err != nil {
		fail(n.Line, "conventions: %v", err)
		return nil, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i]; k.Value {
		case "labels", "annotations", "alert_name", "record_name":
		default:
			fail(k.Line, "conventions: unknown field %q (known: labels, annotations, alert_name, record_name)", k.Value)
		}
	}
	c = &Conventions{Labels: cc.Labels, Annotations: cc.Annotations}
	pattern := func(n *yaml.Node, field string) *regexp.Regexp {
		if n.Kind == 0 {
			return nil
		}
		re, err := regexp.Compile(n.Value)
		if err != nil {
			fail(n.Line, "conventions: %s: bad regexp %q: %v", field, n.Value, err)
		}
		return re
	}
	c.AlertName = pattern(&cc.AlertName, "alert_name")
	c.RecordName = pattern(&cc.RecordName, "record_name")
	return c, false
}
