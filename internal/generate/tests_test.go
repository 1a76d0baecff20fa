package generate

import (
	"maps"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/sre-tools/promgen/spec"
)

// TestLabelStringIsLabelsString holds labelString, and the label lists
// it is given, to the labels.FromMap(...).String() they replace, on names
// that need quoting and values that need escaping.
func TestLabelStringIsLabelsString(t *testing.T) {
	for _, m := range []map[string]string{
		nil,
		{"": ""},
		{"job": "api", "instance": "10.0.0.1:8080", "__name__": "up"},
		{"a": "", "b": `say "hi"`, "c": `back\slash`, "d": "tab\there", "e": "new\nline"},
		{"ünïcode": "välue", "dotted.name": "x", "0digit": "y", "has space": "z", "_ok:": "\x7f\x00"},
		{"z": "\xff invalid", "y": "emoji 🙂", "x": "~ }{ ,="},
	} {
		if got, want := labelString(appendLabels(nil, m)), labels.FromMap(m).String(); got != want {
			t.Errorf("%v: got %s, want %s", m, got, want)
		}
		withName := maps.Clone(m)
		if withName == nil {
			withName = map[string]string{}
		}
		withName[labels.MetricName] = "metric_total"
		if got, want := labelString(appendLabels(nil, m, labels.Label{Name: labels.MetricName, Value: "metric_total"})), labels.FromMap(withName).String(); got != want {
			t.Errorf("%v with a metric name: got %s, want %s", m, got, want)
		}
	}
}

// TestValuesWritesPromtoolsExpandingNotation covers every kind of segment.
func TestValuesWritesPromtoolsExpandingNotation(t *testing.T) {
	step := 15 * time.Second
	s := spec.Series{Values: []spec.Segment{
		{Value: 1, For: step},
		{Value: 0.5, For: 4 * step},
		{Value: -2, Increase: 1.5, For: 3 * step},
		{Value: 4.25201762304e9, For: step, Stale: true},
		{Stale: true, For: 20 * step},
		{Gap: true, For: 3 * step},
		{Value: 2, For: step},
	}}
	// _xN is N missing samples, where 1xN is N+1 samples.
	if got, want := values(s, step), "1 0.5x3 -2+1.5x2 stale stale _x19 _x3 2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
