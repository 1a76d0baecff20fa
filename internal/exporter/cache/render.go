package cache

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/sre-tools/promgen/catalog"
)

// family is one metric family: its descriptor and value type, read from
// the catalog, and the header lines expfmt writes before its samples.
type family struct {
	desc   *prometheus.Desc
	typ    prometheus.ValueType
	proto  *dto.MetricFamily // name, help and type; no metrics
	header []byte
}

func newFamily(name string, extra ...string) family {
	m := catalog.MustLookup(name)
	f := family{desc: prometheus.NewDesc(m.Name, m.Help, append(m.AllLabels(), extra...), nil), typ: prometheus.GaugeValue}
	f.proto = &dto.MetricFamily{Name: &m.Name, Help: &m.Help, Type: dto.MetricType_GAUGE.Enum()}
	sample := &dto.Metric{Gauge: &dto.Gauge{Value: new(float64)}}
	if m.Type == catalog.Counter {
		f.typ, f.proto.Type = prometheus.CounterValue, dto.MetricType_COUNTER.Enum()
		sample = &dto.Metric{Counter: &dto.Counter{Value: new(float64)}}
	}
	// expfmt writes the # HELP and # TYPE lines only with a first sample:
	// encode one and keep the lines before it.
	var buf bytes.Buffer
	if _, err := expfmt.MetricFamilyToText(&buf, f.with([]*dto.Metric{sample})); err != nil {
		panic(fmt.Sprintf("cache: header of %s: %v", name, err))
	}
	lines := bytes.SplitAfterN(buf.Bytes(), []byte("\n"), 3)
	f.header = append(lines[0], lines[1]...)
	return f
}

// with returns the family's protobuf form holding ms.
func (f family) with(ms []*dto.Metric) *dto.MetricFamily {
	return &dto.MetricFamily{Name: f.proto.Name, Help: f.proto.Help, Type: f.proto.Type, Metric: ms}
}

func (f family) metric(v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(f.desc, f.typ, v, labels...)
}

// Indexes of the per-container families, in exposition order.
const (
	famInfo = iota
	famState
	famHealth
	famRestarts
	famStarted
	famExits
	famLastCode
	famLastTime
	famLastInfo
	famWorkingSet
	famUsage
	famLimit
	famRatio
	numFamilies
)

// descs are the exporter's metric families.
type descs struct {
	container                                  [numFamilies]family
	sourceUp, sourceErrors, events, collisions family

	labelKeys []string // allowlisted Docker label keys, in info's label order
}

func newDescs(labelKeys []string) descs {
	names := make([]string, len(labelKeys))
	for i, k := range labelKeys {
		names[i] = LabelName(k)
	}
	return descs{
		container: [numFamilies]family{
			famInfo:       newFamily(catalog.ContainerInfo, names...),
			famState:      newFamily(catalog.ContainerState),
			famHealth:     newFamily(catalog.ContainerHealthStatus),
			famRestarts:   newFamily(catalog.ContainerRestartsTotal),
			famStarted:    newFamily(catalog.ContainerStartedTimestamp),
			famExits:      newFamily(catalog.ContainerExitsTotal),
			famLastCode:   newFamily(catalog.ContainerLastExitCode),
			famLastTime:   newFamily(catalog.ContainerLastTerminationTimestamp),
			famLastInfo:   newFamily(catalog.ContainerLastTerminationInfo),
			famWorkingSet: newFamily(catalog.ContainerMemoryWorkingSetBytes),
			famUsage:      newFamily(catalog.ContainerMemoryUsageBytes),
			famLimit:      newFamily(catalog.ContainerMemoryLimitBytes),
			famRatio:      newFamily(catalog.ContainerMemoryUsageRatio),
		},
		sourceUp:     newFamily(catalog.ExporterSourceUp),
		sourceErrors: newFamily(catalog.ExporterSourceErrorsTotal),
		events:       newFamily(catalog.ExporterEventsTotal),
		collisions:   newFamily(catalog.ExporterIdentityCollisionsTotal),
		labelKeys:    labelKeys,
	}
}

// LabelName is the Prometheus label name an allowlisted Docker label key is
// published under: label_ and the key with every character outside
// [a-zA-Z0-9_] replaced by _, as kube-state-metrics names Kubernetes labels.
func LabelName(key string) string {
	var b strings.Builder
	b.WriteString("label_")
	for _, r := range key {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// rendered is one container's exposition text, family by family, without
// the families' header lines. It is replaced, never modified, so a scrape
// can write it after releasing the lock.
type rendered [numFamilies][]byte

// render encodes an entry's series with expfmt once, when the entry
// changes, so that a scrape only copies bytes. Callers hold mu.
func (c *Cache) render(e *entry) {
	d := &c.descs
	r := new(rendered)
	var buf bytes.Buffer
	for f, ms := range c.series(e) {
		if len(ms) == 0 {
			continue
		}
		pb := make([]*dto.Metric, len(ms))
		for i, m := range ms {
			pb[i] = &dto.Metric{}
			if err := m.Write(pb[i]); err != nil {
				panic(fmt.Sprintf("cache: write %s: %v", m.Desc(), err))
			}
		}
		buf.Reset()
		if _, err := expfmt.MetricFamilyToText(&buf, d.container[f].with(pb)); err != nil {
			panic(fmt.Sprintf("cache: encode %s: %v", d.container[f].desc, err))
		}
		r[f] = bytes.Clone(buf.Bytes()[len(d.container[f].header):])
	}
	e.text = r
}

// series builds an entry's series as client_golang const metrics, checked
// against the catalog's descriptors, family by family.
func (c *Cache) series(e *entry) [numFamilies][]prometheus.Metric {
	d := &c.descs
	var fams [numFamilies][]prometheus.Metric
	add := func(f int, v float64, labels ...string) {
		fams[f] = append(fams[f], d.container[f].metric(v, labels...))
	}
	id := []string{e.key.name, e.key.project, e.key.service}
	with := func(extra ...string) []string { return append(id[:3:3], extra...) }

	if e.live {
		info := with(e.c.Image, e.id)
		for _, k := range d.labelKeys {
			info = append(info, e.c.Labels[k])
		}
		add(famInfo, 1, info...)
		for _, s := range catalog.States {
			add(famState, bool01(s == e.c.State), with(s)...)
		}
		// Docker keeps the last health status of a stopped container; it
		// says nothing about a container that does not run.
		if e.c.Health != "" && e.c.State == "running" {
			for _, s := range catalog.HealthStatuses {
				add(famHealth, bool01(s == e.c.Health), with(s)...)
			}
		}
		add(famRestarts, float64(e.c.RestartCount), id...)
		if !e.c.StartedAt.IsZero() {
			add(famStarted, unixSeconds(e.c.StartedAt), id...)
		}
		// The limit comes from the memory source while it answers (the
		// cgroup's effective figure), else from inspect, so a stopped or
		// OOM-killed container still shows the limit it died at.
		limit := float64(max(e.c.MemoryLimit, 0))
		if m := e.mem; m != nil && m.Limit > 0 {
			limit = float64(m.Limit)
		}
		if limit > 0 {
			add(famLimit, limit, id...)
		}
		if m := e.mem; m != nil {
			add(famWorkingSet, float64(m.WorkingSet), id...)
			add(famUsage, float64(m.Usage), id...)
			if limit > 0 {
				add(famRatio, float64(m.WorkingSet)/limit, id...)
			}
		}
	}
	// Every reason is published from the start, at 0, so that the first exit
	// of a kind is an increase and not the birth of a new series.
	for i, r := range catalog.Reasons {
		add(famExits, e.exits[i], with(r)...)
	}
	if t := e.last; t != nil {
		add(famLastCode, float64(t.code), id...)
		add(famLastTime, unixSeconds(t.time), id...)
		add(famLastInfo, 1, with(strconv.Itoa(t.code), t.reason)...)
	}
	return fams
}

// WriteText writes every container's series in the text exposition format,
// family by family, containers sorted by name. It copies rendered bytes
// only: the read lock is held just long enough to take the list.
func (c *Cache) WriteText(w io.Writer) error {
	type item struct {
		key     identity
		live    bool
		started time.Time
		text    *rendered
	}
	c.mu.RLock()
	now := c.opts.Now()
	items := make([]item, 0, len(c.entries))
	for _, e := range c.entries {
		if !c.expired(e, now) {
			items = append(items, item{e.key, e.live, e.c.StartedAt, e.text})
		}
	}
	c.mu.RUnlock()
	slices.SortFunc(items, func(a, b item) int {
		return cmp.Or(cmp.Compare(a.key.name, b.key.name), cmp.Compare(a.key.project, b.key.project), cmp.Compare(a.key.service, b.key.service),
			-cmp.Compare(bool01(a.live), bool01(b.live)), b.started.Compare(a.started))
	})
	// The cache keeps one container per identity; should two ever share
	// one, a scrape with both would repeat their series and Prometheus
	// would reject it. Publish the live, most recently started one.
	kept := items[:0]
	for i, it := range items {
		if i > 0 && it.key == items[i-1].key {
			c.collisions.Add(1)
			continue
		}
		kept = append(kept, it)
	}
	items = kept

	for f := range numFamilies {
		header := false
		for _, it := range items {
			if len(it.text[f]) == 0 {
				continue
			}
			if !header {
				if _, err := w.Write(c.descs.container[f].header); err != nil {
					return err
				}
				header = true
			}
			if _, err := w.Write(it.text[f]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Describe implements prometheus.Collector for the exporter's own metrics;
// container series are written by WriteText.
func (c *Cache) Describe(ch chan<- *prometheus.Desc) {
	d := &c.descs
	for _, f := range []family{d.sourceUp, d.sourceErrors, d.events, d.collisions} {
		ch <- f.desc
	}
}

// Collect implements prometheus.Collector for the exporter's own metrics.
func (c *Cache) Collect(ch chan<- prometheus.Metric) {
	d := &c.descs
	c.mu.RLock()
	defer c.mu.RUnlock()
	for s, up := range c.sourceUp {
		ch <- d.sourceUp.metric(bool01(up), s)
	}
	for s, n := range c.sourceErr {
		ch <- d.sourceErrors.metric(n, s)
	}
	for a, n := range c.events {
		ch <- d.events.metric(n, a)
	}
	ch <- d.collisions.metric(float64(c.collisions.Load()))
}

// Handler serves a scrape: the metrics g gathers (the exporter's own, Go
// and process metrics), encoded by expfmt, followed by the cached container
// series. It speaks the text format only, gzipped when the scraper accepts
// it, as kube-state-metrics does. Compression uses gzip's fastest level:
// at the default level, compressing dominates the cost of a large scrape.
func (c *Cache) Handler(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fams, err := g.Gather()
		if err != nil {
			log.Error("gather failed", "err", err)
			http.Error(w, "gather: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", string(format))
		var out io.Writer = w
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
			defer gz.Close()
			out = gz
		}
		bw := bufio.NewWriterSize(out, 64<<10)
		enc := expfmt.NewEncoder(bw, format)
		for _, f := range fams {
			if err := enc.Encode(f); err != nil {
				log.Error("encode failed", "family", f.GetName(), "err", err)
				return
			}
		}
		if err := c.WriteText(bw); err != nil {
			log.Debug("scrape aborted", "err", err)
			return
		}
		bw.Flush()
	})
}
func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
