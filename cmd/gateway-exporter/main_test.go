package main

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/testenv"
)

// TestStartsWithoutDocker checks that the exporter serves scrapes, with the
// docker source down, when no engine answers, and that it shuts down
// cleanly when told to.
func TestStartsWithoutDocker(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- newApp().RunContext(ctx, []string{"gateway-exporter",
			"--docker.host", "unix://" + filepath.Join(t.TempDir(), "no-docker.sock"),
			"--web.listen-address", addr, "--memory.interval", "1s", "--log.level", "error"})
	}()

	url := "http://" + addr + "/metrics"
	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scrape answered at %s", url)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var s []string
	for time.Now().Before(deadline) {
		s = testenv.Scrape(t, url)
		if len(testenv.Grep(s, catalog.ExporterSourceErrorsTotal+`{source="docker"} 0`)) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, want := range []string{
		catalog.ExporterSourceUp + `{source="docker"} 0`,
		catalog.ExporterSourceUp + `{source="docker_stats"} 0`,
	} {
		if len(testenv.Grep(s, want)) != 1 {
			t.Errorf("missing %s", want)
		}
	}
	if len(testenv.Grep(s, catalog.ExporterSourceErrorsTotal+`{source="docker"} 0`)) != 0 {
		t.Errorf("failed connections to Docker were not counted as errors")
	}
	if len(testenv.Grep(s, catalog.ExporterBuildInfo+"{")) != 1 {
		t.Errorf("missing %s", catalog.ExporterBuildInfo)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("no shutdown a minute after the signal")
	}
}
