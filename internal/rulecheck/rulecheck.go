// Package rulecheck tells whether Prometheus accepts a rule file, as
// rulefmt.Parse decides, at a fraction of its cost when many files repeat
// the same templates. It decodes a file strictly into rulefmt's types, once
// (rulefmt.Parse decodes it twice, the second time for positions), and runs
// rulefmt's own Rule.Validate on every rule, but parses each distinct label
// and annotation template once: a large spec repeats the same few
// templates in every service, and parsing them is most of rulefmt's check.
// It answers only yes or no: for a file it rejects, rulefmt.Parse says why,
// with lines.
package rulecheck

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"
	"go.yaml.in/yaml/v3"
)

// Checker remembers the templates and expressions it has parsed and the
// files it has accepted: promgen build checks every rule file it renders,
// then lints them, and one Checker shared by both parses each file and
// each expression once. It is safe for concurrent use.
type Checker struct {
	templates sync.Map // template text -> struct{}, parsed without error
	accepted  sync.Map // file content -> *rulefmt.RuleGroups
	exprs     sync.Map // expression text -> parser.Expr, parsed without error
}

// Parser parses expressions as Prometheus and promtool do by default.
var Parser = parser.NewParser(parser.Options{})

// Valid returns the rule groups of content when rulefmt.Parse (strict, UTF-8
// names, Parser) accepts it without an error or a warning, and ok false
// otherwise: then ask rulefmt.Parse for its problems. The groups of a file
// it has accepted before are returned again, shared: read them only.
func (c *Checker) Valid(content []byte) (groups *rulefmt.RuleGroups, ok bool) {
	if g, ok := c.accepted.Load(string(content)); ok {
		return g.(*rulefmt.RuleGroups), true
	}
	groups = &rulefmt.RuleGroups{}
	dec := yaml.NewDecoder(bytes.NewReader(content))
	dec.KnownFields(true)
	if err := dec.Decode(groups); err != nil && !errors.Is(err, io.EOF) {
		return nil, false
	}
	// rulefmt warns of a second document.
	var second any
	if err := dec.Decode(&second); !errors.Is(err, io.EOF) {
		return nil, false
	}
	if !c.valid(groups) {
		return nil, false
	}
	c.accepted.Store(string(content), groups)
	return groups, true
}

// Accept has Valid answer for content with groups from then on: a caller
// that has read content with rulefmt.Parse, without a problem, hands over
// what it read, and lint reads the file again from it.
func (c *Checker) Accept(content []byte, groups *rulefmt.RuleGroups) {
	c.accepted.Store(string(content), groups)
}

// ParseExpr parses an expression as Parser does, once per text: a build
// parses an alert's expression to validate the spec, to check its rule
// file and to lint it.
// The tree is shared: read it only. A text that fails is parsed again
// each time, for its errors.
func (c *Checker) ParseExpr(text string) (parser.Expr, error) {
	if e, ok := c.exprs.Load(text); ok {
		return e.(parser.Expr), nil
	}
	e, err := Parser.ParseExpr(text)
	if err == nil {
		c.exprs.Store(text, e)
	}
	return e, err
}

// Parser is Parser with c's ParseExpr, for rulefmt's checks.
func (c *Checker) Parser() parser.Parser { return sharedParser{Parser, c} }

type sharedParser struct {
	parser.Parser
	c *Checker
}

func (p sharedParser) ParseExpr(text string) (parser.Expr, error) { return p.c.ParseExpr(text) }

// valid is rulefmt's RuleGroups.Validate with the templates remembered.
func (c *Checker) valid(groups *rulefmt.RuleGroups) bool {
	p := c.Parser()
	names := map[string]bool{}
	for _, g := range groups.Groups {
		if g.Name == "" || names[g.Name] {
			return false
		}
		names[g.Name] = true
		for k, v := range g.Labels {
			if !validLabel(k, v) {
				return false
			}
		}
		for _, r := range g.Rules {
			if r.Alert == "" {
				// A recording rule has no templates; Validate checks that
				// it has no annotations either.
				if len(r.Validate(rulefmt.RuleNode{}, model.UTF8Validation, p)) > 0 {
					return false
				}
				continue
			}
			bare := r
			bare.Labels, bare.Annotations = nil, nil
			if len(bare.Validate(rulefmt.RuleNode{}, model.UTF8Validation, p)) > 0 {
				return false
			}
			for k, v := range r.Labels {
				if !validLabel(k, v) || !c.template(r.Alert, v) {
					return false
				}
			}
			for k, v := range r.Annotations {
				if !model.UTF8Validation.IsValidLabelName(k) || !c.template(r.Alert, v) {
					return false
				}
			}
		}
	}
	return true
}

// validLabel is rulefmt's check of a label of a rule or group.
func validLabel(name, value string) bool {
	return model.UTF8Validation.IsValidLabelName(name) && name != model.MetricNameLabel && model.LabelValue(value).IsValid()
}

// templateDefs and templateData are what rulefmt's testTemplateParsing
// parses a template with.
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

var templateData = template.AlertTemplateData(map[string]string{}, map[string]string{}, "", promql.Sample{})

// template parses a label or annotation template as rulefmt does, once per
// text: whether it parses depends on the text alone.
func (c *Checker) template(alert, text string) bool {
	if _, ok := c.templates.Load(text); ok {
		return true
	}
	exp := template.NewTemplateExpander(context.Background(), templateDefs+text, "__alert_"+alert, templateData,
		model.Time(timestamp.FromTime(time.Now())), nil, nil, nil)
	if exp.ParseTest() != nil {
		return false
	}
	c.templates.Store(text, struct{}{})
	return true
}
