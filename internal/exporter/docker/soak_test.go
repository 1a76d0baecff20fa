package docker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/exporter/cache"
	"github.com/sre-tools/promgen/internal/testenv"
)

var soakCycles = flag.Int("soak.cycles", 300, "containers TestChurnSoak creates, ends and removes (make soak runs 1000)")

// soakEnds are the ways a soak container ends, taken in turn: each of the
// runbook's reasons, and a kill, whose container the next generation
// replaces while its exit still waits out the OOM grace.
var soakEnds = []struct {
	fault  string // the stand-in's --fault; empty: serve until killed
	reason string
}{
	{"exit:0", catalog.ReasonCompleted},
	{"exit:3", catalog.ReasonError},
	{"signal:SEGV", catalog.ReasonSegfault},
	{"signal:TERM", catalog.ReasonTerminated},
	{"", catalog.ReasonKilled},
}

// soakGenerations is how many containers run under each name, one after
// the other, each replacing the last as docker compose up --force-recreate
// does.
const soakGenerations = 10

// TestChurnSoak creates, ends and removes containers on the real engine,
// a bounded number at a time, while a scraper reads /metrics every 5ms:
// every exit must be counted exactly once, on the series its name carries
// across recreations; no scrape may hold a series twice; each cycle
// overlaps at least one scrape; and once every exit is counted and every
// OOM grace has ended, nothing moves. That the cache keeps one entry per
// name, so memory does not grow with the number of containers, is
// TestChurnKeepsOneEntryPerName's (internal/exporter/cache), without a
// threshold on a heap figure; the heap and RSS figures are logged here
// for docs/exporter.md.
func TestChurnSoak(t *testing.T) {
	cli := testenv.RequireDocker(t)
	testenv.Standin(t, cli)
	var graces pendingGraces
	e := startExporter(t, exporterOptions{retention: time.Hour, afterFunc: graces.after})
	cycles := *soakCycles
	names := max(cycles/soakGenerations, 1)
	suffix := make([]byte, 3)
	rand.Read(suffix)
	prefix := "promgen-soak-" + hex.EncodeToString(suffix) + "-"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("name", prefix)})
		if err != nil {
			t.Errorf("list the soak's containers: %v", err)
			return
		}
		for _, c := range list.Items {
			cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
		}
	})

	var scrapes, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var scraper sync.WaitGroup
	scraper.Go(func() {
		// A scrape every few milliseconds: as often as a scrape can land
		// between two events, without taking the engine's CPU.
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if err := soakScrape(e.url); err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
			scrapes.Add(1)
		}
	})
	defer func() { close(stop); scraper.Wait() }()

	runtime.GC()
	goroutines := runtime.NumGoroutine()
	var heap [3]uint64 // after GC: at the start, halfway, at the end
	heap[0] = heapAfterGC()
	start := time.Now()

	// Each worker owns whole names, so a name's generations run in order.
	const workers = 8
	var done atomic.Int64
	var halfway sync.Once
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for n := w; n < names; n += workers {
				prev := ""
				for g := range soakGenerations {
					i := n*soakGenerations + g
					if i >= cycles {
						break
					}
					before := scrapes.Load()
					id, err := soakCycle(cli, prefix+strconv.Itoa(n), prev, soakEnds[i%len(soakEnds)].fault)
					if err != nil {
						errs <- fmt.Errorf("cycle %d: %w", i, err)
						return
					}
					// A scrape must land while the cycle's events are
					// being applied: wait for one to finish, however
					// loaded the machine.
					if !waitFor(time.Minute, func() bool { return scrapes.Load() > before }) {
						errs <- fmt.Errorf("cycle %d: no scrape finished within a minute of it", i)
						return
					}
					prev = id
					if done.Add(1) == int64(cycles/2) {
						halfway.Do(func() { heap[1] = heapAfterGC() })
					}
				}
				if _, err := cli.ContainerRemove(context.Background(), prev, client.ContainerRemoveOptions{}); err != nil {
					errs <- fmt.Errorf("remove the last of %s: %w", prefix+strconv.Itoa(n), err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	churned := time.Since(start)

	// What each name must show: one exit per generation, by its reason.
	want := map[string]map[string]int{}
	for i := range cycles {
		name := prefix + strconv.Itoa(i/soakGenerations)
		if want[name] == nil {
			want[name] = map[string]int{}
		}
		want[name][soakEnds[i%len(soakEnds)].reason]++
	}
	// mismatches lists the exit counts a scrape gets wrong.
	mismatches := func(s []string) []string {
		var out []string
		for name, reasons := range want {
			c := ctr{name: name}
			for _, r := range catalog.Reasons {
				if line := c.series(catalog.ContainerExitsTotal, strconv.Itoa(reasons[r]), "reason", r); !has(s, line) {
					out = append(out, "want "+line+", got "+strings.Join(testenv.Grep(c.mine(s), catalog.ContainerExitsTotal+"{", `reason="`+r+`"`), " "))
				}
			}
		}
		slices.Sort(out)
		return out
	}
	var s []string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		s = e.scrape(t)
		if len(mismatches(s)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("exits not counted exactly once a minute after the churn:\n%s", strings.Join(mismatches(s), "\n"))
		}
	}
	// A held kill is counted when its OOM grace ends: once every grace
	// has ended, no count may have moved on.
	if !waitFor(time.Minute, func() bool { return graces.pending.Load() == 0 }) {
		t.Fatalf("%d OOM graces still running a minute after every exit was counted", graces.pending.Load())
	}
	s = e.scrape(t)
	if m := mismatches(s); len(m) > 0 {
		t.Errorf("exit counts moved after every exit was counted:\n%s", strings.Join(m, "\n"))
	}
	if live := testenv.Grep(s, catalog.ContainerInfo+"{", prefix); len(live) != 0 {
		t.Errorf("removed containers still published as live:\n%s", strings.Join(live, "\n"))
	}
	if !has(s, catalog.ExporterIdentityCollisionsTotal+"{} 0") {
		t.Errorf("identity collisions: %s", testenv.Grep(s, catalog.ExporterIdentityCollisionsTotal))
	}

	close(stop)
	scraper.Wait()
	stop = make(chan struct{})
	if failed.Load() > 0 {
		t.Errorf("%d of %d scrapes failed, first: %v", failed.Load(), scrapes.Load(), firstErr.Load())
	}

	heap[2] = heapAfterGC()
	rss := procStatus("VmHWM")
	t.Logf("%d cycles (%d names x %d generations, %d workers) in %s; %d scrapes, none with a duplicate series; heap after GC %.1f MiB at the start, %.1f halfway, %.1f at the end; peak RSS of the test process %s; goroutines %d at the start, %d at the end",
		cycles, names, soakGenerations, workers, churned.Round(time.Second), scrapes.Load(),
		mib(heap[0]), mib(heap[1]), mib(heap[2]), rss, goroutines, runtime.NumGoroutine())
}

// pendingGraces runs the cache's OOM graces on the wall clock, as
// time.AfterFunc does, and counts those not ended yet, so the soak can
// wait for the last one instead of sleeping past DefaultOOMGrace.
type pendingGraces struct{ pending atomic.Int64 }

func (g *pendingGraces) after(d time.Duration, f func()) {
	g.pending.Add(1)
	time.AfterFunc(d, func() {
		defer g.pending.Add(-1)
		f()
	})
}

// waitFor polls ok until it holds, reporting false if it still does not
// after timeout.
func waitFor(timeout time.Duration, ok func() bool) bool {
	for deadline := time.Now().Add(timeout); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// soakCycle runs one generation of a name as docker compose up
// --force-recreate replaces a container: the new one is created under a
// temporary name, the previous one (prev, already ended; empty for the
// first) removed, the new one renamed and started. It then ends as fault
// says (no fault: it is killed) and stays, ended, for the next generation
// to replace. It returns the new container's ID.
func soakCycle(cli *client.Client, name, prev, fault string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var cmd []string
	if fault != "" {
		cmd = []string{"--fault", fault}
	}
	init := true
	tmp := name + "-next"
	res, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: tmp,
		Config: &container.Config{Image: testenv.StandinImage, Cmd: cmd, Labels: map[string]string{
			testenv.Label: "1", cache.LabelComposeProject: project, cache.LabelComposeService: name}},
		HostConfig: &container.HostConfig{Init: &init, NetworkMode: "none"},
	})
	if err != nil {
		return "", fmt.Errorf("create %s: %w", tmp, err)
	}
	if prev != "" {
		if _, err := cli.ContainerRemove(ctx, prev, client.ContainerRemoveOptions{}); err != nil {
			return "", fmt.Errorf("remove the previous %s: %w", name, err)
		}
	}
	if _, err := cli.ContainerRename(ctx, res.ID, client.ContainerRenameOptions{NewName: name}); err != nil {
		return "", fmt.Errorf("rename %s to %s: %w", tmp, name, err)
	}
	if _, err := cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
		return "", fmt.Errorf("start %s: %w", name, err)
	}
	if fault == "" {
		if _, err := cli.ContainerKill(ctx, res.ID, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
			return "", fmt.Errorf("kill %s: %w", name, err)
		}
	}
	w := cli.ContainerWait(ctx, res.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case <-w.Result:
	case err := <-w.Error:
		return "", fmt.Errorf("wait for %s: %w", name, err)
	}
	return res.ID, nil
}

// soakScrape reads one scrape and checks it parses with no series twice.
func soakScrape(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("scrape: %s", resp.Status)
	}
	_, err = testenv.ParseScrape(resp.Body)
	return err
}

func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// procStatus reads one field of /proc/self/status, such as VmHWM, the
// process' peak resident set.
func procStatus(field string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
