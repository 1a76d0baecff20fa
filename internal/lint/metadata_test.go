package lint

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sre-tools/promgen/internal/testenv"
)

// apiMetadata is a /api/v1/metadata response as Prometheus v3 writes it
// (the shape of the real API; flaky is a family whose targets disagree).
const apiMetadata = `{"status":"success","data":{` +
	`"go_goroutines":[{"type":"gauge","help":"Number of goroutines that currently exist.","unit":""}],` +
	`"prometheus_http_requests_total":[{"type":"counter","help":"Counter of HTTP requests.","unit":""}],` +
	`"prometheus_http_request_duration_seconds":[{"type":"histogram","help":"Histogram of latencies for HTTP requests.","unit":""}],` +
	`"flaky":[{"type":"counter","help":"a","unit":""},{"type":"gauge","help":"b","unit":""}]}}`

func TestLoadMetadata(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, content string
	}{
		{"a saved API response", apiMetadata},
		{"its data alone", apiMetadata[strings.Index(apiMetadata, `"data":`)+7 : len(apiMetadata)-1]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			md, err := LoadMetadata(write("md.json", tc.content))
			if err != nil {
				t.Fatal(err)
			}
			assertTypes(t, md)
		})
	}
	t.Run("anything else is an error naming the file", func(t *testing.T) {
		p := write("bad.json", `[1, 2]`)
		if _, err := LoadMetadata(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("an error response is an error", func(t *testing.T) {
		if _, err := LoadMetadata(write("err.json", `{"status":"error","errorType":"bad_data","error":"x"}`)); err == nil {
			t.Error("no error")
		}
	})
}

// assertTypes checks what checks learn from metadata: a family's type, its
// histogram's series as counters, and no type where targets disagree.
func assertTypes(t *testing.T, md Metadata) {
	t.Helper()
	ty := newTypes(md)
	for name, want := range map[string]metricType{
		"go_goroutines":                                   {Type: "gauge"},
		"prometheus_http_requests_total":                  {Type: "counter"},
		"prometheus_http_request_duration_seconds_count":  {Type: "counter"},
		"prometheus_http_request_duration_seconds_bucket": {Type: "counter"},
		"flaky":        {},
		"nobody_total": {Type: "counter", Guessed: true},
	} {
		if got := ty.of(name); got != want {
			t.Errorf("%s: got %+v, want %+v", name, got, want)
		}
	}
}

// TestFetchMetadataFromAnAPIStandIn serves the real API's JSON shape from an
// httptest server on 127.0.0.1: the client code path of --prometheus, where
// no Prometheus binary is at hand (TestFetchMetadataFromARealPrometheus
// runs the real one when $PROMETHEUS names it).
func TestFetchMetadataFromAnAPIStandIn(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/metadata":
			fmt.Fprint(w, apiMetadata)
		case "/api/v1/status/config":
			fmt.Fprint(w, `{"status":"success","data":{"yaml":"global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\n"}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	md, err := FetchMetadata(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	assertTypes(t, md)
	if d, err := FetchScrapeInterval(context.Background(), srv.URL); err != nil || d != 15*time.Second {
		t.Errorf("scrape interval %s (%v), want 15s", d, err)
	}

	t.Run("a server that is not Prometheus is an error naming it", func(t *testing.T) {
		bad := httptest.NewServer(http.NotFoundHandler())
		defer bad.Close()
		if _, err := FetchMetadata(context.Background(), bad.URL); err == nil || !strings.Contains(err.Error(), bad.URL) {
			t.Errorf("got %v", err)
		}
	})
}

// TestFetchMetadataFromARealPrometheus starts the pinned Prometheus named by
// $PROMETHEUS on 127.0.0.1, scraping itself every second, and lints a rule
// with the metadata it reports: rate() of its go_goroutines gauge is an
// error only because the live metadata says gauge.
func TestFetchMetadataFromARealPrometheus(t *testing.T) {
	bin := testenv.Tool(t, "PROMETHEUS", "prometheus")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: [%q]\n", addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config.file="+cfg, "--web.listen-address="+addr, "--storage.tsdb.path="+filepath.Join(dir, "data"))
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var md Metadata
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		md, err = FetchMetadata(context.Background(), "http://"+addr)
		if err == nil && len(md["go_goroutines"]) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metadata for go_goroutines from %s within 60s (last error %v)\n%s", addr, err, log.String())
		}
	}
	if d, err := FetchScrapeInterval(context.Background(), "http://"+addr); err != nil || d != time.Second {
		t.Errorf("scrape interval %s (%v), want 1s", d, err)
	}
	ty := newTypes(md)
	if got := ty.of("go_goroutines"); got != (metricType{Type: "gauge"}) {
		t.Errorf("go_goroutines: %+v, want a known gauge", got)
	}
	if got := ty.of("prometheus_http_requests_total"); got != (metricType{Type: "counter"}) {
		t.Errorf("prometheus_http_requests_total: %+v, want a known counter", got)
	}
	rules := "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: rate(go_goroutines[5m]) > 0\n"
	ps := Lint([]File{{Path: "rules.yml", Content: []byte(rules)}}, Config{Metadata: md})
	if len(ps) != 1 || ps[0].Check != "counter-functions" || ps[0].Severity != SeverityError {
		t.Errorf("got %v, want one counter-functions error", ps)
	}
}
