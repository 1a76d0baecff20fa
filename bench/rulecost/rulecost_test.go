package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
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

// TestRangeReadNamesOnlyRecordsReadOverARange: the recorded history is
// backfilled for a rule set's own records that its rules read over a
// range, not for raw series nor for records read only at an instant.
func TestRangeReadNamesOnlyRecordsReadOverARange(t *testing.T) {
	f := filepath.Join(t.TempDir(), "r.rules.yml")
	rules := `groups:
  - name: g
    rules:
      - record: job:errors:rate5m
        expr: sum(rate(http_requests_total{status="500"}[5m]))
      - record: job:requests:rate5m
        expr: sum(rate(http_requests_total[5m]))
      - record: job:errors:ratio_rate5m
        expr: job:errors:rate5m / job:requests:rate5m
  - name: slow
    interval: 5m
    rules:
      - record: job:errors:ratio_rate1d
        expr: sum_over_time(job:errors:rate5m[1d]) / sum_over_time(job:requests:rate5m[1d])
`
	if err := os.WriteFile(f, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := rangeRead([]string{f})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"job:errors:rate5m", "job:requests:rate5m"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if d, err := longestInterval([]string{f}, 30*time.Second); err != nil || d != 5*time.Minute {
		t.Errorf("longestInterval = %s, %v; want 5m, the slow group's", d, err)
	}
}
