package main

import (
	"context"
	"io"
	"testing"
	"time"
)

// TestBothRuleSetsLoadAndEvaluate is the benchmark's CI smoke at 100
// services: promgen's and Sloth's rule sets each load into the pinned
// Prometheus and evaluate over the fleet without a failed evaluation,
// every group evaluated and the recording rules recording. It asserts no
// timing: the figures are make bench-rules'.
func TestBothRuleSetsLoadAndEvaluate(t *testing.T) {
	o := options{services: []int{100}, coarse: 5 * time.Minute, work: t.TempDir()}
	o.measure.interval, o.measure.cycles = 5*time.Second, 2
	if err := toolsFromEnv(&o); err != nil {
		t.Fatal(err)
	}
	rs, err := run(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 {
		t.Fatalf("got %d results, want promgen's and Sloth's", len(rs))
	}
	for _, r := range rs {
		if r.failures != 0 {
			t.Errorf("%s: prometheus_rule_evaluation_failures_total is %v, want 0", r.set, r.failures)
		}
		if r.unevaluated != 0 || r.groups == 0 {
			t.Errorf("%s: %d of %d rule groups without a last evaluation", r.set, r.unevaluated, r.groups)
		}
		if r.recorded == 0 {
			t.Errorf("%s: the recording rules recorded no series", r.set)
		}
	}
}
