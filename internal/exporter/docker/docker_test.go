package docker_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/exporter/docker"
	"github.com/sre-tools/promgen/internal/testenv"
)

// TestTerminations runs the stand-in gateway under a real Docker engine and reads
// every outcome back from the exporter's scrape.
func TestTerminations(t *testing.T) {
	cli := testenv.RequireDocker(t)
	testenv.Standin(t, cli)
	e := startExporter(t, exporterOptions{retention: time.Hour})

	// Each case ends its container in one way and waits for the last
	// termination it must produce; exits_total must then count it once.
	for _, tc := range []struct {
		name   string
		spec   spec
		end    func(t *testing.T, c ctr)
		code   int
		reason string
	}{{
		name: "a container over its memory limit is oom_killed with exit code 137",
		spec: spec{faults: []string{"leak:1000"}, memory: 32 << 20},
		code: 137, reason: catalog.ReasonOOMKilled,
	}, {
		name: "docker stop ends a container with 143 terminated",
		spec: spec{},
		end: func(t *testing.T, c ctr) {
			e.wait(t, 20*time.Second, "running state", func(s []string) bool {
				return has(s, c.series(catalog.ContainerState, "1", "state", "running"))
			})
			timeout := 10
			if _, err := cli.ContainerStop(context.Background(), c.id, client.ContainerStopOptions{Timeout: &timeout}); err != nil {
				t.Fatalf("stop: %v", err)
			}
		},
		code: 143, reason: catalog.ReasonTerminated,
	}, {
		name: "SIGKILL without OOM ends a container with 137 killed",
		spec: spec{},
		end: func(t *testing.T, c ctr) {
			e.wait(t, 20*time.Second, "running state", func(s []string) bool {
				return has(s, c.series(catalog.ContainerState, "1", "state", "running"))
			})
			if _, err := cli.ContainerKill(context.Background(), c.id, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
				t.Fatalf("kill: %v", err)
			}
		},
		code: 137, reason: catalog.ReasonKilled,
	}, {
		name: "a segmentation fault ends a container with 139 segfault",
		spec: spec{faults: []string{"signal:SEGV"}},
		code: 139, reason: catalog.ReasonSegfault,
	}, {
		name: "exit 0 is completed",
		spec: spec{faults: []string{"exit:0"}},
		code: 0, reason: catalog.ReasonCompleted,
	}, {
		name: "exit 1 is an error",
		spec: spec{faults: []string{"exit:1"}},
		code: 1, reason: catalog.ReasonError,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := run(t, cli, tc.spec)
			if tc.end != nil {
				tc.end(t, c)
			}
			code := strconv.Itoa(tc.code)
			// The die event and the inspect that follows it land a moment
			// apart, and a 137 is counted only after cache.DefaultOOMGrace:
			// wait for all three.
			s := e.wait(t, 60*time.Second, "last termination "+code+" "+tc.reason+", its count and state exited", func(s []string) bool {
				return has(s, c.series(catalog.ContainerLastTerminationInfo, "1", "exit_code", code, "reason", tc.reason)) &&
					has(s, c.series(catalog.ContainerExitsTotal, "1", "reason", tc.reason)) &&
					has(s, c.series(catalog.ContainerState, "1", "state", "exited"))
			})
			for _, want := range []string{
				c.series(catalog.ContainerLastExitCode, code),
			} {
				if !has(s, want) {
					t.Errorf("missing %s in:\n%s", want, strings.Join(c.mine(s), "\n"))
				}
			}
			if n := len(testenv.Grep(c.mine(s), catalog.ContainerExitsTotal+"{", "} 0")); n != len(catalog.Reasons)-1 {
				t.Errorf("want exactly one exit counted, got %d reasons at 0:\n%s", n, strings.Join(c.mine(s), "\n"))
			}
		})
	}
}

// TestRecreateRightAfterKill kills a compose-labelled container, removes it
// and runs a new one under the same name within the OOM grace, as docker
// compose up --force-recreate does after a stop that timed out: the
// SIGKILL, held back for a late oom event unless an inspect saw it first,
// must still be counted once, on the series the new container continues.
// The test ends any grace itself, after the recreate, so the recreate
// always falls within it.
func TestRecreateRightAfterKill(t *testing.T) {
	cli := testenv.RequireDocker(t)
	testenv.Standin(t, cli)
	var graces graceTimers
	e := startExporter(t, exporterOptions{retention: time.Hour, afterFunc: graces.after})

	old := run(t, cli, spec{})
	e.wait(t, 60*time.Second, "running state", func(s []string) bool {
		return has(s, old.series(catalog.ContainerState, "1", "state", "running"))
	})
	ctx := context.Background()
	if _, err := cli.ContainerKill(ctx, old.id, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		t.Fatalf("kill: %v", err)
	}
	if _, err := cli.ContainerRemove(ctx, old.id, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatalf("remove: %v", err)
	}
	recreated := run(t, cli, spec{name: old.name})
	killed := old.series(catalog.ContainerLastTerminationInfo, "1", "exit_code", "137", "reason", catalog.ReasonKilled)
	e.wait(t, 60*time.Second, "the new container published and the kill as the last termination", func(s []string) bool {
		return len(testenv.Grep(s, catalog.ContainerInfo+"{", `id="`+recreated.id+`"`)) == 1 && has(s, killed)
	})
	// The kill is counted at once when an inspect of the dead container saw
	// it first (its OOMKilled flag settles the cause), else when its grace
	// ends; either way once, on the series the new container continues.
	graces.fire()
	e.wait(t, 60*time.Second, "the kill counted", func(s []string) bool {
		return has(s, old.series(catalog.ContainerExitsTotal, "1", "reason", catalog.ReasonKilled))
	})
	// Every grace has ended: nothing else may be counted.
	graces.fire()
	s := e.scrape(t)
	if n := len(testenv.Grep(old.mine(s), catalog.ContainerExitsTotal+"{", "} 0")); n != len(catalog.Reasons)-1 {
		t.Errorf("want exactly one exit counted, got %d reasons at 0:\n%s", n, strings.Join(old.mine(s), "\n"))
	}
	if !has(s, killed) {
		t.Errorf("the kill is not the last termination:\n%s", strings.Join(old.mine(s), "\n"))
	}
}

// TestRestartPolicy checks that under restart: on-failure:3 every exit is
// counted although Docker resets the exit code at each restart, and that
// the last termination stays published while the container restarts.
func TestRestartPolicy(t *testing.T) {
	cli := testenv.RequireDocker(t)
	testenv.Standin(t, cli)
	e := startExporter(t, exporterOptions{retention: time.Hour})

	c := run(t, cli, spec{faults: []string{"exit:1"}, restart: container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 3}})
	last := c.series(catalog.ContainerLastTerminationInfo, "1", "exit_code", "1", "reason", catalog.ReasonError)
	s := e.wait(t, 60*time.Second, "4 exits, restart count 3 and state exited", func(s []string) bool {
		counted := testenv.Grep(c.mine(s), catalog.ContainerExitsTotal+"{", `reason="error"`)
		if len(counted) == 1 && !strings.HasSuffix(counted[0], "} 0") && !has(s, last) {
			t.Errorf("an exit was counted but the last termination is not published:\n%s", strings.Join(c.mine(s), "\n"))
		}
		return has(s, c.series(catalog.ContainerExitsTotal, "4", "reason", catalog.ReasonError)) &&
			has(s, c.series(catalog.ContainerRestartsTotal, "3")) &&
			has(s, c.series(catalog.ContainerState, "1", "state", "exited"))
	})
	for _, want := range []string{last} {
		if !has(s, want) {
			t.Errorf("missing %s in:\n%s", want, strings.Join(c.mine(s), "\n"))
		}
	}
}

// TestHealthcheck checks that a healthcheck turning unhealthy is published.
func TestHealthcheck(t *testing.T) {
	cli := testenv.RequireDocker(t)
	testenv.Standin(t, cli)
	e := startExporter(t, exporterOptions{retention: time.Hour})

	c := run(t, cli, spec{faults: []string{"unhealthy@5s"}, health: healthcheck()})
	e.wait(t, 30*time.Second, "healthy status", func(s []string) bool {
		return has(s, c.series(catalog.ContainerHealthStatus, "1", "status", "healthy"))
	})
	s := e.wait(t, 30*time.Second, "unhealthy status", func(s []string) bool {
		return has(s, c.series(catalog.ContainerHealthStatus, "1", "status", "unhealthy"))
	})
	for _, want := range []string{
		c.series(catalog.ContainerHealthStatus, "0", "status", "healthy"),
		c.series(catalog.ContainerHealthStatus, "0", "status", "starting"),
		c.series(catalog.ContainerState, "1", "state", "running"),
	} {
		if !has(s, want) {
			t.Errorf("missing %s in:\n%s", want, strings.Join(c.mine(s), "\n"))
		}
	}
}

// TestMemory checks limit, working set and ratio of a container holding a
// known amount of memory, read from Docker's stats API.
func TestMemory(t *testing.T) {
	cli := testenv.RequireDocker(t)
	testenv.Standin(t, cli)
	e := startExporter(t, exporterOptions{retention: time.Hour, memory: true})

	const held, limit = 24 << 20, 64 << 20
	c := run(t, cli, spec{faults: []string{"hold:" + strconv.Itoa(held>>20)}, memory: limit})
	value := func(s []string, metric string) float64 {
		for _, l := range c.mine(s) {
			if strings.HasPrefix(l, metric+"{") {
				v, err := strconv.ParseFloat(l[strings.LastIndex(l, " ")+1:], 64)
				if err != nil {
					t.Fatalf("parse %q: %v", l, err)
				}
				return v
			}
		}
		return -1
	}
	s := e.wait(t, 30*time.Second, "working set above the memory held", func(s []string) bool {
		return value(s, catalog.ContainerMemoryWorkingSetBytes) >= held
	})
	if got := value(s, catalog.ContainerMemoryLimitBytes); got != limit {
		t.Errorf("limit = %v, want %v", got, limit)
	}
	ws, usage, ratio := value(s, catalog.ContainerMemoryWorkingSetBytes), value(s, catalog.ContainerMemoryUsageBytes), value(s, catalog.ContainerMemoryUsageRatio)
	if ws > limit || usage < ws {
		t.Errorf("working set %v, usage %v: want held %d <= working set <= usage and working set <= limit %d", ws, usage, held, limit)
	}
	if want := ws / limit; ratio != want || ratio < 0.375 || ratio > 1 {
		t.Errorf("ratio = %v, want working set / limit = %v, within [0.375, 1]", ratio, want)
	}
}

// TestRemovedContainer checks that a removed container's last termination
// stays published for the retention time, then goes. The retention is an
// hour of the cache's clock, which the test moves forward: no bound on
// how fast the engine reports the removal.
func TestRemovedContainer(t *testing.T) {
	cli := testenv.RequireDocker(t)
	testenv.Standin(t, cli)
	const retention = time.Hour
	var clk clock
	e := startExporter(t, exporterOptions{retention: retention, now: clk.now})

	c := run(t, cli, spec{faults: []string{"exit:3"}})
	last := c.series(catalog.ContainerLastTerminationInfo, "1", "exit_code", "3", "reason", catalog.ReasonError)
	e.wait(t, 60*time.Second, "last termination", func(s []string) bool { return has(s, last) })
	if _, err := cli.ContainerRemove(context.Background(), c.id, client.ContainerRemoveOptions{}); err != nil {
		t.Fatalf("remove: %v", err)
	}
	s := e.wait(t, 60*time.Second, "info gone after removal", func(s []string) bool {
		return len(testenv.Grep(c.mine(s), catalog.ContainerInfo+"{")) == 0
	})
	within := []string{last, c.series(catalog.ContainerExitsTotal, "1", "reason", catalog.ReasonError)}
	for _, want := range within {
		if !has(s, want) {
			t.Errorf("within retention, missing %s in:\n%s", want, strings.Join(c.mine(s), "\n"))
		}
	}
	// Ten minutes short of the retention after the removal (the clock
	// moves from the test's start, before it): still published.
	clk.add(retention - 10*time.Minute)
	s = e.scrape(t)
	for _, want := range within {
		if !has(s, want) {
			t.Errorf("ten minutes before the retention ends, missing %s in:\n%s", want, strings.Join(c.mine(s), "\n"))
		}
	}
	clk.add(20 * time.Minute)
	e.wait(t, 60*time.Second, "series gone after the retention", func(s []string) bool { return len(c.mine(s)) == 0 })
}

// TestDisconnect cuts the exporter off the engine, crashes containers while
// it is cut off, and checks that the resync reports them.
//
// The exporter's socket is relayed through a proxy the test can cut and
// restore, while the engine and its containers carry on: the engine keeps
// its events, so the crashes come back as die and destroy events replayed
// with since=, and a container both crashed and removed meanwhile is still
// reported. TestDaemonRestart covers the other way back, a daemon restart,
// after which no event survives and the inspect alone reports the crash.
func TestDisconnect(t *testing.T) {
	cli := testenv.RequireDocker(t)
	testenv.Standin(t, cli)
	target := strings.TrimPrefix(cli.DaemonHost(), "unix://")
	if strings.Contains(target, "://") {
		t.Fatalf("the disconnect test relays a unix socket; DOCKER_HOST is %s", cli.DaemonHost())
	}
	p := newProxy(t, target)
	e := startExporter(t, exporterOptions{retention: time.Hour, host: p.host()})

	killed := run(t, cli, spec{})
	removed := run(t, cli, spec{})
	for _, c := range []ctr{killed, removed} {
		e.wait(t, 20*time.Second, c.name+" running", func(s []string) bool {
			return has(s, c.series(catalog.ContainerState, "1", "state", "running"))
		})
	}

	p.cut()
	e.wait(t, 20*time.Second, "the docker source down", func(s []string) bool {
		return has(s, catalog.ExporterSourceUp+`{source="docker"} 0`)
	})
	ctx := context.Background()
	if _, err := cli.ContainerKill(ctx, killed.id, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		t.Fatalf("kill: %v", err)
	}
	if _, err := cli.ContainerRemove(ctx, removed.id, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if s := e.scrape(t); !has(s, killed.series(catalog.ContainerState, "1", "state", "running")) {
		t.Fatalf("the exporter saw the crash while cut off; the test proves nothing:\n%s", strings.Join(killed.mine(s), "\n"))
	}

	p.restore(t)
	s := e.wait(t, 30*time.Second, "the docker source back up", func(s []string) bool {
		return has(s, catalog.ExporterSourceUp+`{source="docker"} 1`)
	})
	// A 137 is counted only after cache.DefaultOOMGrace: wait for both.
	s = e.wait(t, 10*time.Second, "the crashes replayed", func(s []string) bool {
		return has(s, killed.series(catalog.ContainerExitsTotal, "1", "reason", catalog.ReasonKilled)) &&
			has(s, removed.series(catalog.ContainerExitsTotal, "1", "reason", catalog.ReasonKilled)) &&
			has(s, killed.series(catalog.ContainerState, "1", "state", "exited"))
	})
	for _, want := range []string{
		killed.series(catalog.ContainerLastTerminationInfo, "1", "exit_code", "137", "reason", catalog.ReasonKilled),
		removed.series(catalog.ContainerLastTerminationInfo, "1", "exit_code", "137", "reason", catalog.ReasonKilled),
	} {
		if !has(s, want) {
			t.Errorf("missing %s in:\n%s", want, strings.Join(append(killed.mine(s), removed.mine(s)...), "\n"))
		}
	}
	if n := len(testenv.Grep(removed.mine(s), catalog.ContainerInfo+"{")); n != 0 {
		t.Errorf("the container removed while cut off is still published as live")
	}
	if len(testenv.Grep(s, catalog.ExporterSourceErrorsTotal+`{source="docker"} 0`)) != 0 {
		t.Errorf("the disconnection was not counted as a source error")
	}
}

// TestPromtoolCheckMetrics runs promtool check metrics on a full scrape with
// every kind of series present.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := testenv.Promtool(t)
	cli := testenv.RequireDocker(t)
	testenv.Standin(t, cli)
	e := startExporter(t, exporterOptions{retention: time.Hour, memory: true})

	c := run(t, cli, spec{faults: []string{"hold:8"}, memory: 64 << 20, health: healthcheck()})
	d := run(t, cli, spec{faults: []string{"exit:2"}})
	e.wait(t, 30*time.Second, "memory, health and a termination", func(s []string) bool {
		return len(testenv.Grep(c.mine(s), catalog.ContainerMemoryUsageRatio)) == 1 &&
			has(s, c.series(catalog.ContainerHealthStatus, "1", "status", "healthy")) &&
			len(testenv.Grep(d.mine(s), catalog.ContainerLastTerminationInfo)) == 1
	})
	resp, err := http.Get(e.url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = resp.Body
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

// stallEngine is the real engine with inspects that can be held: a
// handler stuck on a slow engine while the event stream carries on.
type stallEngine struct {
	*client.Client
	mu   sync.Mutex
	hold chan struct{} // nil: inspects go through
}

func (e *stallEngine) ContainerInspect(ctx context.Context, id string, opts client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	e.mu.Lock()
	hold := e.hold
	e.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return client.ContainerInspectResult{}, ctx.Err()
		}
	}
	return e.Client.ContainerInspect(ctx, id, opts)
}

// TestRenameFloodWhileStalled holds the exporter's inspects while a
// container is renamed far more times than the event queue holds, another
// one is killed and a third one started: events are dropped and counted,
// and once the inspects go through again the exporter resyncs until it
// publishes the last name only, the kill counted once, and the container
// whose events it dropped.
func TestRenameFloodWhileStalled(t *testing.T) {
	const queue, renames = 16, 100
	cli := testenv.RequireDocker(t)
	testenv.Standin(t, cli)
	stall := &stallEngine{}
	e := startExporter(t, exporterOptions{retention: time.Hour, eventQueue: queue, requestTimeout: 5 * time.Minute,
		engine: func(c *client.Client) docker.Engine { stall.Client = c; return stall }})

	renamed, victim := run(t, cli, spec{}), run(t, cli, spec{})
	for _, c := range []ctr{renamed, victim} {
		e.wait(t, 20*time.Second, c.name+" running", func(s []string) bool {
			return has(s, c.series(catalog.ContainerState, "1", "state", "running"))
		})
	}

	release := make(chan struct{})
	stall.mu.Lock()
	stall.hold = release
	stall.mu.Unlock()
	ctx := context.Background()
	name := renamed.name
	for i := 1; i <= renames; i++ {
		name = fmt.Sprintf("%s-r%d", renamed.name, i)
		if _, err := cli.ContainerRename(ctx, renamed.id, client.ContainerRenameOptions{NewName: name}); err != nil {
			t.Fatalf("rename %d: %v", i, err)
		}
	}
	if _, err := cli.ContainerKill(ctx, victim.id, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		t.Fatalf("kill: %v", err)
	}
	late := run(t, cli, spec{})
	e.wait(t, 30*time.Second, "an event dropped", func(s []string) bool {
		return len(testenv.Grep(s, catalog.ExporterEventsDroppedTotal+"{} 0")) == 0
	})
	stall.mu.Lock()
	stall.hold = nil
	stall.mu.Unlock()
	close(release)

	// Every series of the container carries its name; its info alone its ID.
	info := func(s []string) []string { return testenv.Grep(s, `id="`+renamed.id+`"`) }
	s := e.wait(t, 60*time.Second, "the last name, the kill and the late container", func(s []string) bool {
		return len(info(s)) == 1 && strings.Contains(info(s)[0], `name="`+name+`"`) &&
			has(s, victim.series(catalog.ContainerExitsTotal, "1", "reason", catalog.ReasonKilled)) &&
			has(s, late.series(catalog.ContainerState, "1", "state", "running")) &&
			has(s, catalog.ExporterSourceUp+`{source="docker"} 1`)
	})
	if got := testenv.Grep(s, renamed.name+`-r`); len(testenv.Grep(got, `name="`+name+`"`)) != len(got) {
		t.Errorf("series under a name the container no longer has:\n%s", strings.Join(got, "\n"))
	}
	if len(testenv.Grep(s, catalog.ExporterSourceErrorsTotal+`{source="docker"} 0`)) == 0 {
		t.Errorf("a full queue was counted as a source error")
	}
}
