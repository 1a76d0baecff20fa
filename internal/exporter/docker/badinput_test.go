package docker_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/exporter/cache"
	"github.com/sre-tools/promgen/internal/testenv"
)

// fakeDaemon answers the few Docker Engine API paths the source calls, with
// moby's own api types, on 127.0.0.1; it stands in for what a real daemon
// cannot be made to do on demand: hang, or send garbage on its event stream.
type fakeDaemon struct {
	srv        *httptest.Server
	containers map[string]container.InspectResponse
	feed       chan events.Message
	release    chan struct{} // closed when the test ends: hung requests return

	mu   sync.Mutex
	mode string        // "ok", "hang" or "garbage"
	drop chan struct{} // closed to end the open event streams

	held    atomic.Int32 // requests hanging now
	hangs   atomic.Int32 // requests that hung, ever
	garbled atomic.Int32 // event streams answered with garbage
}

func newFakeDaemon(t *testing.T, cs ...container.InspectResponse) *fakeDaemon {
	t.Helper()
	d := &fakeDaemon{containers: map[string]container.InspectResponse{}, feed: make(chan events.Message),
		release: make(chan struct{}), mode: "ok", drop: make(chan struct{})}
	for _, c := range cs {
		d.containers[c.ID] = c
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/_ping", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		w.Write([]byte("OK"))
	})
	mux.HandleFunc("GET /{version}/events", d.events)
	mux.HandleFunc("GET /{version}/containers/json", func(w http.ResponseWriter, r *http.Request) {
		if d.hang(r) {
			return
		}
		var list []container.Summary
		for id := range d.containers {
			list = append(list, container.Summary{ID: id})
		}
		writeJSON(w, http.StatusOK, list)
	})
	mux.HandleFunc("GET /{version}/containers/{id}/json", func(w http.ResponseWriter, r *http.Request) {
		if d.hang(r) {
			return
		}
		c, ok := d.containers[r.PathValue("id")]
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]string{"message": "No such container: " + r.PathValue("id")})
			return
		}
		writeJSON(w, http.StatusOK, c)
	})
	d.srv = httptest.NewServer(mux)
	t.Cleanup(d.srv.Close)
	// Registered after Close, so it runs first: Close waits for handlers.
	t.Cleanup(func() { close(d.release) })
	return d
}

func (d *fakeDaemon) host() string { return "tcp://" + d.srv.Listener.Addr().String() }

// set switches the daemon's behaviour and ends the open event streams, as a
// daemon that breaks down would.
func (d *fakeDaemon) set(mode string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.mode = mode
	close(d.drop)
	d.drop = make(chan struct{})
}

func (d *fakeDaemon) state() (string, chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.mode, d.drop
}

// hang holds the request, unanswered, when the daemon hangs, until the
// client gives up or the test ends; it reports whether it did.
func (d *fakeDaemon) hang(r *http.Request) bool {
	if mode, _ := d.state(); mode != "hang" {
		return false
	}
	d.hangs.Add(1)
	d.held.Add(1)
	defer d.held.Add(-1)
	select {
	case <-r.Context().Done():
	case <-d.release:
	}
	return true
}

func (d *fakeDaemon) events(w http.ResponseWriter, r *http.Request) {
	if d.hang(r) {
		return
	}
	mode, drop := d.state()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if mode == "garbage" {
		d.garbled.Add(1)
		// Valid JSON the source must ignore (an event without a container
		// ID, another type of event), then a line that is not JSON.
		fmt.Fprintf(w, `{"Type":"container","Action":"die","Actor":{"ID":"","Attributes":{"exitCode":"1","name":"ghost"}},"timeNano":%d}`+"\n", time.Now().UnixNano())
		fmt.Fprintf(w, `{"Type":"network","Action":"connect","Actor":{"ID":"n"},"timeNano":%d}`+"\n", time.Now().UnixNano())
		fmt.Fprintln(w, `{"Type":"container","Action":"die", garbage`)
		return
	}
	w.(http.Flusher).Flush()
	enc := json.NewEncoder(w)
	for {
		select {
		case m := <-d.feed:
			enc.Encode(m)
			w.(http.Flusher).Flush()
		case <-drop:
			return
		case <-r.Context().Done():
			return
		case <-d.release:
			return
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// TestBadDaemon puts the docker source in front of a daemon that, once the
// exporter has published a container, stops answering or sends garbage on
// its event stream: the source is marked down and keeps retrying, scrapes
// are answered from the cache, and what was published stays as it was.
func TestBadDaemon(t *testing.T) {
	finished := time.Now().Add(-time.Minute).UTC()
	web := container.InspectResponse{ID: "a", Name: "/web",
		Config: &container.Config{Image: "gw:1", Labels: map[string]string{cache.LabelComposeProject: project, cache.LabelComposeService: "web"}},
		State: &container.State{Status: container.StateExited, ExitCode: 1,
			StartedAt: finished.Add(-time.Hour).Format(time.RFC3339Nano), FinishedAt: finished.Format(time.RFC3339Nano)}}
	c := ctr{id: "a", name: "web"}

	for _, tc := range []struct {
		name  string
		mode  string
		while func(t *testing.T, d *fakeDaemon, e *exporter) []string // a scrape taken while the daemon misbehaves
	}{{
		name: "a daemon that accepts connections and never answers",
		mode: "hang",
		while: func(t *testing.T, d *fakeDaemon, e *exporter) []string {
			// A scrape that returns while one same request hangs, from
			// before the scrape to after it, did not wait for the daemon.
			// The first request to hang has yet to time out, so wait for
			// one that shows the source down: a retry's.
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("no scrape showed the source down while a request of it hung at the daemon")
				}
				n := d.hangs.Load()
				if d.held.Load() == 0 {
					continue
				}
				s := e.scrape(t)
				if d.held.Load() > 0 && d.hangs.Load() == n && has(s, catalog.ExporterSourceUp+`{source="docker"} 0`) {
					return s
				}
			}
		},
	}, {
		name: "an event stream that sends garbage",
		mode: "garbage",
		while: func(t *testing.T, d *fakeDaemon, e *exporter) []string {
			return e.wait(t, 20*time.Second, "the docker source down after garbage", func(s []string) bool {
				return d.garbled.Load() > 0 && has(s, catalog.ExporterSourceUp+`{source="docker"} 0`)
			})
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			d := newFakeDaemon(t, web)
			e := startExporter(t, exporterOptions{retention: time.Hour, host: d.host(), requestTimeout: time.Second})
			d.feed <- events.Message{Type: events.ContainerEventType, Action: events.ActionDie, TimeNano: finished.Add(time.Millisecond).UnixNano(),
				Actor: events.Actor{ID: "a", Attributes: map[string]string{"exitCode": "1", "name": "web"}}}
			before := c.mine(e.wait(t, 20*time.Second, "the exit counted", func(s []string) bool {
				return has(s, c.series(catalog.ContainerExitsTotal, "1", "reason", catalog.ReasonError))
			}))

			d.set(tc.mode)
			s := tc.while(t, d, e)
			if got := c.mine(s); !slices.Equal(got, before) {
				t.Errorf("published series changed while the daemon misbehaves:\n%s\nwere:\n%s", strings.Join(got, "\n"), strings.Join(before, "\n"))
			}
			if !has(s, catalog.ExporterSourceUp+`{source="docker"} 0`) {
				t.Errorf("the docker source is not marked down:\n%s", strings.Join(testenv.Grep(s, "gateway_exporter_source"), "\n"))
			}
			if ghosts := append(testenv.Grep(s, `name=""`), testenv.Grep(s, `name="ghost"`)...); len(ghosts) > 0 {
				t.Errorf("an event without a container made series:\n%s", strings.Join(ghosts, "\n"))
			}
			// Each failed attempt counts: the source keeps trying rather
			// than wait for ever on the first.
			e.wait(t, 30*time.Second, "three failed attempts counted", func(s []string) bool {
				errs := testenv.Grep(s, catalog.ExporterSourceErrorsTotal+`{source="docker"} `)
				if len(errs) != 1 {
					return false
				}
				n, err := strconv.Atoi(errs[0][strings.LastIndex(errs[0], " ")+1:])
				return err == nil && n >= 3
			})
		})
	}
}
