package main

import (
	"context"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/testenv"
)

// dockerReadEndpoints are the only requests the exporter sends the Docker
// API, as docs/security.md lists them for a socket proxy's allowlist: the
// version negotiation's ping, the event stream, the container list, one
// container's inspect and one-shot stats, and the engine's info (the
// host's memory, for containers without a limit).
var dockerReadEndpoints = []*regexp.Regexp{
	regexp.MustCompile(`^(GET|HEAD) /_ping$`),
	regexp.MustCompile(`^GET /v[0-9.]+/events$`),
	regexp.MustCompile(`^GET /v[0-9.]+/containers/json$`),
	regexp.MustCompile(`^GET /v[0-9.]+/containers/[0-9a-f]{64}/json$`),
	regexp.MustCompile(`^GET /v[0-9.]+/containers/[0-9a-f]{64}/stats$`),
	regexp.MustCompile(`^GET /v[0-9.]+/info$`),
}

// TestDockerRequestsAreTheDocumentedReads runs the exporter against the
// real engine through a recording proxy, until it has synced and read
// memory from Docker's stats API, and requires every request it sent to be
// one of dockerReadEndpoints: what docs/security.md tells an operator to
// allow. It starts no container; it reads the engine's.
func TestDockerRequestsAreTheDocumentedReads(t *testing.T) {
	cli := testenv.RequireDocker(t)
	engine, err := url.Parse(cli.DaemonHost())
	if err != nil || engine.Scheme != "unix" {
		t.Skipf("engine at %s: the recording proxy forwards to a unix socket only", cli.DaemonHost())
	}
	sock := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(&url.URL{Scheme: "http", Host: "docker"}) },
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", engine.Path)
		}},
		FlushInterval: -1,
		// The exporter's shutdown cancels its event stream: not an error
		// worth a log line.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) },
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- newApp().RunContext(ctx, []string{"gateway-exporter",
			"--docker.host", "unix://" + sock, "--web.listen-address", addr,
			"--memory.interval", "1s", "--log.level", "error"})
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			resp.Body.Close()
			s := testenv.Scrape(t, "http://"+addr+"/metrics")
			if len(testenv.Grep(s, catalog.ExporterSourceUp+`{source="docker"} 1`)) == 1 &&
				len(testenv.Grep(s, catalog.ExporterSourceUp+`{source="docker_stats"} 1`)) == 1 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the exporter did not sync and read memory from Docker within a minute")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // one more memory read
	cancel()
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	kinds := map[string]bool{}
	for _, req := range seen {
		i := slices.IndexFunc(dockerReadEndpoints, func(re *regexp.Regexp) bool { return re.MatchString(req) })
		if i < 0 {
			t.Errorf("the exporter sent %s, which docs/security.md does not list", req)
			continue
		}
		kinds[dockerReadEndpoints[i].String()] = true
	}
	t.Logf("%d requests, of %d kinds: %s", len(seen), len(kinds), strings.Join(slices.Sorted(maps.Keys(kinds)), " "))
}
