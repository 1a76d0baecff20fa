package generate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/sre-tools/promgen/spec"
)

// The promtool unit-test file format. promtool keeps its types in package
// main, so they are restated here, field for field, with its YAML names.
type (
	testFile struct {
		RuleFiles          []string       `yaml:"rule_files"`
		EvaluationInterval model.Duration `yaml:"evaluation_interval"`
		Tests              []testGroup    `yaml:"tests"`
	}
	testGroup struct {
		Name           string          `yaml:"name"`
		Interval       model.Duration  `yaml:"interval"`
		InputSeries    []inputSeries   `yaml:"input_series"`
		AlertRuleTest  []alertTestCase `yaml:"alert_rule_test,omitempty"`
		PromqlExprTest []exprTestCase  `yaml:"promql_expr_test,omitempty"`
	}
	exprTestCase struct {
		Expr       string         `yaml:"expr"`
		EvalTime   model.Duration `yaml:"eval_time"`
		ExpSamples []expSample    `yaml:"exp_samples"`
	}
	expSample struct {
		Labels string  `yaml:"labels"`
		Value  float64 `yaml:"value"`
	}
	inputSeries struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	alertTestCase struct {
		EvalTime  model.Duration `yaml:"eval_time"`
		Alertname string         `yaml:"alertname"`
		ExpAlerts []expAlert     `yaml:"exp_alerts"`
	}
	expAlert struct {
		ExpLabels      map[string]string `yaml:"exp_labels,omitempty"`
		ExpAnnotations map[string]string `yaml:"exp_annotations,omitempty"`
	}
)

// unitTests turns every alert's scenarios into promtool tests. Rules are
// evaluated at the sample interval of each test so a for duration is checked
// to the sample, not to promtool's default minute.
func unitTests(s spec.Spec, g group, ruleFile string) testFile {
	f := testFile{RuleFiles: []string{ruleFile}, EvaluationInterval: model.Duration(minInterval(g))}
	for _, r := range g.records() {
		for _, t := range r.Tests {
			f.Tests = append(f.Tests, testGroupOf("record "+r.Name, t))
		}
	}
	for _, a := range g.alerts {
		for _, t := range a.Tests {
			tg := testGroupOf(a.Name, t)
			for _, e := range t.Expect {
				tc := alertTestCase{EvalTime: model.Duration(e.At), Alertname: a.Name, ExpAlerts: []expAlert{}}
				for _, fi := range e.Firing {
					tc.ExpAlerts = append(tc.ExpAlerts, expAlert{
						ExpLabels:      merged(merged(fi.Labels, g.labels()), staticLabels(a)),
						ExpAnnotations: annotations(s, g, a, fi.Summary, fi.Description),
					})
				}
				tg.AlertRuleTest = append(tg.AlertRuleTest, tc)
			}
			f.Tests = append(f.Tests, tg)
		}
	}
	return f
}

// testGroupOf renders a test's input series and queries.
func testGroupOf(subject string, t spec.Test) testGroup {
	tg := testGroup{Name: subject + ": " + t.Name, Interval: model.Duration(t.SampleInterval())}
	for _, ser := range t.Series {
		tg.InputSeries = append(tg.InputSeries, inputSeries{Series: seriesName(ser), Values: values(ser, t.SampleInterval())})
	}
	for _, q := range t.Queries {
		tc := exprTestCase{Expr: q.Expr, EvalTime: model.Duration(q.At), ExpSamples: []expSample{}}
		for _, smp := range q.Samples {
			tc.ExpSamples = append(tc.ExpSamples, expSample{Labels: labels.FromMap(smp.Labels).String(), Value: smp.Value})
		}
		tg.PromqlExprTest = append(tg.PromqlExprTest, tc)
	}
	return tg
}

// minInterval is the shortest sample interval of the group's tests, used as
// the test file's evaluation interval.
func minInterval(g group) time.Duration {
	d := time.Duration(math.MaxInt64)
	for _, a := range g.alerts {
		for _, t := range a.Tests {
			d = min(d, t.SampleInterval())
		}
	}
	for _, r := range g.records() {
		for _, t := range r.Tests {
			d = min(d, t.SampleInterval())
		}
	}
	if d == time.Duration(math.MaxInt64) {
		return spec.DefaultTestInterval
	}
	return d
}

func seriesName(s spec.Series) string {
	return labels.FromMap(merged(s.Labels, map[string]string{labels.MetricName: s.Metric})).String()
}

// values renders segments in promtool's expanding notation: "axn" is n+1
// samples, so a segment of k samples is written axk-1.
func values(s spec.Series, step time.Duration) string {
	var parts []string
	for _, seg := range s.Values {
		n := int(seg.For / step)
		switch {
		case seg.Stale:
			parts = append(parts, "stale")
			if n > 1 {
				parts = append(parts, fmt.Sprintf("_x%d", n-1))
			}
		case seg.Increase != 0:
			parts = append(parts, fmt.Sprintf("%s+%sx%d", num(seg.Value), num(seg.Increase), n-1))
		case n == 1:
			parts = append(parts, num(seg.Value))
		default:
			parts = append(parts, fmt.Sprintf("%sx%d", num(seg.Value), n-1))
		}
	}
	return strings.Join(parts, " ")
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func merged(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
