//go:build linux

package docker_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/testenv"
)

// TestDaemonRestart stops a Docker daemon under the running exporter, kills
// a container while the daemon is down, and starts the daemon again: the
// source goes down and back up, and the crash is reported after the resync.
//
// The daemon is a private one (testenv.StartDockerd) so that stopping it
// disturbs no other test, and it runs with --live-restore: without it, a
// stopping daemon stops its containers itself, and nothing could crash
// while it is down. Docker keeps no events across a restart, so this crash
// reaches the exporter through the resync's inspect alone, unlike the one
// in TestDisconnect, which arrives as a replayed die event.
func TestDaemonRestart(t *testing.T) {
	d := testenv.StartDockerd(t)
	cli := d.Client()
	testenv.Standin(t, cli)
	e := startExporter(t, exporterOptions{retention: time.Hour, host: d.Host})

	c := run(t, cli, spec{})
	e.wait(t, 20*time.Second, "running state", func(s []string) bool {
		return has(s, c.series(catalog.ContainerState, "1", "state", "running"))
	})
	r, err := cli.ContainerInspect(context.Background(), c.id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	pid := r.Container.State.Pid

	d.Stop()
	e.wait(t, 20*time.Second, "the docker source down", func(s []string) bool {
		return has(s, catalog.ExporterSourceUp+`{source="docker"} 0`)
	})
	// The container's first process is docker-init (--init); killing it
	// ends the container with 137, as docker kill would.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the container's init (pid %d) while the daemon is down: %v", pid, err)
	}
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still alive after SIGKILL", pid)
		}
	}
	if s := e.scrape(t); !has(s, c.series(catalog.ContainerState, "1", "state", "running")) {
		t.Fatalf("the exporter saw the crash while the daemon was down; the test proves nothing:\n%s", strings.Join(c.mine(s), "\n"))
	}

	d.Start()
	s := e.wait(t, 30*time.Second, "the docker source back up and the crash reported", func(s []string) bool {
		return has(s, catalog.ExporterSourceUp+`{source="docker"} 1`) &&
			has(s, c.series(catalog.ContainerState, "1", "state", "exited"))
	})
	for _, want := range []string{
		c.series(catalog.ContainerLastTerminationInfo, "1", "exit_code", "137", "reason", catalog.ReasonKilled),
		c.series(catalog.ContainerExitsTotal, "1", "reason", catalog.ReasonKilled),
	} {
		if !has(s, want) {
			t.Errorf("missing %s in:\n%s", want, strings.Join(c.mine(s), "\n"))
		}
	}
}
