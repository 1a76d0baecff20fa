package generate

import (
	"maps"
	"math"
	"slices"
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
	groupLabels := g.labels()
	for _, a := range g.alerts {
		static := staticLabels(a)
		for _, t := range a.Tests {
			tg := testGroupOf(a.Name, t)
			for _, e := range t.Expect {
				tc := alertTestCase{EvalTime: model.Duration(e.At), Alertname: a.Name, ExpAlerts: []expAlert{}}
				for _, fi := range e.Firing {
					tc.ExpAlerts = append(tc.ExpAlerts, expAlert{
						ExpLabels:      merged(fi.Labels, groupLabels, static),
						ExpAnnotations: annotations(s, g, a, fi.Summary, fi.Description, fi.Annotations),
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
			tc.ExpSamples = append(tc.ExpSamples, expSample{Labels: labelString(appendLabels(nil, smp.Labels)), Value: smp.Value})
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

// seriesName is the series' labels, its metric name as __name__, in
// promtool's notation.
func seriesName(s spec.Series) string {
	var buf [16]labels.Label // on the stack for the usual few labels
	return labelString(appendLabels(buf[:0], s.Labels, labels.Label{Name: labels.MetricName, Value: s.Metric}))
}

// appendLabels appends m's labels and the extra ones, which replace m's
// of their names, to ls.
func appendLabels(ls []labels.Label, m map[string]string, extra ...labels.Label) []labels.Label {
	ls = append(ls, extra...)
next:
	for k, v := range m {
		for _, e := range extra {
			if e.Name == k {
				continue next
			}
		}
		ls = append(ls, labels.Label{Name: k, Value: v})
	}
	return ls
}

// labelString writes ls, whose names are distinct, as
// labels.New(ls...).String() does, in one allocation rather than a map, an
// encoded label set and a buffer per call: {a="b", c="d"}, sorted by name,
// a name quoted only when it is no legacy label name and every value
// quoted by strconv. TestLabelStringIsLabelsString holds it to that.
func labelString(ls []labels.Label) string {
	slices.SortFunc(ls, func(a, b labels.Label) int { return strings.Compare(a.Name, b.Name) })
	var b strings.Builder
	n := 2
	for _, l := range ls {
		n += len(l.Name) + len(l.Value) + 5 // ", " = and the quotes
	}
	b.Grow(n)
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteString(", ")
		}
		if model.LegacyValidation.IsValidLabelName(l.Name) {
			b.WriteString(l.Name)
		} else {
			writeQuoted(&b, l.Name)
		}
		b.WriteByte('=')
		writeQuoted(&b, l.Value)
	}
	b.WriteByte('}')
	return b.String()
}

// writeQuoted writes strconv.Quote(s), which leaves printable ASCII other
// than the quote and the backslash as it is: the common case, without
// strconv's rune by rune escaping.
func writeQuoted(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			b.WriteString(strconv.Quote(s))
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
}

// values renders segments in promtool's expanding notation: "axn" is n+1
// samples, so a segment of k samples is written axk-1.
func values(s spec.Series, step time.Duration) string {
	var b []byte
	for _, seg := range s.Values {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		n := int(seg.For / step)
		switch {
		case seg.Stale:
			b = append(b, "stale"...)
			if n > 1 {
				b = strconv.AppendInt(append(b, " _x"...), int64(n-1), 10)
			}
		case seg.Gap:
			b = strconv.AppendInt(append(b, "_x"...), int64(n), 10)
		case seg.Increase != 0:
			b = appendNum(append(appendNum(b, seg.Value), '+'), seg.Increase)
			b = strconv.AppendInt(append(b, 'x'), int64(n-1), 10)
		case n == 1:
			b = appendNum(b, seg.Value)
		default:
			b = strconv.AppendInt(append(appendNum(b, seg.Value), 'x'), int64(n-1), 10)
		}
	}
	return string(b)
}

func appendNum(b []byte, v float64) []byte { return strconv.AppendFloat(b, v, 'g', -1, 64) }

// merged is one map of ms' entries, a later map's winning.
func merged(ms ...map[string]string) map[string]string {
	n := 0
	for _, m := range ms {
		n += len(m)
	}
	out := make(map[string]string, n)
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}
