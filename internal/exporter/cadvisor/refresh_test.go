package cadvisor

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/cadvisor/info/v1"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/exporter/cache"
)

// hangGuard bounds a wait that should end at once, so that a regression
// fails the test instead of hanging it; it measures nothing.
const hangGuard = 30 * time.Second

// switchable serves with whichever handler was set last.
type switchable struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *switchable) set(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.h = h
}

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

// TestBadCAdvisor runs the exporter's memory path (Source, the refresher,
// the cache and its scrape handler) against a cAdvisor that turns bad after
// a good read: it answers too slowly, or with something that is not its
// JSON. Throughout, every scrape answers from the cache; the source is
// marked down and its errors counted; every series the Docker side
// published stays as it was. The memory figures go, on purpose: figures
// that can no longer be refreshed would let a memory alert fire, or stay
// firing, on stale data (docs/exporter.md). When cAdvisor recovers, so do
// they.
func TestBadCAdvisor(t *testing.T) {
	web := dockerContainer("web", 200<<20, 150<<20, 100<<20)
	good := &standIn{containers: []v1.ContainerInfo{web}}
	for _, tt := range []struct {
		name string
		bad  func(release <-chan struct{}) http.Handler
	}{
		{"a cAdvisor that accepts the request and never answers", func(release <-chan struct{}) http.Handler {
			return hang(release, good)
		}},
		{"a cAdvisor that sends its headers and part of its answer, then stalls", func(release <-chan struct{}) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"/docker/%s": {"spec": {"aliases": ["web", "%s"],`, id("web"), id("web"))
				w.(http.Flusher).Flush()
				select {
				case <-release:
				case <-time.After(hangBound):
				}
			})
		}},
		{"a proxy's HTML error page where cAdvisor's JSON should be", func(<-chan struct{}) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
			})
		}},
		{"an answer cut short", func(<-chan struct{}) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"/docker/%s": {"spec": {"aliases": ["web", "%s"], "namespace": "docker"}, "stats": [{"memory": {"usage": 1`, id("web"), id("web"))
			})
		}},
		{"JSON of another shape", func(<-chan struct{}) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `{"/docker/x": {"stats": [{"memory": {"usage": "150MiB"}}]}}`)
			})
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cadv := &switchable{h: good}
			srv := httptest.NewServer(cadv)
			t.Cleanup(srv.Close)
			release := make(chan struct{})
			t.Cleanup(func() { close(release) }) // before Close, which waits for handlers

			c := cache.New(cache.Options{Retention: time.Hour})
			c.Upsert(cache.Container{
				ID: id("web"), Name: "web", Image: "gw:1", State: "running", MemoryLimit: 200 << 20,
				StartedAt: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC),
				Labels:    map[string]string{catalog.DockerLabelComposeProject: "stack", catalog.DockerLabelComposeService: "web"},
			})
			c.Apply(cache.Event{ID: id("web"), Action: "die", Time: time.Date(2026, 1, 2, 3, 1, 0, 0, time.UTC), Attributes: map[string]string{"exitCode": "1"}})
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(c)
			h := c.Handler(reg, slog.New(slog.DiscardHandler))

			src, err := New(srv.URL, 200*time.Millisecond)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				cache.RefreshMemory(ctx, c, src, 10*time.Millisecond, 200*time.Millisecond, slog.New(slog.DiscardHandler))
			}()
			t.Cleanup(func() { cancel(); <-done })

			up := `gateway_exporter_source_up{source="cadvisor"} 1`
			down := `gateway_exporter_source_up{source="cadvisor"} 0`
			working := series(catalog.ContainerMemoryWorkingSetBytes, "1.048576e+08")
			before := waitFor(t, h, up)
			if !slices.Contains(before, working) {
				t.Fatalf("after a good read, no %s in\n%s", working, strings.Join(before, "\n"))
			}

			cadv.set(tt.bad(release))
			during := waitFor(t, h, down)
			for range 10 {
				scrapeOnce(t, h) // each answers at once, whatever cAdvisor does
			}
			if got, want := docker(during), docker(before); !slices.Equal(got, want) {
				t.Errorf("with cAdvisor bad, the Docker side's series changed:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if slices.Contains(during, working) {
				t.Errorf("with cAdvisor bad, the stale %s is still published", working)
			}
			if limit := series(catalog.ContainerMemoryLimitBytes, "2.097152e+08"); !slices.Contains(during, limit) {
				t.Errorf("with cAdvisor bad, the limit Docker reported is gone: no %s", limit)
			}
			if errs := grep(during, `gateway_exporter_source_errors_total{source="cadvisor"} `); len(errs) != 1 || strings.HasSuffix(errs[0], " 0") {
				t.Errorf("with cAdvisor bad, no error counted: %q", errs)
			}

			cadv.set(good)
			after := waitFor(t, h, up)
			if !slices.Contains(after, working) {
				t.Errorf("after cAdvisor recovered, no %s", working)
			}
		})
	}
}

// series is one container series line of the test container "web".
func series(name, value string) string {
	return name + `{compose_oneoff="false",compose_project="stack",compose_service="web",name="web"} ` + value
}

// scrapeOnce scrapes h and returns its sample lines, failing the test if
// the scrape does not return.
func scrapeOnce(t *testing.T, h http.Handler) []string {
	t.Helper()
	out := make(chan []string, 1)
	go func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		var lines []string
		for l := range strings.Lines(w.Body.String()) {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				lines = append(lines, l)
			}
		}
		out <- lines
	}()
	select {
	case lines := <-out:
		return lines
	case <-time.After(hangGuard):
		t.Fatal("a scrape blocked")
		return nil
	}
}

// waitFor scrapes until a scrape holds line, and returns that scrape. The
// refresher reads every 10ms; the bound only keeps a broken test finite.
func waitFor(t *testing.T, h http.Handler, line string) []string {
	t.Helper()
	for range 3000 {
		lines := scrapeOnce(t, h)
		if slices.Contains(lines, line) {
			return lines
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no scrape shows %s", line)
	return nil
}

// docker returns the lines of the series the Docker source publishes: every
// container series but the memory figures cAdvisor supplies.
func docker(lines []string) []string {
	var out []string
	for _, l := range lines {
		name, _, _ := strings.Cut(l, "{")
		switch name {
		case catalog.ContainerMemoryWorkingSetBytes, catalog.ContainerMemoryUsageBytes, catalog.ContainerMemoryUsageRatio:
			continue
		}
		if strings.HasPrefix(name, "docker_container_") {
			out = append(out, l)
		}
	}
	return out
}

func grep(lines []string, prefix string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}
