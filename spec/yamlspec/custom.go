package yamlspec

import (
	"fmt"
	"time"

	"github.com/invopop/jsonschema"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/internal/rulecheck"
	"github.com/sre-tools/promgen/spec"
)

// CustomAlert is an alert of the team's own: its expression PromQL text,
// read by the Prometheus parser, and its scenarios in promtool's unit test
// format. promgen adds the severity, service and runbook_url as it does to
// the runbook's alerts, and writes the scenarios as promtool tests.
type CustomAlert struct {
	// Name is the CamelCase alert name.
	Name string `yaml:"name"`
	// Expr is the PromQL expression.
	Expr Text `yaml:"expr"`
	// For is how long Expr must hold before the alert fires.
	For Duration `yaml:"for,omitempty"`
	// KeepFiringFor keeps the alert firing after Expr stopped holding.
	KeepFiringFor Duration `yaml:"keep_firing_for,omitempty"`
	// Severity is critical, warning or info.
	Severity spec.Severity `yaml:"severity" jsonschema:"enum=critical,enum=warning,enum=info"`
	// Labels are extra static labels.
	Labels map[string]string `yaml:"labels,omitempty"`
	// Summary and Description are annotation templates.
	Summary     string `yaml:"summary"`
	Description string `yaml:"description"`
	// RunbookURL of the alert. Default: its service's, then the spec's.
	RunbookURL string `yaml:"runbook_url,omitempty" jsonschema:"format=uri"`
	// Tests prove the alert: at least one time it fires and one it does not.
	Tests []AlertTest `yaml:"tests"`
}

// AlertTest is one promtool unit test of a custom alert.
type AlertTest struct {
	// Name says what the scenario proves.
	Name string `yaml:"name"`
	// Interval between input samples. Default 15s.
	Interval Duration `yaml:"interval,omitempty"`
	// InputSeries are the input series, in promtool's notation.
	InputSeries []InputSeries `yaml:"input_series"`
	// AlertRuleTest are the alert's expected instances over time.
	AlertRuleTest []AlertRuleTest `yaml:"alert_rule_test"`
}

// InputSeries is a series and its values, as promtool writes them:
// series: 'http_requests_total{status="500"}', values: '0+10x9 stale'.
type InputSeries struct {
	Series Text `yaml:"series"`
	Values Text `yaml:"values"`
}

// AlertRuleTest is what fires at one time; no exp_alerts: nothing.
type AlertRuleTest struct {
	// EvalTime is the time from the start of the test.
	EvalTime Duration `yaml:"eval_time"`
	// ExpAlerts are the expected instances.
	ExpAlerts []ExpAlert `yaml:"exp_alerts,omitempty"`
}

// ExpAlert is one expected instance: the labels from the data (promgen
// adds the alert's own) and the rendered annotations.
type ExpAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels,omitempty"`
	ExpAnnotations ExpAnnotations    `yaml:"exp_annotations"`
}

// ExpAnnotations are the rendered summary and description; promgen adds
// runbook_url.
type ExpAnnotations struct {
	Summary     string `yaml:"summary"`
	Description string `yaml:"description"`
}

// Text is a string and where it is written, for the problems of parsing it.
type Text struct {
	Value        string
	Line, Column int
}

// UnmarshalYAML keeps the string's position.
func (t *Text) UnmarshalYAML(n *yaml.Node) error {
	s, err := scalar(n, "text")
	if err != nil {
		return err
	}
	*t = Text{Value: s, Line: n.Line, Column: n.Column}
	return nil
}

// JSONSchema describes the text for editors.
func (Text) JSONSchema() *jsonschema.Schema { return &jsonschema.Schema{Type: "string"} }

// custom is a custom alert as spec.Alert, its problems located in file.
func custom(file string, c CustomAlert) (spec.Alert, []error) {
	var errs []error
	at := func(t Text, format string, args ...any) {
		errs = append(errs, &Error{File: file, Line: t.Line, Column: t.Column, Problem: fmt.Sprintf("alert %q: ", c.Name) + fmt.Sprintf(format, args...)})
	}
	a := spec.Alert{
		Name:          c.Name,
		For:           time.Duration(c.For),
		KeepFiringFor: time.Duration(c.KeepFiringFor),
		Severity:      c.Severity,
		Labels:        c.Labels,
		Summary:       c.Summary,
		Description:   c.Description,
		RunbookURL:    c.RunbookURL,
	}
	expr, err := rulecheck.Parser.ParseExpr(c.Expr.Value)
	if err != nil {
		at(c.Expr, "expr: %v", err)
	}
	a.Expr = expr
	for _, t := range c.Tests {
		test := spec.Test{Name: t.Name, Interval: time.Duration(t.Interval)}
		step := test.SampleInterval()
		for _, in := range t.InputSeries {
			s, err := series(in, step)
			if err != nil {
				at(in.Values, "test %q: %v", t.Name, err)
				continue
			}
			test.Series = append(test.Series, s)
		}
		for _, rt := range t.AlertRuleTest {
			e := spec.Expect{At: time.Duration(rt.EvalTime)}
			for _, x := range rt.ExpAlerts {
				e.Firing = append(e.Firing, spec.Firing{Labels: x.ExpLabels, Summary: x.ExpAnnotations.Summary, Description: x.ExpAnnotations.Description})
			}
			test.Expect = append(test.Expect, e)
		}
		a.Tests = append(a.Tests, test)
	}
	return a, errs
}

// series reads an input series with the Prometheus parser promtool reads
// it with, into segments: a run of samples that grows by a constant step
// (0 included) is one, as promtool's a+bxn is, and "stale" with the
// omitted samples after it ends the series.
func series(in InputSeries, step time.Duration) (spec.Series, error) {
	ls, vals, err := rulecheck.Parser.ParseSeriesDesc(in.Series.Value + " " + in.Values.Value)
	if err != nil {
		return spec.Series{}, fmt.Errorf("series %s: %w", in.Series.Value, err)
	}
	s := spec.Series{Metric: ls.Get(labels.MetricName), Labels: map[string]string{}}
	ls.Range(func(l labels.Label) {
		if l.Name != labels.MetricName {
			s.Labels[l.Name] = l.Value
		}
	})
	// next is the sample that extends the last segment: promtool adds the
	// increase sample by sample, and so must the comparison.
	var next float64
	for _, v := range vals {
		var seg *spec.Segment
		if len(s.Values) > 0 {
			seg = &s.Values[len(s.Values)-1]
		}
		switch {
		case v.Histogram != nil:
			return s, fmt.Errorf("series %s: native histograms are not supported", in.Series.Value)
		case v.Omitted && seg != nil && seg.Stale:
			seg.For += step
		case v.Omitted:
			return s, fmt.Errorf("series %s: an omitted sample (_) may only follow stale, which ends the series", in.Series.Value)
		case value.IsStaleNaN(v.Value):
			s.Values = append(s.Values, spec.Segment{Stale: true, For: step})
		case seg != nil && !seg.Stale && seg.For == step && seg.Value+(v.Value-seg.Value) == v.Value:
			seg.Increase, seg.For = v.Value-seg.Value, 2*step
			next = v.Value + seg.Increase
		case seg != nil && !seg.Stale && seg.For > step && v.Value == next:
			seg.For += step
			next += seg.Increase
		default:
			s.Values = append(s.Values, spec.Segment{Value: v.Value, For: step})
		}
	}
	return s, nil
}
