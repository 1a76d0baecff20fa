package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"

	"github.com/sre-tools/promgen/internal/rulecheck"
)

// result is what one rule set costs the Prometheus that evaluates it over
// one fleet, in Prometheus' own figures.
type result struct {
	set      string
	services int
	// groups and rules loaded (prometheus_rule_group_rules).
	groups, rules int
	// recorded is the number of series of the rules' recorded names.
	recorded int
	// cycleSum and cycleMax are, over the measured cycles, the medians of
	// the sum and the maximum of prometheus_rule_group_last_duration_seconds
	// over all groups; the sum weighs each group by how often it runs in
	// an evaluation interval (a group every 5m counts a tenth at 30s), so
	// it is the evaluation time an interval costs.
	cycleSum, cycleMax time.Duration
	// slowestShare is the median of the largest share of its own interval
	// a group's evaluation took: issue 21 wants it at most a tenth.
	slowestShare float64
	// ruleP50, ruleP99 are prometheus_rule_evaluation_duration_seconds'
	// quantiles: the time of one rule's evaluation.
	ruleP50, ruleP99 time.Duration
	headSeries       int
	rss              float64
	// failures and missed are prometheus_rule_evaluation_failures_total
	// and prometheus_rule_group_iterations_missed_total, summed.
	failures, missed float64
	// unevaluated is the number of groups without a last evaluation.
	unevaluated int
	cycles      int
}

// perObjective is the evaluation time per cycle of one objective.
func (r result) perObjective(objectives int) time.Duration {
	return r.cycleSum / time.Duration(objectives)
}

// measureOpts are a measurement's tools and pace.
type measureOpts struct {
	prometheus, promtool string
	interval             time.Duration
	cycles               int
}

// measure runs the rule files in a fresh Prometheus over the fleet's
// blocks, fed live, and reads its figures after every group has evaluated
// and two more intervals have passed, once an interval for o.cycles
// intervals.
func measure(ctx context.Context, o measureOpts, f fleet, blocks, dir, set string, ruleFiles []string) (result, error) {
	r := result{set: set, services: f.n}
	names, err := recordedNames(ruleFiles)
	if err != nil {
		return r, err
	}
	s, err := startPrometheus(o.prometheus, dir, blocks, ruleFiles, o.interval)
	if err != nil {
		return r, fmt.Errorf("%s: %w", set, err)
	}
	defer s.stop()
	feed, err := newLive(f, s.base)
	if err != nil {
		return r, err
	}
	if err := feed.catchUp(ctx); err != nil {
		return r, fmt.Errorf("%s: %w", set, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	fed := make(chan error, 1)
	go func() { fed <- feed.run(ctx) }()
	defer func() { cancel(); <-fed }()

	// Every group's first evaluation comes within its interval of the
	// load, or one evaluation's time after it.
	longest, err := longestInterval(ruleFiles, o.interval)
	if err != nil {
		return r, err
	}
	deadline := time.Now().Add(3*longest + 2*time.Minute)
	for {
		mf, err := s.metrics()
		if err != nil {
			return r, err
		}
		if r.unevaluated = unevaluated(mf); r.unevaluated == 0 {
			break
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("%s: %d rule groups not evaluated after %s: %s", set, r.unevaluated, time.Since(deadline.Add(-3*longest-2*time.Minute)).Round(time.Second), s.logTail())
		}
		time.Sleep(time.Second)
	}
	if err := backfillRecorded(ctx, s, o.promtool, f, o.interval, ruleFiles, dir); err != nil {
		return r, fmt.Errorf("%s: %w", set, err)
	}
	var sums, maxes, shares []float64
	for c := -2; c < o.cycles; c++ {
		select {
		case <-time.After(o.interval):
		case err := <-fed:
			return r, fmt.Errorf("%s: live samples: %w", set, err)
		}
		mf, err := s.metrics()
		if err != nil {
			return r, err
		}
		if c < 0 {
			continue
		}
		every := map[string]float64{}
		for _, m := range mf["prometheus_rule_group_interval_seconds"].GetMetric() {
			every[groupOf(m)] = m.GetGauge().GetValue()
		}
		var sum, mx, share float64
		for _, m := range mf["prometheus_rule_group_last_duration_seconds"].GetMetric() {
			v, iv := m.GetGauge().GetValue(), every[groupOf(m)]
			if iv <= 0 {
				return r, fmt.Errorf("%s: no prometheus_rule_group_interval_seconds of group %s", set, groupOf(m))
			}
			sum, mx, share = sum+v*o.interval.Seconds()/iv, max(mx, v), max(share, v/iv)
		}
		sums, maxes, shares = append(sums, sum), append(maxes, mx), append(shares, share)
	}
	mf, err := s.metrics()
	if err != nil {
		return r, err
	}
	r.cycles = len(sums)
	r.cycleSum, r.cycleMax, r.slowestShare = seconds(median(sums)), seconds(median(maxes)), median(shares)
	r.groups = len(mf["prometheus_rule_group_rules"].GetMetric())
	r.rules = int(total(mf, "prometheus_rule_group_rules"))
	r.failures = total(mf, "prometheus_rule_evaluation_failures_total")
	r.missed = total(mf, "prometheus_rule_group_iterations_missed_total")
	r.unevaluated = unevaluated(mf)
	r.headSeries = int(total(mf, "prometheus_tsdb_head_series"))
	r.rss = total(mf, "process_resident_memory_bytes")
	for _, m := range mf["prometheus_rule_evaluation_duration_seconds"].GetMetric() {
		for _, q := range m.GetSummary().GetQuantile() {
			switch q.GetQuantile() {
			case 0.5:
				r.ruleP50 = seconds(q.GetValue())
			case 0.99:
				r.ruleP99 = seconds(q.GetValue())
			}
		}
	}
	if r.recorded, err = s.countSeries(ctx, names); err != nil {
		return r, err
	}
	return r, nil
}

// groupOf is the rule_group label of a rule group's metric.
func groupOf(m *dto.Metric) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == "rule_group" {
			return l.GetValue()
		}
	}
	return ""
}

// longestInterval is the longest interval of the rule files' groups, def
// for a group that sets none.
func longestInterval(files []string, def time.Duration) (time.Duration, error) {
	longest := def
	for _, f := range files {
		groups, errs := rulefmt.ParseFile(f, false, model.UTF8Validation, rulecheck.Parser, nil)
		if len(errs) > 0 {
			return 0, fmt.Errorf("%s: %w", f, errs[0])
		}
		for _, g := range groups.Groups {
			longest = max(longest, time.Duration(g.Interval))
		}
	}
	return longest, nil
}

// unevaluated is the number of rule groups without a last evaluation.
func unevaluated(mf map[string]*dto.MetricFamily) int {
	ms := mf["prometheus_rule_group_last_evaluation_timestamp_seconds"].GetMetric()
	if len(ms) == 0 {
		// Not even loaded yet.
		return -1
	}
	n := 0
	for _, m := range ms {
		if m.GetGauge().GetValue() <= 0 {
			n++
		}
	}
	return n
}

// total sums a family's counters or gauges.
func total(mf map[string]*dto.MetricFamily, name string) float64 {
	var sum float64
	for _, m := range mf[name].GetMetric() {
		sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return sum
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func seconds(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }

// recordedNames are the distinct names the rule files record.
func recordedNames(files []string) ([]string, error) {
	rules, err := parseRules(files)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, r := range rules {
		if r.Record != "" {
			seen[r.Record] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// parseRules reads every rule of the rule files with Prometheus' own rule
// file parser.
func parseRules(files []string) ([]rulefmt.Rule, error) {
	var out []rulefmt.Rule
	for _, f := range files {
		groups, errs := rulefmt.ParseFile(f, false, model.UTF8Validation, rulecheck.Parser, nil)
		if len(errs) > 0 {
			return nil, fmt.Errorf("%s: %w", f, errs[0])
		}
		for _, g := range groups.Groups {
			out = append(out, g.Rules...)
		}
	}
	return out, nil
}

// setDir makes a fresh folder for one rule set's run.
func setDir(work, set string, n int) (string, error) {
	dir := filepath.Join(work, fmt.Sprintf("%s-%d", set, n))
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	return dir, os.MkdirAll(filepath.Join(dir, "rules"), 0o755)
}
