package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/sre-tools/promgen/catalog"
)

// fleet is the synthetic fleet both rule sets are measured over: n
// services of two replicas, each replica serving requestsPerSecond, a share
// of them failing (5xx) and a share slower than the latency objective's
// threshold, every replica up. Every series is a pure function of time, so
// the backfilled history and the live samples written after it continue
// each other.
type fleet struct {
	n int
	// end is where the backfilled history stops and the live samples begin.
	end time.Time
	// history is how far back the backfill goes: the longest window a rule
	// reads from the raw series, and an hour more.
	history time.Duration
	// coarse is the step of the history older than an hour; the last hour
	// has scrape-interval samples, as the short windows need.
	coarse, scrape time.Duration
}

const (
	replicas          = 2
	port              = 8080
	requestsPerSecond = 5.0
	// latencyThreshold is both objectives' threshold, one of buckets.
	latencyThreshold = 0.5
)

// buckets are the request-duration histogram's bounds and the share of
// requests at or under each: a few, to keep the series per service modest.
var buckets = []struct{ le, share float64 }{{0.1, 0.7}, {0.25, 0.9}, {latencyThreshold, 0.995}, {1, 0.999}, {math.Inf(1), 1}}

func serviceName(i int) string { return fmt.Sprintf("svc-%04d", i) }

// errorShare is service i's failing share: 0.05% to 0.15%, around a 99.9%
// objective's budget, so some burn and some do not.
func errorShare(i int) float64 { return 0.0005 * float64(1+i%3) }

// metric is one series of the fleet and its value at a time, in seconds
// since the fleet's origin.
type metric struct {
	labels labels.Labels
	value  func(t float64) float64
}

// family is one OpenMetrics metric family.
type family struct {
	name, typ string
	metrics   []metric
}

func (f fleet) families() []family {
	up := family{name: catalog.Up, typ: "gauge"}
	reqs := family{name: strings.TrimSuffix(catalog.HTTPRequestsTotal, "_total"), typ: "counter"}
	hist := family{name: catalog.HTTPRequestDurationSeconds, typ: "histogram"}
	counter := func(perSecond float64) func(float64) float64 {
		return func(t float64) float64 { return math.Floor(perSecond * t) }
	}
	for i := range f.n {
		job := serviceName(i)
		for r := range replicas {
			base := []string{"job", job, "instance", fmt.Sprintf("%s-%d:%d", job, r, port)}
			with := func(name string, kv ...string) labels.Labels {
				return labels.FromStrings(append(append([]string{labels.MetricName, name}, base...), kv...)...)
			}
			up.metrics = append(up.metrics, metric{with(catalog.Up), func(float64) float64 { return 1 }})
			bad := errorShare(i)
			reqs.metrics = append(reqs.metrics,
				metric{with(catalog.HTTPRequestsTotal, catalog.LabelHTTPStatus, "200"), counter(requestsPerSecond * (1 - bad))},
				metric{with(catalog.HTTPRequestsTotal, catalog.LabelHTTPStatus, "500"), counter(requestsPerSecond * bad)})
			for _, b := range buckets {
				hist.metrics = append(hist.metrics, metric{with(catalog.HTTPRequestDurationSeconds+"_bucket", "le", formatFloat(b.le)), counter(requestsPerSecond * b.share)})
			}
			hist.metrics = append(hist.metrics,
				metric{with(catalog.HTTPRequestDurationSeconds + "_count"), counter(requestsPerSecond)},
				metric{with(catalog.HTTPRequestDurationSeconds + "_sum"), counter(requestsPerSecond * 0.08)})
		}
	}
	return []family{up, reqs, hist}
}

// origin is the time every counter starts from.
func (f fleet) origin() time.Time { return f.end.Add(-f.history) }

// times are the backfill's sample times: coarse, then every step for the
// last hour (the scrape interval for the fleet's series).
func (f fleet) times(step time.Duration) []time.Time {
	var out []time.Time
	fine := f.end.Add(-time.Hour)
	for t := f.origin(); !t.After(f.end); {
		out = append(out, t)
		if t.Before(fine) {
			t = t.Add(f.coarse)
		} else {
			t = t.Add(step)
		}
	}
	return out
}

// writeOpenMetrics writes the fleet's history in the OpenMetrics text
// format promtool backfills: family by family, series by series, in time.
func (f fleet) writeOpenMetrics(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	ts := f.times(f.scrape)
	for _, fam := range f.families() {
		fmt.Fprintf(bw, "# TYPE %s %s\n", fam.name, fam.typ)
		for _, m := range fam.metrics {
			prefix := seriesText(m.labels)
			for _, t := range ts {
				bw.WriteString(prefix)
				bw.WriteByte(' ')
				bw.WriteString(formatFloat(m.value(t.Sub(f.origin()).Seconds())))
				bw.WriteByte(' ')
				bw.WriteString(strconv.FormatInt(t.Unix(), 10))
				bw.WriteByte('\n')
			}
		}
	}
	bw.WriteString("# EOF\n")
	return bw.Flush()
}

// seriesText is a series as the exposition formats write it:
// name{label="value",...}, without the spaces labels.String puts in.
func seriesText(ls labels.Labels) string {
	var b strings.Builder
	b.WriteString(ls.Get(labels.MetricName))
	b.WriteByte('{')
	first := true
	ls.Range(func(l labels.Label) {
		if l.Name == labels.MetricName {
			return
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%s=%q", l.Name, l.Value)
	})
	b.WriteByte('}')
	return b.String()
}

func formatFloat(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// backfill writes the fleet's history as TSDB blocks in dir with promtool.
func (f fleet) backfill(promtool, dir string) error {
	return createBlocks(promtool, dir, f.history, f.writeOpenMetrics)
}

// createBlocks writes the OpenMetrics text write writes as TSDB blocks in
// dir with promtool, in blocks long enough for history that promtool reads
// the input only a few times (it reads all of it once per block).
func createBlocks(promtool, dir string, history time.Duration, write func(io.Writer) error) error {
	om := dir + ".om"
	file, err := os.Create(om)
	if err != nil {
		return err
	}
	defer os.Remove(om)
	if err := write(file); err != nil {
		file.Close()
		return fmt.Errorf("writing %s: %w", om, err)
	}
	if err := file.Close(); err != nil {
		return err
	}
	// The longest compaction range at or above the history: promtool
	// rounds --max-block-duration down to one.
	block := 2 * time.Hour
	for block < history {
		block *= 3
	}
	cmd := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", "--max-block-duration="+block.String(), om, dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("promtool tsdb create-blocks-from openmetrics %s: %w: %s", om, err, out)
	}
	return nil
}

// seriesCount is the number of raw series of the fleet.
func (f fleet) seriesCount() int {
	n := 0
	for _, fam := range f.families() {
		n += len(fam.metrics)
	}
	return n
}
