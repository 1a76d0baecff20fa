package main

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// recorder stands in for the process-ending functions so a test can see
// which fault would have ended the process, and how.
type recorder struct {
	exitCode int
	signal   syscall.Signal
}

func newTestFaults(t *testing.T, mem memoryStats) (*faults, *recorder) {
	t.Helper()
	rec := &recorder{exitCode: -1}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	return &faults{
		stateDir: t.TempDir(),
		log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		die:      func(s syscall.Signal) { rec.signal = s },
		exit:     func(c int) { rec.exitCode = c },
		memory:   func() (memoryStats, error) { return mem, nil },
		stop:     stop,
	}, rec
}

func TestParseFault(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{name: "a leak takes a rate in MiB per second", in: "leak:50", want: "leak:50"},
		{name: "an allocation takes a fraction of the limit", in: "alloc:0.9", want: "alloc:0.9"},
		{name: "an exit takes a code", in: "exit:1", want: "exit:1"},
		{name: "a hold takes a size in MiB", in: "hold:24", want: "hold:24"},
		{name: "a hold needs a positive size", in: "hold:0", wantErr: "size > 0"},
		{name: "a signal is named with or without SIG", in: "signal:sigsegv", want: "signal:SEGV"},
		{name: "unhealthy takes no argument", in: "unhealthy", want: "unhealthy"},
		{name: "any fault can be delayed", in: "exit:1@2s", want: "exit:1@2s"},
		{name: "a delay must be a duration", in: "exit:1@soon", wantErr: "want a delay > 0"},
		{name: "a leak needs a positive rate", in: "leak:0", wantErr: "rate > 0"},
		{name: "an allocation above the limit is refused", in: "alloc:1.5", wantErr: "(0, 1]"},
		{name: "an exit code must fit in a byte", in: "exit:256", wantErr: "[0, 255]"},
		{name: "an unknown signal is refused", in: "signal:FOO", wantErr: "unknown signal"},
		{name: "an unknown fault lists the known ones", in: "explode", wantErr: "want leak:<MiB/s>"},
		{name: "unhealthy with an argument is refused", in: "unhealthy:1", wantErr: "takes no argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseFault(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseFault(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFault(%q): %v", tt.in, err)
			}
			if got := f.String(); got != tt.want {
				t.Errorf("parseFault(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHTTP(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path, body string
		wantStatus int
		wantBody   string
	}{
		{name: "health answers healthy", method: "GET", path: "/health", wantStatus: 200, wantBody: `{"status":"healthy"}`},
		{name: "predict averages each row", method: "POST", path: "/predict", body: `{"data":[[1,2,3,4],[10]]}`, wantStatus: 200, wantBody: `{"predictions":[2.5,10]}`},
		{name: "predict refuses malformed JSON", method: "POST", path: "/predict", body: `{"data":`, wantStatus: 400, wantBody: `"error":"body: `},
		{name: "predict refuses an empty row", method: "POST", path: "/predict", body: `{"data":[[]]}`, wantStatus: 400, wantBody: `data[0]: empty row`},
		{name: "predict refuses GET", method: "GET", path: "/predict", wantStatus: 405},
		{name: "the fault switch refuses an unknown fault", method: "POST", path: "/admin/fault?do=explode", wantStatus: 400, wantBody: `want leak`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fl, _ := newTestFaults(t, memoryStats{})
			srv := httptest.NewServer(newGateway(fl.log, fl).routes())
			defer srv.Close()
			status, body := do(t, tt.method, srv.URL+tt.path, tt.body)
			if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("%s %s = %d %q, want %d containing %q", tt.method, tt.path, status, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestMetricsCountRequestsByStatus(t *testing.T) {
	fl, _ := newTestFaults(t, memoryStats{})
	srv := httptest.NewServer(newGateway(fl.log, fl).routes())
	defer srv.Close()
	do(t, "POST", srv.URL+"/predict", `{"data":[[1]]}`)
	do(t, "POST", srv.URL+"/predict", `{"data":[[1]]}`)
	do(t, "POST", srv.URL+"/predict", `nope`)
	_, body := do(t, "GET", srv.URL+"/metrics", "")
	for _, want := range []string{
		`http_requests_total{handler="/predict",status="200"} 2`,
		`http_requests_total{handler="/predict",status="400"} 1`,
		`http_request_duration_seconds_count{handler="/predict"} 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestFaultSwitch(t *testing.T) {
	tests := []struct {
		name        string
		do          string
		wantExit    int
		wantSignal  syscall.Signal
		wantHealthy bool
	}{
		{name: "exit ends the process with the code asked for", do: "exit:1", wantExit: 1, wantHealthy: true},
		{name: "a segfault ends the process by SIGSEGV", do: "signal:SEGV", wantExit: -1, wantSignal: syscall.SIGSEGV, wantHealthy: true},
		{name: "a SIGTERM ends the process by SIGTERM", do: "signal:TERM", wantExit: -1, wantSignal: syscall.SIGTERM, wantHealthy: true},
		{name: "unhealthy turns /health to 503 and keeps running", do: "unhealthy", wantExit: -1, wantHealthy: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fl, rec := newTestFaults(t, memoryStats{})
			srv := httptest.NewServer(newGateway(fl.log, fl).routes())
			defer srv.Close()
			if status, body := do(t, "POST", srv.URL+"/admin/fault?do="+tt.do, ""); status != http.StatusAccepted {
				t.Fatalf("arming %s: %d %s", tt.do, status, body)
			}
			if rec.exitCode != tt.wantExit || rec.signal != tt.wantSignal {
				t.Errorf("process ended with code %d, signal %v; want code %d, signal %v", rec.exitCode, rec.signal, tt.wantExit, tt.wantSignal)
			}
			wantStatus := http.StatusOK
			if !tt.wantHealthy {
				wantStatus = http.StatusServiceUnavailable
			}
			if status, _ := do(t, "GET", srv.URL+"/health", ""); status != wantStatus {
				t.Errorf("/health = %d, want %d", status, wantStatus)
			}
		})
	}
}

func TestDelayedFaultHitsLater(t *testing.T) {
	fl, rec := newTestFaults(t, memoryStats{})
	exited := make(chan int, 1)
	fl.exit = func(c int) { exited <- c }
	start := time.Now()
	if err := fl.apply(fault{kind: faultExit, code: 1, after: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		if waited := time.Since(start); code != 1 || waited < 200*time.Millisecond {
			t.Errorf("exited with %d after %s, want 1 after at least 200ms", code, waited)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the delayed exit never came (recorded %d)", rec.exitCode)
	}
}

func TestStickyFaultHitsAgainAfterRestart(t *testing.T) {
	fl, _ := newTestFaults(t, memoryStats{})
	srv := httptest.NewServer(newGateway(fl.log, fl).routes())
	do(t, "POST", srv.URL+"/admin/fault?do=exit:3&sticky=true", "")
	srv.Close()

	// A new process over the same state dir, as after a container restart.
	restarted, rec := newTestFaults(t, memoryStats{})
	restarted.stateDir = fl.stateDir
	if err := restarted.replay(); err != nil {
		t.Fatal(err)
	}
	if rec.exitCode != 3 {
		t.Errorf("after restart the process exited with %d, want the sticky 3", rec.exitCode)
	}

	// A recreated container starts with an empty state dir: no fault.
	fresh, rec := newTestFaults(t, memoryStats{})
	if err := fresh.replay(); err != nil {
		t.Fatal(err)
	}
	if rec.exitCode != -1 {
		t.Errorf("a fresh state dir replayed a fault: exit %d", rec.exitCode)
	}
}

func TestAllocGrowsWorkingSetToTheRatio(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name     string
		mem      memoryStats
		ratio    float64
		wantHeld int
		wantErr  string
	}{
		{name: "it allocates the gap between the working set and the target", mem: memoryStats{limit: 100 * mib, workingSet: 10 * mib}, ratio: 0.9, wantHeld: 80 * mib},
		{name: "it allocates nothing when already above the target", mem: memoryStats{limit: 100 * mib, workingSet: 95 * mib}, ratio: 0.9},
		{name: "it refuses without a memory limit", mem: memoryStats{workingSet: 10 * mib}, ratio: 0.9, wantErr: "no memory limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fl, _ := newTestFaults(t, tt.mem)
			err := fl.apply(fault{kind: faultAlloc, ratio: tt.ratio})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("alloc error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// ratio*limit is not a whole number of MiB; allow the rounding.
			if got := fl.heldBytes(); got < tt.wantHeld-mib || got > tt.wantHeld+mib {
				t.Errorf("held %d bytes, want about %d", got, tt.wantHeld)
			}
		})
	}
}

func TestHoldKeepsThatMuchResident(t *testing.T) {
	fl, _ := newTestFaults(t, memoryStats{})
	if err := fl.apply(fault{kind: faultHold, mib: 3}); err != nil {
		t.Fatal(err)
	}
	if got := fl.heldBytes(); got != 3<<20 {
		t.Errorf("held %d bytes, want 3 MiB", got)
	}
}

func TestFaultFlagIsCheckedBeforeServing(t *testing.T) {
	err := run([]string{"serve", "--listen", "127.0.0.1:0", "--fault", "exit:1", "--fault", "explode"})
	if err == nil || !strings.Contains(err.Error(), `fault "explode"`) {
		t.Errorf("run with --fault explode = %v, want the fault refused", err)
	}
}

// TestLeakGrowsAtTheRate: a leak of 100 MiB/s holds 10 MiB more at every
// 100ms tick. The test waits for three ticks, however long a loaded
// machine takes, and checks the step each tick added: the rate is the
// step over the tick, not a count of ticks within a wall-clock window.
func TestLeakGrowsAtTheRate(t *testing.T) {
	fl, _ := newTestFaults(t, memoryStats{})
	if err := fl.apply(fault{kind: faultLeak, rate: 100}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); fl.heldBytes() < 30<<20; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the leak holds %d MiB after a minute, want 30", fl.heldBytes()>>20)
		}
	}
	fl.mu.Lock()
	defer fl.mu.Unlock()
	for i, b := range fl.held {
		if len(b) != 10<<20 {
			t.Errorf("tick %d held %d bytes, want 10 MiB (100 MiB/s over %s)", i+1, len(b), leakTick)
		}
	}
}

func TestCgroupMemory(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name string
		root string
		want memoryStats
	}{
		{name: "cgroup v1 subtracts total_inactive_file from usage", root: "testdata/cgroup-v1", want: memoryStats{limit: 256 * mib, workingSet: 96 * mib}},
		{name: "cgroup v1's maximum limit means no limit", root: "testdata/cgroup-v1-unlimited", want: memoryStats{workingSet: 100 * mib}},
		{name: "cgroup v2 subtracts inactive_file from memory.current", root: "testdata/cgroup-v2", want: memoryStats{limit: 512 * mib, workingSet: 190 * mib}},
		{name: "cgroup v2's max means no limit", root: "testdata/cgroup-v2-unlimited", want: memoryStats{workingSet: 1 * mib}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cgroupMemory(tt.root)()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("cgroupMemory(%s) = %+v, want %+v", tt.root, got, tt.want)
			}
		})
	}
	if _, err := cgroupMemory(t.TempDir())(); err == nil {
		t.Error("cgroupMemory on an empty directory did not fail")
	}
}

func TestHealthcheck(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		wantErr bool
	}{
		{name: "a 200 from /health passes", status: 200},
		{name: "a 503 from /health fails", status: 503, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/health" {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			err := healthcheck(strings.TrimPrefix(srv.URL, "http://"), time.Second)
			if (err != nil) != tt.wantErr {
				t.Errorf("healthcheck = %v, want error: %v", err, tt.wantErr)
			}
		})
	}
	t.Run("nothing listening fails", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		addr := strings.TrimPrefix(srv.URL, "http://")
		srv.Close()
		if err := healthcheck(addr, time.Second); err == nil {
			t.Error("healthcheck passed with nothing listening")
		}
	})
}

// TestDieIsARealSignalDeath runs this test binary as a child that calls die,
// and checks the kernel reports a death by that signal, which Docker turns
// into exit code 128+signal.
func TestDieIsARealSignalDeath(t *testing.T) {
	if sig := os.Getenv("STANDIN_TEST_DIE"); sig != "" {
		f, err := parseFault("signal:" + sig)
		if err != nil {
			os.Exit(2)
		}
		die(f.sig)
		return
	}
	for _, sig := range []string{"SEGV", "TERM", "ABRT"} {
		t.Run("dies by SIG"+sig, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestDieIsARealSignalDeath$")
			cmd.Env = append(os.Environ(), "STANDIN_TEST_DIE="+sig)
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("child did not die: %v", err)
			}
			ws := exit.Sys().(syscall.WaitStatus)
			want := signals[sig]
			if !ws.Signaled() || ws.Signal() != want {
				t.Errorf("child ended with %v (exit %d), want death by %v", ws, ws.ExitStatus(), want)
			}
		})
	}
}

func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestCurl(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		io.WriteString(w, "body")
	}))
	defer srv.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
	}{
		{name: "a 200 exits 0 and prints the body", args: []string{"-f", srv.URL + "/health"}, wantCode: 0, wantStdout: "body"},
		{name: "with -f a 503 exits 22 as curl does", args: []string{"-f", srv.URL + "/down"}, wantCode: 22},
		{name: "combined short flags count -f", args: []string{"-fsS", srv.URL + "/down"}, wantCode: 22},
		{name: "--fail counts as -f", args: []string{"--fail", srv.URL + "/down"}, wantCode: 22},
		{name: "without -f a 503 exits 0", args: []string{srv.URL + "/down"}, wantCode: 0, wantStdout: "body"},
		{name: "nothing listening exits 7", args: []string{"-f", gone.URL + "/health"}, wantCode: 7},
		{name: "an unsupported option exits 2", args: []string{"-X", "POST", srv.URL}, wantCode: 2},
		{name: "no URL exits 2", args: []string{"-f"}, wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			if code := curl(tt.args, &stdout, &stderr); code != tt.wantCode || stdout.String() != tt.wantStdout {
				t.Errorf("curl %v = %d, stdout %q (stderr %q); want %d, %q", tt.args, code, stdout.String(), stderr.String(), tt.wantCode, tt.wantStdout)
			}
		})
	}
	for argv0, want := range map[string]bool{"curl": true, "/usr/bin/curl": true, "/standin-gateway": false, "xcurl": false} {
		if got := invokedAsCurl(argv0); got != want {
			t.Errorf("invokedAsCurl(%q) = %v, want %v", argv0, got, want)
		}
	}
}

func TestErrorsFailThatShareOfPredictions(t *testing.T) {
	fl, _ := newTestFaults(t, memoryStats{})
	srv := httptest.NewServer(newGateway(fl.log, fl).routes())
	defer srv.Close()
	if status, body := do(t, "POST", srv.URL+"/admin/fault?do=errors:0.25", ""); status != http.StatusAccepted {
		t.Fatalf("arming errors:0.25: %d %s", status, body)
	}
	failed := 0
	for range 100 {
		if status, _ := do(t, "POST", srv.URL+"/predict", `{"data": [[1,2,3,4]]}`); status == http.StatusInternalServerError {
			failed++
		}
	}
	if failed != 25 {
		t.Errorf("%d of 100 predictions failed, want 25", failed)
	}
	if status, _ := do(t, "GET", srv.URL+"/health", ""); status != http.StatusOK {
		t.Errorf("/health = %d: errors must not touch the healthcheck", status)
	}
	if _, body := do(t, "GET", srv.URL+"/metrics", ""); !strings.Contains(body, `http_requests_total{handler="/predict",status="500"} 25`+"\n") {
		t.Errorf("http_requests_total does not count the 25 failures:\n%s", body)
	}
}
