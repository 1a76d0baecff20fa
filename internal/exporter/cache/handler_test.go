package cache

import (
	"bytes"
	"compress/gzip"
	"context"
	"hash/crc32"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/exporter/memory"
)

// get scrapes h with the given Accept-Encoding fields (none when nil).
func get(h http.Handler, acceptEncoding ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	for _, v := range acceptEncoding {
		req.Header.Add("Accept-Encoding", v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// gunzip decodes a gzipped body; gzip.Reader checks its CRC and length.
func gunzip(t *testing.T, body []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("gzip header: %v", err)
	}
	zr.Multistream(false)
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}

func newHandler(c *Cache) http.Handler {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	return c.Handler(reg, slog.New(slog.DiscardHandler))
}

func TestAcceptEncoding(t *testing.T) {
	const (
		id  = "identity"
		gz  = "gzip"
		bad = "406"
	)
	for _, tt := range []struct {
		name   string
		fields []string // Accept-Encoding fields; nil for none
		want   string
	}{
		{"no Accept-Encoding gets identity", nil, id},
		{"an empty Accept-Encoding gets identity", []string{""}, id},
		{"gzip, as Prometheus asks, gets gzip", []string{"gzip"}, gz},
		{"a coding name in capitals is the same coding", []string{"GZip"}, gz},
		{"x-gzip is gzip", []string{"x-gzip"}, gz},
		{"gzip refused with q=0 beside identity gets identity", []string{"gzip;q=0, identity"}, id},
		{"gzip refused with q=0 alone gets identity, acceptable by default", []string{"gzip;q=0"}, id},
		{"a weight with spaces and a capital Q still counts", []string{"gzip ; Q=0"}, id},
		{"q=0.000 refuses too", []string{"gzip;q=0.000"}, id},
		{"identity preferred by weight gets identity", []string{"gzip;q=0.5, identity;q=0.8"}, id},
		{"gzip preferred by weight gets gzip", []string{"gzip;q=0.8, identity;q=0.5"}, gz},
		{"a tie goes to gzip", []string{"identity;q=0.5, gzip;q=0.5"}, gz},
		{"any gzip weight beats identity only implied", []string{"gzip;q=0.001"}, gz},
		{"RFC 9110's example gets gzip", []string{"gzip;q=1.0, identity; q=0.5, *;q=0"}, gz},
		{"* stands for gzip", []string{"*"}, gz},
		{"* with gzip refused gets identity", []string{"*, gzip;q=0"}, id},
		{"codings the exporter lacks get identity", []string{"br, zstd, deflate"}, id},
		{"codings spread over two fields are read together", []string{"br", "gzip;q=0.9"}, gz},
		{"a malformed weight drops its element, not the header", []string{"gzip;q=2, identity"}, id},
		{"a weight with too many digits is malformed", []string{"gzip;q=0.0001"}, id},
		{"empty elements are skipped", []string{", ,gzip,"}, gz},
		{"identity refused, gzip acceptable, gets gzip", []string{"gzip, identity;q=0"}, gz},
		{"both refused gets 406", []string{"gzip;q=0, identity;q=0"}, bad},
		{"*;q=0 without identity listed refuses identity too", []string{"*;q=0"}, bad},
		{"*;q=0 with identity listed gets identity", []string{"*;q=0, identity"}, id},
		{"identity;q=0 alone leaves nothing acceptable", []string{"identity;q=0"}, bad},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Options{Retention: time.Hour})
			c.Upsert(running("a", "web"))
			h := newHandler(c)
			plain := get(h).Body.Bytes()
			w := get(h, tt.fields...)

			if got := w.Header().Values("Vary"); len(got) != 1 || got[0] != "Accept-Encoding" {
				t.Errorf("Vary = %q, want [Accept-Encoding]", got)
			}
			enc := w.Header().Get("Content-Encoding")
			switch tt.want {
			case bad:
				if w.Code != http.StatusNotAcceptable {
					t.Fatalf("status %d, want 406", w.Code)
				}
				return
			case gz:
				if enc != "gzip" {
					t.Fatalf("Content-Encoding %q, want gzip", enc)
				}
				if got := gunzip(t, w.Body.Bytes()); !bytes.Equal(got, plain) {
					t.Errorf("gzipped body differs from the identity one:\n%s\nwant\n%s", got, plain)
				}
			case id:
				if enc != "" {
					t.Fatalf("Content-Encoding %q, want none", enc)
				}
				if !bytes.Equal(w.Body.Bytes(), plain) {
					t.Errorf("body differs from the plain scrape")
				}
			}
			if w.Code != http.StatusOK {
				t.Errorf("status %d, want 200", w.Code)
			}
		})
	}
}

// TestGzipScrapeFollowsEveryChange scrapes gzipped after each kind of change
// the cache knows, and checks the body against an uncompressed scrape, so
// that no compressed family outlives the series it was made from.
func TestGzipScrapeFollowsEveryChange(t *testing.T) {
	now := t0
	c := New(Options{Retention: time.Minute, Now: func() time.Time { return now }})
	h := newHandler(c)
	mem := func(ws uint64) map[string]memory.Stats {
		return map[string]memory.Stats{"a": {WorkingSet: ws, Usage: 2 * ws, Limit: 1 << 30}, "b": {WorkingSet: ws, Usage: ws}}
	}
	steps := []struct {
		name   string
		change func()
	}{
		{"an empty cache", func() {}},
		{"a first container", func() { c.Upsert(running("a", "web")) }},
		{"a second container, sorted before the first", func() { c.Upsert(running("b", "api")) }},
		{"memory figures", func() { c.SetMemory(mem(100)) }},
		{"nothing", func() {}},
		{"new memory figures", func() { c.SetMemory(mem(200)) }},
		{"the same memory figures again", func() { c.SetMemory(mem(200)) }},
		{"an exit", func() { c.Apply(die("a", 10, 137)) }},
		{"a health status", func() { c.Apply(ev("b", "health_status: healthy", 11)) }},
		{"a restart", func() { x := running("a", "web"); x.RestartCount = 1; c.Upsert(x) }},
		{"a memory source failure", func() { c.SetMemory(nil) }},
		{"a removal", func() { c.Remove("b", now) }},
		{"the removed container past its retention", func() { now = now.Add(2 * time.Minute) }},
		{"the last container removed and expired", func() { c.Remove("a", now); now = now.Add(2 * time.Minute) }},
	}
	for _, s := range steps {
		s.change()
		plain := get(h)
		zipped := get(h, "gzip")
		if plain.Code != http.StatusOK || zipped.Code != http.StatusOK {
			t.Fatalf("after %s: status %d and %d", s.name, plain.Code, zipped.Code)
		}
		if got := gunzip(t, zipped.Body.Bytes()); !bytes.Equal(got, plain.Body.Bytes()) {
			t.Errorf("after %s, the gzipped scrape reads\n%s\nwant\n%s", s.name, got, plain.Body)
		}
	}
}

func TestCRC32Combine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<16)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	for range 200 {
		i := r.IntN(len(data) + 1)
		j := i + r.IntN(len(data)-i+1)
		a, b := data[:i], data[i:j]
		got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b)))
		if want := crc32.ChecksumIEEE(data[:j]); got != want {
			t.Fatalf("crc32Combine of %d and %d bytes = %08x, want %08x", len(a), len(b), got, want)
		}
	}
}

// hangGuard bounds a wait that should end at once, so that a regression
// fails the test instead of hanging it; it measures nothing.
const hangGuard = 30 * time.Second

// within runs f and fails the test if it has not returned by hangGuard.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(hangGuard):
		t.Fatalf("%s blocked", what)
	}
}

// stuckSource is a memory source whose reads block until release is closed,
// as on a backend that accepts the request and never answers.
type stuckSource struct {
	entered chan struct{} // told, if it has room, that a read started
	release chan struct{}
	stats   map[string]memory.Stats
}

func (s *stuckSource) Name() string { return "stuck" }

func (s *stuckSource) Read(ctx context.Context) (map[string]memory.Stats, error) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	select {
	case <-s.release:
		return s.stats, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestRefreshNeverBlocksAScrape holds a memory read stuck while scrapes
// run: each answers from the cache, with what was published before.
func TestRefreshNeverBlocksAScrape(t *testing.T) {
	c := New(Options{Retention: time.Hour})
	c.Upsert(running("a", "web"))
	c.SetMemory(map[string]memory.Stats{"a": {WorkingSet: 50, Usage: 60, Limit: 100}})
	h := newHandler(c)
	src := &stuckSource{
		entered: make(chan struct{}, 1),
		release: make(chan struct{}),
		stats:   map[string]memory.Stats{"a": {WorkingSet: 80, Usage: 90, Limit: 100}},
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The first read stays stuck until release, whatever its
		// deadline; later ones return at once.
		RefreshMemory(ctx, c, src, time.Millisecond, time.Hour, slog.New(slog.DiscardHandler))
	}()
	t.Cleanup(func() { cancel(); <-done })
	<-src.entered // the read is now stuck, and stays so until release

	ratio := series(catalog.ContainerMemoryUsageRatio, "0.5")
	for i := range 20 {
		enc := [][]string{nil, {"gzip"}}[i%2]
		within(t, "a scrape during a stuck read", func() {
			w := get(h, enc...)
			body := w.Body.Bytes()
			if enc != nil {
				body = gunzip(t, body)
			}
			if !bytes.Contains(body, []byte(ratio)) {
				t.Errorf("scrape %d during a stuck read lacks %s:\n%s", i, ratio, body)
			}
		})
	}

	close(src.release)
	<-src.entered // the next read started, so the first one was stored
	if got := scrape(t, c, catalog.ContainerMemoryUsageRatio); len(got) != 1 || got[0] != series(catalog.ContainerMemoryUsageRatio, "0.8") {
		t.Errorf("after the read returned: %q, want the ratio 0.8", got)
	}
}

// blockedWriter is a scraper that stops reading: its first Write blocks
// until release is closed.
type blockedWriter struct {
	header  http.Header
	entered chan struct{}
	release chan struct{}
	once    bool
}

func (w *blockedWriter) Header() http.Header { return w.header }
func (w *blockedWriter) WriteHeader(int)     {}
func (w *blockedWriter) Write(b []byte) (int, error) {
	if !w.once {
		w.once = true
		close(w.entered)
		<-w.release
	}
	return len(b), nil
}

// TestStalledScraperBlocksNothing stalls one scrape in the middle of its
// response, gzipped or not, and checks that a refresh and other scrapes go
// on meanwhile: no lock is held while a response is written.
func TestStalledScraperBlocksNothing(t *testing.T) {
	for _, enc := range []string{"identity", "gzip"} {
		t.Run(enc, func(t *testing.T) {
			c := New(Options{Retention: time.Hour})
			c.Upsert(running("a", "web"))
			h := newHandler(c)
			w := &blockedWriter{header: http.Header{}, entered: make(chan struct{}), release: make(chan struct{})}
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept-Encoding", enc)
			stalled := make(chan struct{})
			go func() {
				defer close(stalled)
				h.ServeHTTP(w, req)
			}()
			<-w.entered
			t.Cleanup(func() { close(w.release); <-stalled })

			within(t, "a refresh during a stalled scrape", func() {
				c.SetMemory(map[string]memory.Stats{"a": {WorkingSet: 30, Usage: 40, Limit: 100}})
			})
			within(t, "another scrape during a stalled scrape", func() {
				body := get(h, enc).Body.Bytes()
				if enc == "gzip" {
					body = gunzip(t, body)
				}
				if want := series(catalog.ContainerMemoryUsageRatio, "0.3"); !bytes.Contains(body, []byte(want)) {
					t.Errorf("scrape lacks %s:\n%s", want, body)
				}
			})
		})
	}
}
