package dockerstats

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"
)

// cgroupV2Stat is the memory.stat of a cgroup v2 container as Docker
// reports it in memory_stats.stats: every key, so a stats answer has the
// size a real engine's has.
var cgroupV2Stat = []string{
	"active_anon", "active_file", "anon", "anon_thp", "file", "file_dirty", "file_mapped",
	"file_writeback", "inactive_anon", "inactive_file", "kernel_stack", "pgactivate",
	"pgdeactivate", "pgfault", "pglazyfree", "pglazyfreed", "pgmajfault", "pgrefill", "pgscan",
	"pgsteal", "shmem", "slab", "slab_reclaimable", "slab_unreclaimable", "sock",
	"thp_collapse_alloc", "thp_fault_alloc", "unevictable", "workingset_activate",
	"workingset_nodereclaim", "workingset_refault",
}

// fakeEngine serves, on a unix socket like the real engine's, the three
// Engine API requests Source makes, for n running containers, with moby's
// own api types: system.Info, container.Summary and container.StatsResponse
// (each stats answer encoded once, up front, so that the benchmark times the
// exporter's side rather than the fake's encoding). It stands in for dockerd
// because a real engine cannot run 1,000 containers on this machine, and
// its stats answers would time the daemon's cgroup reads, not Source.
func fakeEngine(tb testing.TB, n int) *client.Client {
	tb.Helper()
	const memTotal = 64 << 30
	list := make([]container.Summary, n)
	stats := make(map[string][]byte, n)
	for i := range n {
		id := fmt.Sprintf("%064x", i+1)
		list[i] = container.Summary{ID: id, Names: []string{fmt.Sprintf("/svc-%d", i)}, Image: "registry.example/gateway/svc:1.0", State: container.StateRunning, Status: "Up 2 hours"}
		st := map[string]uint64{}
		for j, k := range cgroupV2Stat {
			st[k] = uint64(j+1) << 12
		}
		st["inactive_file"] = 30 << 20
		resp := container.StatsResponse{
			ID:   id,
			Name: list[i].Names[0],
			Read: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			CPUStats: container.CPUStats{
				CPUUsage:    container.CPUUsage{TotalUsage: 1e12, UsageInKernelmode: 4e11, UsageInUsermode: 6e11},
				SystemUsage: 1e15, OnlineCPUs: 2,
			},
			MemoryStats: container.MemoryStats{Usage: 300 << 20, Limit: 512 << 20, Stats: st},
			PidsStats:   container.PidsStats{Current: 12, Limit: 4096},
			BlkioStats: container.BlkioStats{IoServiceBytesRecursive: []container.BlkioStatEntry{
				{Major: 252, Minor: 0, Op: "read", Value: 1 << 20},
				{Major: 252, Minor: 0, Op: "write", Value: 2 << 20},
			}},
		}
		b, err := json.Marshal(resp)
		if err != nil {
			tb.Fatal(err)
		}
		stats[id] = b
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1.41/info", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, system.Info{MemTotal: memTotal})
	})
	mux.HandleFunc("GET /v1.41/containers/json", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, list)
	})
	mux.HandleFunc("GET /v1.41/containers/{id}/stats", func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Get("stream") != "false" || q.Get("one-shot") != "true" {
			http.Error(w, "fake engine: want stream=false&one-shot=true, got "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		b, ok := stats[r.PathValue("id")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})

	sock := filepath.Join(tb.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		tb.Fatalf("fake engine: %v", err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })

	cli, err := client.New(client.WithHost("unix://"+sock), client.WithAPIVersion("1.41"))
	if err != nil {
		tb.Fatalf("docker client: %v", err)
	}
	tb.Cleanup(func() { cli.Close() })
	return cli
}

// BenchmarkRead1000Containers reads the memory of 1,000 running containers
// from a fake engine, at gateway-exporter's default concurrency.
func BenchmarkRead1000Containers(b *testing.B) {
	cli := fakeEngine(b, 1000)
	s := New(cli, DefaultConcurrency)
	b.ReportAllocs()
	for b.Loop() {
		got, err := s.Read(b.Context())
		if err != nil || len(got) != 1000 {
			b.Fatalf("Read = %d containers, %v", len(got), err)
		}
	}
}

// TestReadFakeEngine checks the fake engine the benchmark runs on, so its
// figures are for reads that succeed with the right values.
func TestReadFakeEngine(t *testing.T) {
	got, err := New(fakeEngine(t, 3), DefaultConcurrency).Read(t.Context())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("Read = %d containers, want 3", len(got))
	}
	for id, st := range got {
		if st.Usage != 300<<20 || st.WorkingSet != 270<<20 || st.Limit != 512<<20 {
			t.Errorf("container %.12s: %+v, want usage 300 MiB, working set 270 MiB, limit 512 MiB", id, st)
		}
	}
}
