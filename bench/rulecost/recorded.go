package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/internal/rulecheck"
)

// backfillRecorded gives the recorded series a rule set reads over a range
// (Sloth's 30-day ratio, promgen's budget, up share and ticket windows)
// the fleet's history, as a Prometheus that has run the rules that long
// holds them: each at its value now, constant (the fleet is steady), at
// the fleet's steps (coarse, then every evaluation interval for the last
// hour). The blocks go into the running Prometheus' data folder, which it
// loads within a minute (its block reload). Without them those ranges hold
// the minutes the rules have run, and a rule set that reads long ranges of
// its own records would look cheaper than it runs.
func backfillRecorded(ctx context.Context, s *server, promtool string, f fleet, step time.Duration, ruleFiles []string, dir string) error {
	names, err := rangeRead(ruleFiles)
	if err != nil || len(names) == 0 {
		return err
	}
	c, err := promapi.NewClient(promapi.Config{Address: s.base})
	if err != nil {
		return err
	}
	sel := fmt.Sprintf("{__name__=~%q}", strings.Join(names, "|"))
	v, _, _, err := promv1.NewAPI(c).Query(ctx, sel, time.Now())
	if err != nil {
		return fmt.Errorf("reading the recorded series %s: %w", sel, err)
	}
	vec, ok := v.(model.Vector)
	if !ok || len(vec) == 0 {
		return fmt.Errorf("%s: no recorded series to backfill", sel)
	}
	// OpenMetrics wants each family's series together.
	slices.SortFunc(vec, func(a, b *model.Sample) int { return strings.Compare(a.Metric.String(), b.Metric.String()) })
	ts := f.times(step)
	write := func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		family := ""
		for _, smp := range vec {
			if name := string(smp.Metric[model.MetricNameLabel]); name != family {
				family = name
				fmt.Fprintf(bw, "# TYPE %s gauge\n", name)
			}
			m := make(map[string]string, len(smp.Metric))
			for k, v := range smp.Metric {
				m[string(k)] = string(v)
			}
			prefix, value := seriesText(labels.FromMap(m)), formatFloat(float64(smp.Value))
			for _, t := range ts {
				fmt.Fprintf(bw, "%s %s %s\n", prefix, value, strconv.FormatInt(t.Unix(), 10))
			}
		}
		bw.WriteString("# EOF\n")
		return bw.Flush()
	}
	blocks := filepath.Join(dir, "recorded-blocks")
	if err := createBlocks(promtool, blocks, f.history, write); err != nil {
		return err
	}
	entries, err := os.ReadDir(blocks)
	if err != nil {
		return err
	}
	data := filepath.Join(dir, "data")
	for _, e := range entries {
		if err := os.Rename(filepath.Join(blocks, e.Name()), filepath.Join(data, e.Name())); err != nil {
			return err
		}
	}
	// Loaded when the series hold their history: Prometheus may merge the
	// new blocks with the fleet's overlapping ones as soon as it loads
	// them, so their count says nothing. A name at a time, as
	// count_over_time drops the name.
	deadline := time.Now().Add(3 * time.Minute)
	for _, name := range names {
		held := fmt.Sprintf("min(count_over_time({__name__=%q}[%s]))", name, model.Duration(f.history+time.Hour))
		for {
			v, _, _, err := promv1.NewAPI(c).Query(ctx, held, time.Now())
			if err != nil {
				return fmt.Errorf("%s: %w", held, err)
			}
			if vec, ok := v.(model.Vector); ok && len(vec) == 1 && int(vec[0].Value) >= len(ts) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("prometheus has not loaded the recorded history (%d samples a series) after 3 minutes: %s is %v; %s", len(ts), held, v, s.logTail())
			}
			time.Sleep(time.Second)
		}
	}
	return nil
}

// rangeRead are the names the rule files record and also read over a
// range, sorted.
func rangeRead(files []string) ([]string, error) {
	rules, err := parseRules(files)
	if err != nil {
		return nil, err
	}
	recorded, read := map[string]bool{}, map[string]bool{}
	for _, r := range rules {
		if r.Record != "" {
			recorded[r.Record] = true
		}
	}
	for _, r := range rules {
		e, err := rulecheck.Parser.ParseExpr(r.Expr)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", r.Expr, err)
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			if m, ok := n.(*parser.MatrixSelector); ok {
				if vs, ok := m.VectorSelector.(*parser.VectorSelector); ok && recorded[vs.Name] {
					read[vs.Name] = true
				}
			}
			return nil
		})
	}
	out := make([]string, 0, len(read))
	for n := range read {
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}
