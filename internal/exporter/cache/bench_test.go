package cache

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sre-tools/promgen/internal/exporter/memory"
)

// fleet returns a cache of n running containers, each with a healthcheck,
// a memory limit and a last termination: every series a container can have.
func fleet(n int) *Cache {
	c := New(Options{Retention: time.Hour})
	stats := make(map[string]memory.Stats, n)
	for i := range n {
		id := fmt.Sprintf("%064d", i)
		x := running(id, "svc-"+strconv.Itoa(i))
		x.Health = "healthy"
		c.Upsert(x)
		c.Apply(die(id, 1, 137))
		stats[id] = memory.Stats{WorkingSet: 100 << 20, Usage: 150 << 20, Limit: 512 << 20}
	}
	c.SetMemory(stats)
	return c
}

// BenchmarkScrape1000 is a whole scrape of 1,000 cached containers through
// the cache's Handler, uncompressed.
func BenchmarkScrape1000(b *testing.B) {
	c := fleet(1000)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	h := c.Handler(reg, slog.New(slog.DiscardHandler))
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	scrapeLoop(b, h, req)
}

// BenchmarkScrape1000Gzip is the same scrape compressed, as Prometheus asks
// for it by default, when no container changed since the previous scrape
// (a second Prometheus of an HA pair, or a quiet interval): every family's
// compressed form is reused.
func BenchmarkScrape1000Gzip(b *testing.B) {
	c := fleet(1000)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	h := c.Handler(reg, slog.New(slog.DiscardHandler))
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	scrapeLoop(b, h, req)
}

// BenchmarkScrape1000GzipAfterRefresh is the gzipped scrape after a memory
// refresh changed the figures of every container: the four memory families
// are compressed again. The refresh itself is not timed, nor is collecting
// its garbage.
func BenchmarkScrape1000GzipAfterRefresh(b *testing.B) {
	c := fleet(1000)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	h := c.Handler(reg, slog.New(slog.DiscardHandler))
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	stats := make([]map[string]memory.Stats, 2)
	for v := range stats {
		stats[v] = make(map[string]memory.Stats, 1000)
		for i := range 1000 {
			stats[v][fmt.Sprintf("%064d", i)] = memory.Stats{WorkingSet: uint64(100+v) << 20, Usage: 150 << 20, Limit: 512 << 20}
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		c.SetMemory(stats[i%2])
		// The refresh's garbage (about 25 MB, BenchmarkSetMemory1000) is
		// the refresh's cost: collect it before the scrape is timed.
		runtime.GC()
		b.StartTimer()
		w := newSink()
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("scrape: %d", w.code)
		}
	}
}

// BenchmarkScrape1000GzipCold is the gzipped scrape with nothing compressed
// yet, as the first scrape, or one after every family of every container
// changed: the whole body is compressed.
func BenchmarkScrape1000GzipCold(b *testing.B) {
	c := fleet(1000)
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	b.ReportAllocs()
	for b.Loop() {
		w := newSink()
		c.Handler(reg, slog.New(slog.DiscardHandler)).ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("scrape: %d", w.code)
		}
	}
}

// BenchmarkSetMemory1000 is the cache's side of a memory refresh that
// changed every container's figures: 1,000 containers rendered again, under
// the write lock a scrape waits on to take its list.
func BenchmarkSetMemory1000(b *testing.B) {
	c := fleet(1000)
	stats := make([]map[string]memory.Stats, 2)
	for v := range stats {
		stats[v] = make(map[string]memory.Stats, 1000)
		for i := range 1000 {
			stats[v][fmt.Sprintf("%064d", i)] = memory.Stats{WorkingSet: uint64(100+v) << 20, Usage: 150 << 20, Limit: 512 << 20}
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		c.SetMemory(stats[i%2])
	}
}

// BenchmarkScrape1000ClientGolang is, for comparison, the same series sent
// through client_golang's registry and promhttp as const metrics: what a
// scrape would cost if the cache handed over metrics instead of bytes.
func BenchmarkScrape1000ClientGolang(b *testing.B) {
	c := fleet(1000)
	var ms []prometheus.Metric
	for _, e := range c.entries {
		for f, ss := range c.series(e) {
			for _, s := range ss {
				ms = append(ms, c.descs.container[f].metric(s.v, s.labels...))
			}
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(constCollector(ms))
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	scrapeLoop(b, h, req)
}

// scrapeLoop is the timed part of the scrape benchmarks.
func scrapeLoop(b *testing.B, h http.Handler, req *http.Request) {
	b.ReportAllocs()
	for b.Loop() {
		w := newSink()
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("scrape: %d", w.code)
		}
		b.ReportMetric(float64(w.n), "bytes/scrape")
	}
}

// sink is a response writer that counts the body and drops it, as a
// connection takes it, so that the benchmarks time the exporter's work
// rather than an httptest.ResponseRecorder growing to hold 3 MB.
type sink struct {
	header http.Header
	code   int
	n      int
}

func newSink() *sink { return &sink{header: http.Header{}, code: http.StatusOK} }

func (s *sink) Header() http.Header { return s.header }

func (s *sink) WriteHeader(code int) { s.code = code }

func (s *sink) Write(b []byte) (int, error) {
	s.n += len(b)
	return len(b), nil
}

// BenchmarkApplyEvent applies a die event to one of 1,000 containers,
// which re-renders that container's series.
func BenchmarkApplyEvent(b *testing.B) {
	c := fleet(1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		c.Apply(die(fmt.Sprintf("%064d", i%1000), 10+i, 1))
	}
}

// constCollector hands over fixed metrics, unchecked.
type constCollector []prometheus.Metric

func (constCollector) Describe(chan<- *prometheus.Desc) {}

func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}
