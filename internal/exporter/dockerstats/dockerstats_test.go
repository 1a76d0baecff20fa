package dockerstats

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"

	"github.com/sre-tools/promgen/internal/exporter/memory"
	"github.com/sre-tools/promgen/internal/testenv"
)

const mib = 1 << 20

// TestReadAgainstDocker runs containers of known memory on the real Docker
// engine and checks what Source reads for them.
func TestReadAgainstDocker(t *testing.T) {
	cli := testenv.RequireDocker(t)
	image := testenv.Standin(t, cli)

	tests := []struct {
		name  string
		limit int64 // docker run --memory; 0 for none
		hold  int   // MiB the stand-in holds resident (--fault hold:MiB)
	}{
		{name: "a container limited to 64 MiB holding 40 MiB has that limit and a working set just above 40 MiB", limit: 64 * mib, hold: 40},
		{name: "a container without a limit holding 16 MiB has no limit and a working set just above 16 MiB", hold: 16},
	}
	ids := make([]string, len(tests))
	for i, tt := range tests {
		ids[i] = runHolding(t, cli, image, tt.limit, tt.hold)
	}

	got, err := New(cli, 4).Read(t.Context())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, ok := got[ids[i]]
			if !ok {
				t.Fatalf("Read has no stats for container %.12s; it has %d containers", ids[i], len(got))
			}
			t.Logf("working set %.1f MiB, usage %.1f MiB, limit %d", float64(st.WorkingSet)/mib, float64(st.Usage)/mib, st.Limit)
			if st.Limit != uint64(tt.limit) {
				t.Errorf("Limit = %d, want %d", st.Limit, tt.limit)
			}
			// The stand-in's heap plus the Go runtime and its binary's
			// page cache: a few MiB above what it holds, far below 16 MiB
			// more.
			lo, hi := uint64(tt.hold)*mib, uint64(tt.hold+16)*mib
			if st.WorkingSet < lo || st.WorkingSet > hi {
				t.Errorf("WorkingSet = %.1f MiB, want between %d and %d MiB", float64(st.WorkingSet)/mib, lo/mib, hi/mib)
			}
			if st.Usage < st.WorkingSet {
				t.Errorf("Usage = %d < WorkingSet = %d", st.Usage, st.WorkingSet)
			}
		})
	}

	t.Run("a container that is not running gets no sample", func(t *testing.T) {
		created, err := cli.ContainerCreate(t.Context(), client.ContainerCreateOptions{
			Config:     &container.Config{Image: image, Labels: map[string]string{testenv.Label: "1"}},
			HostConfig: &container.HostConfig{NetworkMode: "none"},
		})
		if err != nil {
			t.Fatalf("create container: %v", err)
		}
		t.Cleanup(func() { removeContainer(t, cli, created.ID) })
		st, ok, err := New(cli, 1).container(t.Context(), created.ID, 1<<40)
		if err != nil || ok {
			t.Errorf("container(created, not started) = %+v, %t, %v; want no sample and no error", st, ok, err)
		}
	})
}

// TestReadAgainstStandIn covers what a real daemon cannot be made to do on
// demand: lose a container between the list and its stats, fail one
// container's stats, or hang. The stand-in is an httptest server answering
// Docker's API paths with moby's own api types (system.Info,
// container.Summary, container.StatsResponse).
func TestReadAgainstStandIn(t *testing.T) {
	const memTotal = 8 << 30
	sample := func(usage, inactive, limit uint64) container.StatsResponse {
		return container.StatsResponse{
			Read: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			MemoryStats: container.MemoryStats{
				Usage: usage,
				Limit: limit,
				// cgroup v1 keys; inactive_file is this cgroup's alone.
				Stats: map[string]uint64{"total_inactive_file": inactive, "inactive_file": inactive / 2},
			},
		}
	}
	cgroupV2 := sample(100*mib, 30*mib, memTotal)
	cgroupV2.MemoryStats.Stats = map[string]uint64{"inactive_file": 30 * mib}
	ok := func(resp container.StatsResponse) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, resp) }
	}
	status := func(code int, msg string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			writeJSON(w, map[string]string{"message": msg})
		}
	}

	tests := []struct {
		name        string
		concurrency int
		stats       map[string]http.HandlerFunc // by container ID
		hang        bool                        // stats requests block until the test ends
		want        map[string]memory.Stats
		wantIs      error
		wantMsg     string
	}{
		{
			name: "reads a limited and an unlimited container on cgroup v1 and v2",
			stats: map[string]http.HandlerFunc{
				"a": ok(sample(100*mib, 30*mib, 64*mib)),
				"b": ok(cgroupV2),
			},
			want: map[string]memory.Stats{
				"a": {WorkingSet: 70 * mib, Usage: 100 * mib, Limit: 64 * mib},
				"b": {WorkingSet: 70 * mib, Usage: 100 * mib},
			},
		},
		{
			name: "takes a limit above the host's memory for no limit",
			stats: map[string]http.HandlerFunc{
				"a": ok(sample(100*mib, 30*mib, 2*memTotal)),
			},
			want: map[string]memory.Stats{
				"a": {WorkingSet: 70 * mib, Usage: 100 * mib},
			},
		},
		{
			name: "leaves out a container removed between the list and its stats",
			stats: map[string]http.HandlerFunc{
				"a":    ok(sample(100*mib, 30*mib, 64*mib)),
				"gone": status(http.StatusNotFound, "No such container: gone"),
			},
			want: map[string]memory.Stats{
				"a": {WorkingSet: 70 * mib, Usage: 100 * mib, Limit: 64 * mib},
			},
		},
		{
			name: "leaves out a container removed while its stats were being read (the daemon closes an empty body)",
			stats: map[string]http.HandlerFunc{
				"a":        ok(sample(100*mib, 30*mib, 64*mib)),
				"vanished": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) },
			},
			want: map[string]memory.Stats{
				"a": {WorkingSet: 70 * mib, Usage: 100 * mib, Limit: 64 * mib},
			},
		},
		{
			name: "fails when the daemon fails a container's stats",
			stats: map[string]http.HandlerFunc{
				"a":      ok(sample(100*mib, 30*mib, 64*mib)),
				"broken": status(http.StatusInternalServerError, "cgroup read failed"),
			},
			wantMsg: "1 of 2 containers failed, first: container broken: Error response from daemon: cgroup read failed",
		},
		{
			name: "fails on a stats answer that is not JSON",
			stats: map[string]http.HandlerFunc{
				"a": func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"read": `) },
			},
			wantMsg: "container a: decode stats: unexpected end of JSON input",
		},
		{
			name:        "gives up at the deadline when the daemon hangs, having kept its concurrency of requests in flight",
			concurrency: 3,
			stats: func() map[string]http.HandlerFunc {
				m := map[string]http.HandlerFunc{}
				for i := range 10 {
					m[fmt.Sprint("c", i)] = ok(sample(100*mib, 30*mib, 64*mib))
				}
				return m
			}(),
			hang:   true,
			wantIs: context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu       sync.Mutex
				inFlight int
				maxSeen  int
			)
			release := make(chan struct{})
			mux := http.NewServeMux()
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			// Registered after Close, so it runs first and Close does not
			// wait on hung handlers.
			t.Cleanup(func() { close(release) })

			mux.HandleFunc("GET /v1.41/info", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, system.Info{MemTotal: memTotal})
			})
			mux.HandleFunc("GET /v1.41/containers/json", func(w http.ResponseWriter, r *http.Request) {
				var list []container.Summary
				for id := range tt.stats {
					list = append(list, container.Summary{ID: id, State: container.StateRunning})
				}
				writeJSON(w, list)
			})
			mux.HandleFunc("GET /v1.41/containers/{id}/stats", func(w http.ResponseWriter, r *http.Request) {
				if q := r.URL.Query(); q.Get("stream") != "false" || q.Get("one-shot") != "true" {
					http.Error(w, "stand-in: want stream=false&one-shot=true, got "+r.URL.RawQuery, http.StatusBadRequest)
					return
				}
				h, found := tt.stats[r.PathValue("id")]
				if !found {
					http.NotFound(w, r)
					return
				}
				if tt.hang {
					mu.Lock()
					inFlight++
					maxSeen = max(maxSeen, inFlight)
					mu.Unlock()
					select {
					case <-release:
					case <-time.After(30 * time.Second):
					}
					mu.Lock()
					inFlight--
					mu.Unlock()
				}
				h(w, r)
			})

			cli, err := client.New(client.WithHost("tcp://"+srv.Listener.Addr().String()), client.WithAPIVersion("1.41"))
			if err != nil {
				t.Fatalf("docker client: %v", err)
			}
			t.Cleanup(func() { cli.Close() })
			concurrency := tt.concurrency
			if concurrency == 0 {
				concurrency = 4
			}
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			got, err := New(cli, concurrency).Read(ctx)

			switch {
			case tt.wantIs != nil || tt.wantMsg != "":
				if err == nil {
					t.Fatalf("Read succeeded with %v, want an error", got)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("Read error %q does not wrap %v", err, tt.wantIs)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("Read error %q does not contain %q", err, tt.wantMsg)
				}
			case err != nil:
				t.Fatalf("Read: %v", err)
			default:
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("Read = %v\nwant %v", got, tt.want)
				}
			}
			if tt.hang {
				mu.Lock()
				defer mu.Unlock()
				// Every request hangs, so the semaphore alone keeps the
				// count down, and all its slots fill before the deadline.
				if maxSeen != concurrency {
					t.Errorf("%d stats requests in flight at most, want %d", maxSeen, concurrency)
				}
			}
		})
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		panic(err)
	}
}

// runHolding starts the stand-in gateway holding hold MiB under the given
// memory limit (0 for none) and waits until it serves, which it does only
// once that memory is resident.
func runHolding(t *testing.T, cli *client.Client, image string, limit int64, hold int) string {
	t.Helper()
	id := testenv.Run(t, cli, client.ContainerCreateOptions{
		Config:     &container.Config{Image: image, Cmd: []string{"--fault", "hold:" + strconv.Itoa(hold)}},
		HostConfig: &container.HostConfig{Resources: container.Resources{Memory: limit}},
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	logs, err := cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStderr: true, Follow: true})
	if err != nil {
		t.Fatalf("container logs: %v", err)
	}
	defer logs.Close()
	// The stream is multiplexed (8-byte frame headers), but the message
	// stays whole inside its frame.
	sc := bufio.NewScanner(logs)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"msg":"serving"`) {
			return id
		}
	}
	t.Fatalf("the stand-in in container %.12s never served: %v", id, sc.Err())
	return ""
}

func removeContainer(t *testing.T, cli *client.Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Errorf("remove container %.12s: %v", id, err)
	}
}
