package cadvisor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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

// hangBound is how long a hung stand-in blocks at most. It only has to be
// far longer than the deadlines under test: a Read that ignored its deadline
// would get the stand-in's answer after it and fail the test, instead of
// blocking the test binary.
const hangBound = 30 * time.Second

// TestRead runs Source against standIn, a stand-in for cAdvisor built from
// cadvisor's own types and conversion functions (no real cAdvisor can run
// here; standin_test.go says why), and against handlers that fail the way a
// broken or hung cAdvisor would.
func TestRead(t *testing.T) {
	web := dockerContainer("web", 200<<20, 150<<20, 64<<20)
	db := dockerContainer("db", 1<<30, 700<<20, 512<<20)
	db.Name = "/system.slice/docker-" + id("db") + ".scope" // the systemd cgroup driver
	cache := dockerContainer("cache", 0x7FFFFFFFFFFFF000, 30<<20, 20<<20)
	worker := dockerContainer("worker", math.MaxUint64, 40<<20, 30<<20)
	batch := dockerContainer("batch", 1<<40, 10<<20, 8<<20)
	noMemoryController := dockerContainer("sidecar", 0, 5<<20, 4<<20)
	noMemoryController.Spec.HasMemory = false
	fresh := dockerContainer("fresh", 64<<20, 0, 0)
	fresh.Stats = nil
	podman := dockerContainer("pod", 64<<20, 10<<20, 8<<20)
	podman.Name, podman.Namespace = "/machine.slice/libpod-"+id("pod")+".scope", "podman"
	sshd := v1.ContainerInfo{ContainerReference: v1.ContainerReference{Name: "/system.slice/sshd.service"}, Spec: web.Spec, Stats: web.Stats}
	busy := dockerContainer("busy", 256<<20, 100<<20, 90<<20)
	busy.Stats = []*v1.ContainerStats{sample(time.Minute, 10<<20, 9<<20), sample(2*time.Minute, 50<<20, 45<<20), sample(3*time.Minute, 100<<20, 90<<20)}

	standInCase := func(cs ...v1.ContainerInfo) http.Handler { return &standIn{containers: cs} }
	tests := []struct {
		name    string
		prefix  string        // cAdvisor's --url_base_prefix
		timeout time.Duration // New's timeout
		ctxWait time.Duration // the caller's deadline; 0 for none
		handler http.Handler
		hang    bool // the handler blocks until the test ends
		want    map[string]memory.Stats
		wantIs  error  // err must wrap this
		wantMsg string // err must contain this
	}{
		{
			name:    "reads working set, usage and limit of each Docker container by full ID, whatever the cgroup driver",
			handler: standInCase(web, db),
			want: map[string]memory.Stats{
				id("web"): {WorkingSet: 64 << 20, Usage: 150 << 20, Limit: 200 << 20},
				id("db"):  {WorkingSet: 512 << 20, Usage: 700 << 20, Limit: 1 << 30},
			},
		},
		{
			name:    "finds cAdvisor below a URL prefix",
			prefix:  "/cadvisor",
			handler: http.StripPrefix("/cadvisor", standInCase(web)),
			want: map[string]memory.Stats{
				id("web"): {WorkingSet: 64 << 20, Usage: 150 << 20, Limit: 200 << 20},
			},
		},
		{
			name:    "publishes no limit where cAdvisor reports cgroup v1's or v2's unlimited, but keeps a real limit above machine memory",
			handler: standInCase(cache, worker, batch),
			want: map[string]memory.Stats{
				id("cache"):  {WorkingSet: 20 << 20, Usage: 30 << 20},
				id("worker"): {WorkingSet: 30 << 20, Usage: 40 << 20},
				id("batch"):  {WorkingSet: 8 << 20, Usage: 10 << 20, Limit: 1 << 40},
			},
		},
		{
			name:    "asks for the Docker namespace only, so other cgroups never reach it",
			handler: standInCase(web, sshd, podman),
			want: map[string]memory.Stats{
				id("web"): {WorkingSet: 64 << 20, Usage: 150 << 20, Limit: 200 << 20},
			},
		},
		{
			name:    "leaves out containers without a memory controller or without a sample yet",
			handler: standInCase(web, noMemoryController, fresh),
			want: map[string]memory.Stats{
				id("web"): {WorkingSet: 64 << 20, Usage: 150 << 20, Limit: 200 << 20},
			},
		},
		{
			name:    "takes the newest of several samples",
			handler: standInCase(busy),
			want: map[string]memory.Stats{
				id("busy"): {WorkingSet: 90 << 20, Usage: 100 << 20, Limit: 256 << 20},
			},
		},
		{
			name:    "returns no containers when cAdvisor knows none",
			handler: standInCase(),
			want:    map[string]memory.Stats{},
		},
		{
			name: "fails with cAdvisor's message when it answers 500",
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, `unknown container "/"`, http.StatusInternalServerError)
			}),
			wantMsg: `500 Internal Server Error: unknown container "/"`,
		},
		{
			name: "fails on malformed JSON",
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, `{"/docker/%s": {"spec": {"namespace": "docker"`, id("web"))
			}),
			wantMsg: "decode: unexpected end of JSON input",
		},
		{
			name: "fails on JSON that is not a map of containers",
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `[{"spec": {}}]`)
			}),
			wantMsg: `decode: json: cannot unmarshal array`,
		},
		{
			name: "fails on an HTML error page from a proxy in front of cAdvisor",
			handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
			}),
			wantMsg: `decode: invalid character '<' looking for beginning of value`,
		},
		{
			name:    "gives up at the caller's deadline when cAdvisor hangs",
			timeout: time.Hour,
			ctxWait: 200 * time.Millisecond,
			handler: standInCase(web),
			hang:    true,
			wantIs:  context.DeadlineExceeded,
		},
		{
			name:    "gives up after its own timeout when cAdvisor hangs and the caller set no deadline",
			timeout: 200 * time.Millisecond,
			handler: standInCase(web),
			hang:    true,
			wantIs:  context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.handler
			release := make(chan struct{})
			if tt.hang {
				h = hang(release, h)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			// Cleanups run last-in first-out: this one runs before Close,
			// which waits for handlers to return.
			t.Cleanup(func() { close(release) })

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

// TestReadAsksForTheNewestSampleOfDockerContainersOnly checks the query
// itself: cAdvisor's API has no field selection, so the only ways to ask for
// less are its options, and without count=1 it sends up to 64 samples per
// container.
func TestReadAsksForTheNewestSampleOfDockerContainersOnly(t *testing.T) {
	si := &standIn{containers: []v1.ContainerInfo{dockerContainer("web", 200<<20, 150<<20, 64<<20)}}
	srv := httptest.NewServer(si)
	t.Cleanup(srv.Close)
	s, err := New(srv.URL, time.Minute)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := s.Read(t.Context()); err != nil {
		t.Fatalf("Read: %v", err)
	}
	want := []v2.RequestOptions{{IdType: v2.TypeDocker, Count: 1, Recursive: true}}
	if got := si.requests(); !reflect.DeepEqual(got, want) {
		t.Errorf("cAdvisor got requests %+v, want %+v", got, want)
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

// fleet returns what a cAdvisor holds for n Docker containers, each sample
// carrying CPU, memory, disk I/O, network and filesystem stats as a real
// cAdvisor's does.
func fleet(n int) []v1.ContainerInfo {
	out := make([]v1.ContainerInfo, n)
	for i := range n {
		name := fmt.Sprintf("svc-%d", i)
		c := dockerContainer(name, 512<<20, 300<<20, 200<<20)
		c.Spec.HasCpu, c.Spec.HasNetwork, c.Spec.HasDiskIo, c.Spec.HasFilesystem, c.Spec.HasProcesses = true, true, true, true, true
		c.Spec.Cpu = v1.CpuSpec{Limit: 1024, MaxLimit: 2000, Mask: "0-7", Quota: 200000, Period: 100000}
		c.Spec.Labels = map[string]string{"com.docker.compose.project": "gateway", "com.docker.compose.service": name}
		c.Spec.Image = "registry.example/gateway/" + name + ":1.0"
		st := c.Stats[0]
		st.Cpu = v1.CpuStats{Usage: v1.CpuUsage{Total: 1e12, PerCpu: make([]uint64, 8), User: 6e11, System: 4e11}}
		st.DiskIo = v1.DiskIoStats{IoServiceBytes: []v1.PerDiskStats{{Device: "/dev/vda", Major: 252, Stats: map[string]uint64{"Read": 1 << 20, "Write": 2 << 20, "Sync": 1, "Async": 2, "Total": 3 << 20}}}}
		st.Network = v1.NetworkStats{InterfaceStats: v1.InterfaceStats{Name: "eth0", RxBytes: 1 << 30, TxBytes: 1 << 29, RxPackets: 1e6, TxPackets: 1e6}, Interfaces: []v1.InterfaceStats{{Name: "eth0", RxBytes: 1 << 30, TxBytes: 1 << 29, RxPackets: 1e6, TxPackets: 1e6}}}
		st.Filesystem = []v1.FsStats{{Device: "/dev/vda1", Type: "vfs", Limit: 1 << 36, Usage: 100 << 20, BaseUsage: 100 << 20, Inodes: 1000}}
		st.Processes = v1.ProcessStats{ProcessCount: 4, FdCount: 64, ThreadsCurrent: 12}
		out[i] = c
	}
	return out
}

// answer is the body cAdvisor sends Source for cs.
func answer(tb testing.TB, cs []v1.ContainerInfo) []byte {
	srv := httptest.NewServer(&standIn{containers: cs})
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v2.1/stats?type=docker&recursive=true&count=1")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("stand-in: %s %s %v", resp.Status, body, err)
	}
	return body
}

// BenchmarkDecode1000Containers measures decoding one cAdvisor answer for
// 1,000 Docker containers.
func BenchmarkDecode1000Containers(b *testing.B) {
	body := answer(b, fleet(1000))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := decode(body)
		if err != nil || len(got) != 1000 {
			b.Fatalf("decode = %d containers, %v", len(got), err)
		}
	}
}

// BenchmarkRead1000Containers measures a whole Read of 1,000 containers from
// a stand-in on the loopback that sends a prepared answer: request, transfer
// and decode.
func BenchmarkRead1000Containers(b *testing.B) {
	body := answer(b, fleet(1000))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer srv.Close()
	s, err := New(srv.URL, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := s.Read(b.Context())
		if err != nil || len(got) != 1000 {
			b.Fatalf("Read = %d containers, %v", len(got), err)
		}
	}
}

// id is a stable full container ID for a test container's name.
func id(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// t0 is when the test containers' samples start.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// dockerContainer is what cAdvisor holds for a Docker container with one
// sample: its Docker handler names it /docker/<id> (the cgroupfs driver),
// with the aliases [name, id] in the "docker" namespace.
func dockerContainer(name string, limit, usage, workingSet uint64) v1.ContainerInfo {
	return v1.ContainerInfo{
		ContainerReference: v1.ContainerReference{
			Id:        id(name),
			Name:      "/docker/" + id(name),
			Aliases:   []string{name, id(name)},
			Namespace: "docker",
		},
		Spec: v1.ContainerSpec{
			CreationTime: t0,
			HasMemory:    true,
			Memory:       v1.MemorySpec{Limit: limit},
		},
		Stats: []*v1.ContainerStats{sample(time.Minute, usage, workingSet)},
	}
}

// sample is a memory sample taken at t0+at.
func sample(at time.Duration, usage, workingSet uint64) *v1.ContainerStats {
	return &v1.ContainerStats{
		Timestamp: t0.Add(at),
		Memory: v1.MemoryStats{
			Usage:             usage,
			WorkingSet:        workingSet,
			TotalInactiveFile: usage - workingSet,
		},
	}
}

// hang blocks each request until release is closed (or hangBound passes),
// then lets next answer it.
func hang(release <-chan struct{}, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-time.After(hangBound):
		}
		next.ServeHTTP(w, r)
	})
}
