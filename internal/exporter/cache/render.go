package cache

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/version"

	"github.com/sre-tools/promgen/catalog"
)

// family is one metric family's descriptor and value type, both read from
// the catalog.
type family struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

func newFamily(name string, extra ...string) family {
	m := catalog.MustLookup(name)
	typ := prometheus.GaugeValue
	if m.Type == catalog.Counter {
		typ = prometheus.CounterValue
	}
	return family{prometheus.NewDesc(m.Name, m.Help, append(m.AllLabels(), extra...), nil), typ}
}

func (f family) metric(v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(f.desc, f.typ, v, labels...)
}

// descs are the exporter's metric families.
type descs struct {
	info, state, health, restarts, exits, lastCode, lastTime, lastInfo, started family
	workingSet, usage, limit, ratio                                             family
	sourceUp, sourceErrors, events, build                                       family

	labelKeys []string // allowlisted Docker label keys, in info's label order
}

func newDescs(labelKeys []string) descs {
	names := make([]string, len(labelKeys))
	for i, k := range labelKeys {
		names[i] = LabelName(k)
	}
	return descs{
		info:         newFamily(catalog.ContainerInfo, names...),
		state:        newFamily(catalog.ContainerState),
		health:       newFamily(catalog.ContainerHealthStatus),
		restarts:     newFamily(catalog.ContainerRestartCount),
		exits:        newFamily(catalog.ContainerExitsTotal),
		lastCode:     newFamily(catalog.ContainerLastExitCode),
		lastTime:     newFamily(catalog.ContainerLastTerminationTimestamp),
		lastInfo:     newFamily(catalog.ContainerLastTerminationInfo),
		started:      newFamily(catalog.ContainerStartedTimestamp),
		workingSet:   newFamily(catalog.ContainerMemoryWorkingSetBytes),
		usage:        newFamily(catalog.ContainerMemoryUsageBytes),
		limit:        newFamily(catalog.ContainerMemoryLimitBytes),
		ratio:        newFamily(catalog.ContainerMemoryUsageRatio),
		sourceUp:     newFamily(catalog.ExporterSourceUp),
		sourceErrors: newFamily(catalog.ExporterSourceErrorsTotal),
		events:       newFamily(catalog.ExporterEventsTotal),
		build:        newFamily(catalog.ExporterBuildInfo),
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

// render rebuilds an entry's series. It allocates a new slice rather than
// reusing the old one, because Collect sends a snapshot of the old slice
// after releasing the lock. Callers hold mu.
func (c *Cache) render(e *entry) {
	d := &c.descs
	id := []string{e.key.name, e.key.project, e.key.service}
	with := func(extra ...string) []string { return append(id[:3:3], extra...) }
	ms := make([]prometheus.Metric, 0, len(e.metrics))

	if e.live {
		info := with(e.c.Image, e.id)
		for _, k := range d.labelKeys {
			info = append(info, e.c.Labels[k])
		}
		ms = append(ms, d.info.metric(1, info...))
		for _, s := range catalog.States {
			ms = append(ms, d.state.metric(bool01(s == e.c.State), with(s)...))
		}
		if e.c.Health != "" {
			for _, s := range catalog.HealthStatuses {
				ms = append(ms, d.health.metric(bool01(s == e.c.Health), with(s)...))
			}
		}
		ms = append(ms, d.restarts.metric(float64(e.c.RestartCount), id...))
		if !e.c.StartedAt.IsZero() {
			ms = append(ms, d.started.metric(unixSeconds(e.c.StartedAt), id...))
		}
		if m := e.mem; m != nil {
			ms = append(ms, d.workingSet.metric(float64(m.WorkingSet), id...), d.usage.metric(float64(m.Usage), id...))
			if m.Limit > 0 {
				ms = append(ms, d.limit.metric(float64(m.Limit), id...), d.ratio.metric(float64(m.WorkingSet)/float64(m.Limit), id...))
			}
		}
	}
	// Every reason is published from the start, at 0, so that the first exit
	// of a kind is an increase and not the birth of a new series.
	for i, r := range catalog.Reasons {
		ms = append(ms, d.exits.metric(e.exits[i], with(r)...))
	}
	if t := e.last; t != nil {
		ms = append(ms,
			d.lastCode.metric(float64(t.ExitCode), id...),
			d.lastTime.metric(unixSeconds(t.Time), id...),
			d.lastInfo.metric(1, with(strconv.Itoa(t.ExitCode), t.Reason)...))
	}
	e.metrics = ms
}

// Describe implements prometheus.Collector.
func (c *Cache) Describe(ch chan<- *prometheus.Desc) {
	d := &c.descs
	for _, f := range []family{d.info, d.state, d.health, d.restarts, d.exits, d.lastCode, d.lastTime, d.lastInfo, d.started,
		d.workingSet, d.usage, d.limit, d.ratio, d.sourceUp, d.sourceErrors, d.events, d.build} {
		ch <- f.desc
	}
}

// Collect implements prometheus.Collector. It holds the read lock only to
// take a snapshot of the rendered series, so a slow scraper never holds up
// the event loop.
func (c *Cache) Collect(ch chan<- prometheus.Metric) {
	d := &c.descs
	var own []prometheus.Metric
	c.mu.RLock()
	now := c.opts.Now()
	series := make([][]prometheus.Metric, 0, len(c.entries))
	for _, e := range c.entries {
		if !c.expired(e, now) {
			series = append(series, e.metrics)
		}
	}
	for s, up := range c.sourceUp {
		own = append(own, d.sourceUp.metric(bool01(up), s))
	}
	for s, n := range c.sourceErr {
		own = append(own, d.sourceErrors.metric(n, s))
	}
	for a, n := range c.events {
		own = append(own, d.events.metric(n, a))
	}
	c.mu.RUnlock()

	for _, ms := range series {
		for _, m := range ms {
			ch <- m
		}
	}
	for _, m := range own {
		ch <- m
	}
	ch <- d.build.metric(1, version.Version, version.GetRevision(), version.GoVersion)
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
