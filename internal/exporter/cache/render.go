package cache

import (
	"bytes"
	"fmt"
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
	container                                           [numFamilies]family
	sourceUp, sourceErrors, events, dropped, collisions family

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
		dropped:      newFamily(catalog.ExporterEventsDroppedTotal),
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
// the families' header lines, and the samples each family was encoded
// from. It is replaced, never modified, so a scrape can write it after
// releasing the lock.
type rendered struct {
	text [numFamilies][]byte
	in   [numFamilies][]sample
}

// sample is one series before it is encoded: its value and label values,
// in the order of its family's descriptor.
type sample struct {
	v      float64
	labels []string
}

func (s sample) equal(o sample) bool { return s.v == o.v && slices.Equal(s.labels, o.labels) }

// render encodes an entry's series once, when the entry changes, so that a
// scrape only copies bytes. Each series goes through client_golang (a
// const metric checked against the catalog's descriptor) and expfmt, but
// only in the families whose samples changed: a memory refresh encodes 3 or
// 4 series of a container's 26, an exit 9. A family that did not change
// keeps its slice, which also tells a gzipped scrape it can reuse that
// family's compressed form (gzipCache). Callers hold mu, and a scrape waits
// for it, so this is kept cheap.
func (c *Cache) render(e *entry) {
	d := &c.descs
	r := &rendered{in: c.series(e)}
	var buf bytes.Buffer
	for f, ss := range r.in {
		if len(ss) == 0 {
			continue
		}
		if old := e.text; old != nil && slices.EqualFunc(old.in[f], ss, sample.equal) {
			r.text[f] = old.text[f]
			continue
		}
		pb := make([]*dto.Metric, len(ss))
		for i, s := range ss {
			m := d.container[f].metric(s.v, s.labels...)
			pb[i] = &dto.Metric{}
			if err := m.Write(pb[i]); err != nil {
				panic(fmt.Sprintf("cache: write %s: %v", m.Desc(), err))
			}
		}
		buf.Reset()
		if _, err := expfmt.MetricFamilyToText(&buf, d.container[f].with(pb)); err != nil {
			panic(fmt.Sprintf("cache: encode %s: %v", d.container[f].desc, err))
		}
		r.text[f] = bytes.Clone(buf.Bytes()[len(d.container[f].header):])
	}
	e.text = r
}

// series lists an entry's series family by family; render turns them into
// client_golang const metrics.
func (c *Cache) series(e *entry) [numFamilies][]sample {
	d := &c.descs
	var fams [numFamilies][]sample
	add := func(f int, v float64, labels ...string) {
		fams[f] = append(fams[f], sample{v, labels})
	}
	id := []string{e.key.name, e.key.project, e.key.service, e.key.oneoff}
	with := func(extra ...string) []string { return append(id[:len(id):len(id)], extra...) }

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

// Describe implements prometheus.Collector for the exporter's own metrics;
// container series are written by WriteText.
func (c *Cache) Describe(ch chan<- *prometheus.Desc) {
	d := &c.descs
	for _, f := range []family{d.sourceUp, d.sourceErrors, d.events, d.dropped, d.collisions} {
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
	ch <- d.dropped.metric(c.dropped)
	ch <- d.collisions.metric(float64(c.collisions.Load()))
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
