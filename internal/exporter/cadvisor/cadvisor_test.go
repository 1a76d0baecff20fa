package cadvisor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/cadvisor/info/v1"
	v2 "github.com/google/cadvisor/info/v2"

	"github.com/sre-tools/promgen/internal/exporter/memory"
)

// statsPath is where cAdvisor serves its v2.1 stats, below any URL prefix.
const statsPath = "/api/v2.1/stats"

// hangBound is how long a hung stand-in blocks at most. It only has to be
// far longer than the deadlines under test: a Read that ignored its deadline
// would get the stand-in's answer after it and fail the test, instead of
// blocking the test binary.
const hangBound = 30 * time.Second

// TestRead runs Source against a stand-in for cAdvisor: no real cAdvisor can
// run here (its command is not served by the module proxy), so an httptest
// server answers on cAdvisor's v2.1 stats path with cadvisor's own info/v2
// types (v2.ContainerInfo, v2.ContainerSpec, v2.ContainerStats), marshalled
// as cAdvisor marshals them, and rejects any query cAdvisor would not read as
// "every Docker container, newest sample".
func TestRead(t *testing.T) {
	web := dockerContainer("web", 200<<20, 150<<20, 64<<20)
	db := dockerContainer("db", 1<<30, 700<<20, 512<<20)
	cache := dockerContainer("cache", 0x7FFFFFFFFFFFF000, 30<<20, 20<<20)
	worker := dockerContainer("worker", math.MaxUint64, 40<<20, 30<<20)
	batch := dockerContainer("batch", 1<<40, 10<<20, 8<<20)
	noMemoryController := dockerContainer("sidecar", 0, 5<<20, 4<<20)
	noMemoryController.Spec.HasMemory = false
	fresh := dockerContainer("fresh", 64<<20, 0, 0)
	fresh.Stats = nil
	noMemorySample := dockerContainer("nomem", 64<<20, 0, 0)
	noMemorySample.Stats[0].Memory = nil
	podman := dockerContainer("pod", 64<<20, 10<<20, 8<<20)
	podman.Spec.Namespace = "podman"

	tests := []struct {
		name    string
		prefix  string        // cAdvisor's --url_base_prefix
		timeout time.Duration // New's timeout
		ctxWait time.Duration // the caller's deadline; 0 for none
		handler http.HandlerFunc
		hang    bool // the handler blocks until the test ends
		want    map[string]memory.Stats
		wantIs  error  // err must wrap this
		wantMsg string // err must contain this
	}{
		{
			name: "reads working set, usage and limit of each Docker container by full ID, whatever the cgroup driver",
			handler: serve(map[string]v2.ContainerInfo{
				"/docker/" + id("web"):                        web,
				"/system.slice/docker-" + id("db") + ".scope": db,
			}),
			want: map[string]memory.Stats{
				id("web"): {WorkingSet: 64 << 20, Usage: 150 << 20, Limit: 200 << 20},
				id("db"):  {WorkingSet: 512 << 20, Usage: 700 << 20, Limit: 1 << 30},
			},
		},
		{
			name:   "finds cAdvisor below a URL prefix",
			prefix: "/cadvisor",
			handler: serve(map[string]v2.ContainerInfo{
				"/docker/" + id("web"): web,
			}),
			want: map[string]memory.Stats{
				id("web"): {WorkingSet: 64 << 20, Usage: 150 << 20, Limit: 200 << 20},
			},
		},
		{
			name: "publishes no limit where cAdvisor reports cgroup v1's or v2's unlimited or has no memory controller, but keeps a real limit above machine memory",
			handler: serve(map[string]v2.ContainerInfo{
				"/docker/" + id("cache"):   cache,
				"/docker/" + id("worker"):  worker,
				"/docker/" + id("batch"):   batch,
				"/docker/" + id("sidecar"): noMemoryController,
			}),
			want: map[string]memory.Stats{
				id("cache"):   {WorkingSet: 20 << 20, Usage: 30 << 20},
				id("worker"):  {WorkingSet: 30 << 20, Usage: 40 << 20},
				id("batch"):   {WorkingSet: 8 << 20, Usage: 10 << 20, Limit: 1 << 40},
				id("sidecar"): {WorkingSet: 4 << 20, Usage: 5 << 20},
			},
		},
		{
			name: "leaves out cgroups that are not Docker containers",
			handler: serve(map[string]v2.ContainerInfo{
				"/docker/" + id("web"):                          web,
				"/system.slice/sshd.service":                    {Spec: v2.ContainerSpec{HasMemory: true}, Stats: web.Stats},
				"/machine.slice/libpod-" + id("pod") + ".scope": podman,
			}),
			want: map[string]memory.Stats{
				id("web"): {WorkingSet: 64 << 20, Usage: 150 << 20, Limit: 200 << 20},
			},
		},
		{
			name: "leaves out containers cAdvisor has no memory sample for yet",
			handler: serve(map[string]v2.ContainerInfo{
				"/docker/" + id("web"):   web,
				"/docker/" + id("fresh"): fresh,
				"/docker/" + id("nomem"): noMemorySample,
			}),
			want: map[string]memory.Stats{
				id("web"): {WorkingSet: 64 << 20, Usage: 150 << 20, Limit: 200 << 20},
			},
		},
		{
			name:    "returns no containers when cAdvisor knows none",
			handler: serve(map[string]v2.ContainerInfo{}),
			want:    map[string]memory.Stats{},
		},
		{
			name: "fails with cAdvisor's message when it answers 500",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, `unknown container "/"`, http.StatusInternalServerError)
			},
			wantMsg: `500 Internal Server Error: unknown container "/"`,
		},
		{
			name: "fails on malformed JSON",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"/docker/%s": {"spec": {"namespace": "docker"`, id("web"))
			},
			wantMsg: "decode: unexpected EOF",
		},
		{
			name: "fails on JSON that is not a map of containers",
			handler: func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `[{"spec": {}}]`)
			},
			wantMsg: "decode: json: cannot unmarshal array",
		},
		{
			name:    "gives up at the caller's deadline when cAdvisor hangs",
			timeout: time.Hour,
			ctxWait: 200 * time.Millisecond,
			handler: serve(map[string]v2.ContainerInfo{"/docker/" + id("web"): web}),
			hang:    true,
			wantIs:  context.DeadlineExceeded,
		},
		{
			name:    "gives up after its own timeout when cAdvisor hangs and the caller set no deadline",
			timeout: 200 * time.Millisecond,
			handler: serve(map[string]v2.ContainerInfo{"/docker/" + id("web"): web}),
			hang:    true,
			wantIs:  context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mux := http.NewServeMux()
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			h := tt.handler
			if tt.hang {
				h = hang(t, h)
			}
			mux.Handle("GET "+tt.prefix+statsPath, h)

			timeout := tt.timeout
			if timeout == 0 {
				timeout = time.Minute
			}
			s, err := New(srv.URL+tt.prefix, timeout)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			ctx := context.Background()
			if tt.ctxWait > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxWait)
				defer cancel()
			}
			got, err := s.Read(ctx)

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
			case !reflect.DeepEqual(got, tt.want):
				t.Errorf("Read = %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestNewRejectsBadConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		timeout time.Duration
		wantMsg string
	}{
		{name: "a URL without a scheme is rejected", url: "cadvisor:8080", timeout: time.Second, wantMsg: "want http(s)://"},
		{name: "a URL without a host is rejected", url: "http:///api", timeout: time.Second, wantMsg: "want http(s)://"},
		{name: "a URL that does not parse is rejected", url: "http://[::1", timeout: time.Second, wantMsg: "missing ']'"},
		{name: "a zero timeout is rejected", url: "http://cadvisor:8080", timeout: 0, wantMsg: "must be > 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.url, tt.timeout)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("New(%q, %s) error = %v, want one containing %q", tt.url, tt.timeout, err, tt.wantMsg)
			}
		})
	}
}

// BenchmarkDecode1000Containers measures decoding one cAdvisor answer for
// 1,000 Docker containers, each sample carrying CPU, memory, disk I/O,
// network and filesystem stats as a real cAdvisor's does.
func BenchmarkDecode1000Containers(b *testing.B) {
	infos := make(map[string]v2.ContainerInfo, 1000)
	for i := range 1000 {
		name := fmt.Sprintf("svc-%d", i)
		c := dockerContainer(name, 512<<20, 300<<20, 200<<20)
		st := c.Stats[0]
		st.Cpu = &v1.CpuStats{Usage: v1.CpuUsage{Total: 1e12, PerCpu: make([]uint64, 8), User: 6e11, System: 4e11}}
		st.CpuInst = &v2.CpuInstStats{Usage: v2.CpuInstUsage{Total: 1e8, PerCpu: make([]uint64, 8)}}
		st.DiskIo = &v1.DiskIoStats{IoServiceBytes: []v1.PerDiskStats{{Device: "/dev/vda", Major: 252, Stats: map[string]uint64{"Read": 1 << 20, "Write": 2 << 20, "Sync": 1, "Async": 2, "Total": 3 << 20}}}}
		st.Network = &v2.NetworkStats{Interfaces: []v1.InterfaceStats{{Name: "eth0", RxBytes: 1 << 30, TxBytes: 1 << 29, RxPackets: 1e6, TxPackets: 1e6}}}
		usage := uint64(100 << 20)
		st.Filesystem = &v2.FilesystemStats{TotalUsageBytes: &usage, BaseUsageBytes: &usage}
		st.Processes = &v1.ProcessStats{ProcessCount: 4, FdCount: 64, ThreadsCurrent: 12}
		c.Spec.Labels = map[string]string{"com.docker.compose.project": "gateway", "com.docker.compose.service": name}
		c.Spec.Image = "registry.example/gateway/" + name + ":1.0"
		infos["/docker/"+id(name)] = c
	}
	body, err := json.Marshal(infos)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := decode(bytes.NewReader(body))
		if err != nil || len(got) != 1000 {
			b.Fatalf("decode = %d containers, %v", len(got), err)
		}
	}
}

// id is a stable full container ID for a test container's name.
func id(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// dockerContainer is what cAdvisor's v2.1 stats answer holds for a Docker
// container with one sample: the aliases [name, id] and the "docker"
// namespace come from cAdvisor's Docker handler.
func dockerContainer(name string, limit, usage, workingSet uint64) v2.ContainerInfo {
	return v2.ContainerInfo{
		Spec: v2.ContainerSpec{
			CreationTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Aliases:      []string{name, id(name)},
			Namespace:    "docker",
			HasMemory:    true,
			Memory:       v2.MemorySpec{Limit: limit},
		},
		Stats: []*v2.ContainerStats{{
			Timestamp: time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC),
			Memory: &v1.MemoryStats{
				Usage:             usage,
				WorkingSet:        workingSet,
				TotalInactiveFile: usage - workingSet,
			},
		}},
	}
}

// serve answers the stats request cAdvisor's v2.1 API gets for every Docker
// container's newest sample with infos, and anything else with 400.
func serve(infos map[string]v2.ContainerInfo) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("type") != v2.TypeDocker || q.Get("recursive") != "true" || q.Get("count") != "1" {
			http.Error(w, "stand-in: unexpected query "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(infos); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}
}

// hang blocks each request until the test ends (or hangBound passes), then
// lets next answer it.
func hang(t *testing.T, next http.HandlerFunc) http.HandlerFunc {
	release := make(chan struct{})
	// Cleanups run last-in first-out: registered after the server's Close,
	// which waits for handlers to return, this one runs before it.
	t.Cleanup(func() { close(release) })
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(hangBound):
		}
		next(w, r)
	}
}
