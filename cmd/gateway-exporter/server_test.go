package main

import (
	"net/http"
	"testing"
	"time"
)

// TestServerTimeouts requires every timeout of the HTTP server set: without
// them a client that sends its request slowly, stops reading the answer or
// holds an idle connection keeps a connection and its goroutine for as
// long as it likes. The write timeout must leave a scrape more time than
// Prometheus ever waits for one (scrape_timeout is at most the scrape
// interval, 1m by default), and the idle timeout must outlast that interval
// so Prometheus keeps its connection between scrapes.
func TestServerTimeouts(t *testing.T) {
	s := newServer(http.NotFoundHandler())
	for _, tc := range []struct {
		name     string
		got, min time.Duration
	}{
		{"ReadHeaderTimeout", s.ReadHeaderTimeout, time.Second},
		{"ReadTimeout", s.ReadTimeout, time.Second},
		{"WriteTimeout", s.WriteTimeout, time.Minute},
		{"IdleTimeout", s.IdleTimeout, time.Minute + time.Second},
	} {
		if tc.got < tc.min {
			t.Errorf("%s is %s, want at least %s", tc.name, tc.got, tc.min)
		}
	}
	if s.MaxHeaderBytes == 0 || s.MaxHeaderBytes > 64<<10 {
		t.Errorf("MaxHeaderBytes is %d, want set and at most 64 KiB (a scrape request's headers are a few hundred bytes)", s.MaxHeaderBytes)
	}
}
