package cache

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/exporter/memory"
	"github.com/sre-tools/promgen/internal/testenv"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func running(id, name string) Container {
	return Container{ID: id, Name: name, Image: "gw:1", State: "running", StartedAt: at(0),
		Labels: map[string]string{LabelComposeProject: "stack", LabelComposeService: name, "team": "infra"}}
}

func die(id string, sec, code int) Event {
	return Event{ID: id, Action: "die", Time: at(sec), Attributes: map[string]string{"exitCode": strconv.Itoa(code)}}
}

func ev(id, action string, sec int) Event { return Event{ID: id, Action: action, Time: at(sec)} }

// exits formats the exits_total lines of the "web" container after the
// given exits.
func exits(reasons ...string) []string {
	var out []string
	for _, r := range []string{"completed", "error", "killed", "oom_killed", "segfault", "terminated"} {
		n := 0
		for _, x := range reasons {
			if x == r {
				n++
			}
		}
		out = append(out, series(catalog.ContainerExitsTotal, strconv.Itoa(n), "reason", r))
	}
	return out
}

// scrape scrapes the cache through its Handler, as Prometheus does, and
// keeps the lines of the named metrics. It scrapes twice, each scrape
// checked for duplicate series, and returns the second: the exporter's own
// metrics are gathered before the container series, so a collision the
// first scrape's rendering counts shows in the second.
func scrape(t *testing.T, c *Cache, names ...string) []string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	var lines []string
	for range 2 {
		w := httptest.NewRecorder()
		c.Handler(reg, slog.New(slog.DiscardHandler)).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if w.Code != http.StatusOK {
			t.Fatalf("scrape: %d %s", w.Code, w.Body)
		}
		lines = testenv.Parse(t, w.Body)
	}
	var out []string
	for _, l := range lines {
		name, _, _ := strings.Cut(l, "{")
		if slices.Contains(names, name) {
			out = append(out, l)
		}
	}
	return out
}

// series formats one expected line of the "web" container as testenv.Lines
// does: labels sorted by name.
func series(name, value string, kv ...string) string {
	oneoff := catalog.OneoffFalse
	var labels []string
	for i := 0; i < len(kv); i += 2 {
		if kv[i] == catalog.LabelComposeOneoff {
			oneoff = kv[i+1]
			continue
		}
		labels = append(labels, kv[i]+"="+strconv.Quote(kv[i+1]))
	}
	labels = append(labels, `compose_oneoff="`+oneoff+`"`, `compose_project="stack"`, `compose_service="web"`, `name="web"`)
	slices.Sort(labels)
	return name + "{" + strings.Join(labels, ",") + "} " + value
}

// graceTimers stands for time.AfterFunc in Options.AfterFunc: it keeps
// what the cache schedules until fire runs it, so a test ends an OOM grace
// at the point it chooses, on any machine load.
type graceTimers struct {
	mu sync.Mutex
	fs []func()
}

func (g *graceTimers) after(_ time.Duration, f func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fs = append(g.fs, f)
}

// fire runs every timer scheduled so far, outside the cache's lock as
// time.AfterFunc would, and returns how many ran.
func (g *graceTimers) fire() int {
	g.mu.Lock()
	fs := g.fs
	g.fs = nil
	g.mu.Unlock()
	for _, f := range fs {
		f()
	}
	return len(fs)
}

func TestCache(t *testing.T) {
	for _, tc := range []struct {
		name  string
		grace time.Duration // Options.OOMGrace
		// graceEnds ends every OOM grace the steps started, after them:
		// the timers are the test's, so a grace ends when it says, never
		// by the wall clock.
		graceEnds bool
		steps     func(c *Cache, now *time.Time)
		names     []string
		want      []string
	}{{
		name: "an oom event before the die makes the termination oom_killed with exit code 137",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(ev("a", "oom", 10))
			c.Apply(die("a", 11, 137))
		},
		names: []string{catalog.ContainerLastTerminationInfo, catalog.ContainerLastExitCode, catalog.ContainerLastTerminationTimestamp},
		want: []string{
			series("docker_container_last_exit_code", "137"),
			series("docker_container_last_termination_info", "1", "exit_code", "137", "reason", "oom_killed"),
			series("docker_container_last_termination_timestamp_seconds", "1.767323056e+09"),
		},
	}, {
		name:  "an oom event arriving just after its die still makes the exit oom_killed, counted once",
		grace: time.Hour,
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 137))
			c.Apply(Event{ID: "a", Action: "oom", Time: at(10).Add(2 * time.Millisecond)})
		},
		names: []string{catalog.ContainerExitsTotal, catalog.ContainerLastTerminationInfo},
		want: append(exits("oom_killed"),
			series(catalog.ContainerLastTerminationInfo, "1", "exit_code", "137", "reason", "oom_killed")),
	}, {
		name:      "a late oom event counts its exit once as oom_killed, and the grace ending after it counts nothing more",
		grace:     10 * time.Millisecond,
		graceEnds: true,
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 137))
			c.Apply(Event{ID: "a", Action: "oom", Time: at(10).Add(2 * time.Millisecond)})
		},
		names: []string{catalog.ContainerExitsTotal, catalog.ContainerLastTerminationInfo},
		want: append(exits("oom_killed"),
			series(catalog.ContainerLastTerminationInfo, "1", "exit_code", "137", "reason", "oom_killed")),
	}, {
		name:      "a late oom event for a kill held across a recreate counts it once on the new container, and the grace ending after it counts nothing more",
		grace:     10 * time.Millisecond,
		graceEnds: true,
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 137))
			c.Apply(ev("a", "destroy", 11))
			c.Upsert(running("b", "web"))
			c.Apply(Event{ID: "a", Action: "oom", Time: at(10).Add(2 * time.Millisecond)})
		},
		names: []string{catalog.ContainerExitsTotal},
		want:  exits("oom_killed"),
	}, {
		name:      "an inspect showing OOMKilled counts a held die once, and the grace ending after it counts nothing more",
		grace:     10 * time.Millisecond,
		graceEnds: true,
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 137))
			x := running("a", "web")
			x.State, x.ExitCode, x.OOMKilled, x.FinishedAt = "exited", 137, true, at(10).Add(-time.Millisecond)
			c.Upsert(x)
		},
		names: []string{catalog.ContainerExitsTotal},
		want:  exits("oom_killed"),
	}, {
		name:      "an oom event long after a held SIGKILL belongs to the next exit, not to the SIGKILL",
		grace:     10 * time.Millisecond,
		graceEnds: true,
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 137))
			c.Apply(ev("a", "oom", 30))
			c.Apply(die("a", 31, 137))
		},
		names: []string{catalog.ContainerExitsTotal, catalog.ContainerLastTerminationInfo},
		want: append(exits("killed", "oom_killed"),
			series(catalog.ContainerLastTerminationInfo, "1", "exit_code", "137", "reason", "oom_killed")),
	}, {
		name:  "an inspect showing OOMKilled settles a die held back for a late oom event",
		grace: time.Hour,
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 137))
			x := running("a", "web")
			x.State, x.ExitCode, x.OOMKilled, x.FinishedAt = "exited", 137, true, at(10).Add(-time.Millisecond)
			c.Upsert(x)
		},
		names: []string{catalog.ContainerExitsTotal},
		want:  exits("oom_killed"),
	}, {
		name:  "a die held back for a late oom event is still published as the last termination",
		grace: time.Hour,
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 137))
		},
		names: []string{catalog.ContainerExitsTotal, catalog.ContainerLastTerminationInfo},
		want: append(exits(),
			series(catalog.ContainerLastTerminationInfo, "1", "exit_code", "137", "reason", "killed")),
	}, {
		name:      "a die held back is counted as killed once the grace has passed without an oom event",
		grace:     10 * time.Millisecond,
		graceEnds: true,
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 137))
		},
		names: []string{catalog.ContainerExitsTotal},
		want:  exits("killed"),
	}, {
		name: "a SIGKILL without oom event is killed, and an oom from an earlier run does not leak past a start",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(ev("a", "oom", 1))
			c.Apply(ev("a", "start", 2))
			c.Apply(die("a", 3, 137))
		},
		names: []string{catalog.ContainerExitsTotal},
		want: []string{
			series("docker_container_exits_total", "0", "reason", "completed"),
			series("docker_container_exits_total", "0", "reason", "error"),
			series("docker_container_exits_total", "1", "reason", "killed"),
			series("docker_container_exits_total", "0", "reason", "oom_killed"),
			series("docker_container_exits_total", "0", "reason", "segfault"),
			series("docker_container_exits_total", "0", "reason", "terminated"),
		},
	}, {
		name: "events replayed by a resync are not counted twice",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			for range 3 {
				c.Apply(die("a", 5, 1))
				c.Apply(ev("a", "start", 6))
			}
		},
		names: []string{catalog.ContainerExitsTotal, catalog.ExporterEventsTotal},
		want: []string{
			series("docker_container_exits_total", "0", "reason", "completed"),
			series("docker_container_exits_total", "1", "reason", "error"),
			series("docker_container_exits_total", "0", "reason", "killed"),
			series("docker_container_exits_total", "0", "reason", "oom_killed"),
			series("docker_container_exits_total", "0", "reason", "segfault"),
			series("docker_container_exits_total", "0", "reason", "terminated"),
			`gateway_exporter_events_total{action="die"} 1`,
			`gateway_exporter_events_total{action="start"} 1`,
		},
	}, {
		name: "a replay is still recognised after a busy engine made the cache trim the events it remembers",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 600, 1))
			for i := range 10000 {
				c.Apply(Event{ID: "a", Action: "exec_die", Time: at(i / 10)})
			}
			c.Apply(die("a", 600, 1))
		},
		names: []string{catalog.ContainerExitsTotal},
		want:  exits("error"),
	}, {
		name: "an older die arriving late is counted but does not replace the newer last termination",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 20, 139))
			c.Apply(die("a", 10, 143))
		},
		names: []string{catalog.ContainerLastTerminationInfo},
		want:  []string{series("docker_container_last_termination_info", "1", "exit_code", "139", "reason", "segfault")},
	}, {
		name: "an exited container found by a listing sets the last termination without counting it",
		steps: func(c *Cache, _ *time.Time) {
			x := running("a", "web")
			x.State, x.ExitCode, x.FinishedAt = "exited", 0, at(3)
			c.Sync([]Container{x}, at(4))
		},
		names: []string{catalog.ContainerLastTerminationInfo, catalog.ContainerState},
		want: []string{
			series("docker_container_last_termination_info", "1", "exit_code", "0", "reason", "completed"),
			series("docker_container_state", "0", "state", "created"),
			series("docker_container_state", "0", "state", "dead"),
			series("docker_container_state", "1", "state", "exited"),
			series("docker_container_state", "0", "state", "paused"),
			series("docker_container_state", "0", "state", "removing"),
			series("docker_container_state", "0", "state", "restarting"),
			series("docker_container_state", "0", "state", "running"),
		},
	}, {
		name: "an exit only an inspect shows, as after a daemon restart, is counted if the container was known",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			x := running("a", "web")
			x.State, x.ExitCode, x.FinishedAt = "exited", 139, at(10)
			c.Sync([]Container{x}, at(20))
			c.Sync([]Container{x}, at(30))
		},
		names: []string{catalog.ContainerExitsTotal},
		want:  exits("segfault"),
	}, {
		name: "an exit only an inspect shows is counted if the container was known, once even when its die is replayed",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			x := running("a", "web")
			x.State, x.ExitCode, x.FinishedAt = "exited", 137, at(10)
			c.Upsert(x)
			c.Apply(Event{ID: "a", Action: "die", Time: at(10).Add(3 * time.Millisecond), Attributes: map[string]string{"exitCode": "137"}})
			c.Upsert(x)
		},
		names: []string{catalog.ContainerExitsTotal},
		want:  exits("killed"),
	}, {
		name: "an exit of a container first seen exited is counted only when its die event is replayed",
		steps: func(c *Cache, _ *time.Time) {
			x := running("a", "web")
			x.State, x.ExitCode, x.FinishedAt = "exited", 1, at(10)
			c.Sync([]Container{x}, at(20))
			c.Apply(Event{ID: "a", Action: "die", Time: at(10).Add(3 * time.Millisecond), Attributes: map[string]string{"exitCode": "1"}})
		},
		names: []string{catalog.ContainerExitsTotal},
		want:  exits("error"),
	}, {
		name: "dies a moment apart in a restart loop are each counted",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(Event{ID: "a", Action: "die", Time: at(10), Attributes: map[string]string{"exitCode": "1"}})
			c.Apply(Event{ID: "a", Action: "die", Time: at(10).Add(300 * time.Millisecond), Attributes: map[string]string{"exitCode": "1"}})
		},
		names: []string{catalog.ContainerExitsTotal},
		want:  exits("error", "error"),
	}, {
		name: "a health_status event sets the health status",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(ev("a", "health_status: unhealthy", 5))
		},
		names: []string{catalog.ContainerHealthStatus},
		want: []string{
			series("docker_container_health_status", "0", "status", "healthy"),
			series("docker_container_health_status", "0", "status", "starting"),
			series("docker_container_health_status", "1", "status", "unhealthy"),
		},
	}, {
		name: "a stopped container publishes no health status, whatever Docker last said",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(ev("a", "health_status: unhealthy", 5))
			stopped := running("a", "web")
			stopped.State, stopped.Health, stopped.ExitCode, stopped.FinishedAt = "exited", "unhealthy", 137, at(6)
			c.Upsert(stopped)
		},
		names: []string{catalog.ContainerHealthStatus},
		want:  nil,
	}, {
		name: "a removed container keeps only its exits and last termination until the retention ends",
		steps: func(c *Cache, now *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 1))
			c.Apply(ev("a", "destroy", 11))
			*now = at(11).Add(time.Hour - time.Second)
		},
		names: []string{catalog.ContainerLastExitCode, catalog.ContainerInfo, catalog.ContainerState, catalog.ContainerRestartsTotal},
		want:  []string{series("docker_container_last_exit_code", "1")},
	}, {
		name: "a removed container is gone once the retention has passed",
		steps: func(c *Cache, now *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 1))
			c.Apply(ev("a", "destroy", 11))
			*now = at(11).Add(time.Hour)
		},
		names: []string{catalog.ContainerLastExitCode, catalog.ContainerExitsTotal},
		want:  nil,
	}, {
		name: "a container missing from a resync listing is treated as removed at the listing",
		steps: func(c *Cache, now *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 2))
			c.Sync(nil, at(20))
			*now = at(20).Add(time.Hour - time.Second)
		},
		names: []string{catalog.ContainerLastExitCode, catalog.ContainerInfo},
		want:  []string{series("docker_container_last_exit_code", "2")},
	}, {
		name: "a container recreated under the same name continues the removed one's exits and last termination",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 137))
			c.Apply(ev("a", "destroy", 11))
			c.Upsert(running("b", "web"))
		},
		names: []string{catalog.ContainerLastTerminationInfo, catalog.ContainerInfo},
		want: []string{
			series("docker_container_info", "1", "id", "b", "image", "gw:1", "label_team", "infra"),
			series("docker_container_last_termination_info", "1", "exit_code", "137", "reason", "killed"),
		},
	}, {
		name:      "a SIGKILL held for a late oom is counted as killed although the container was recreated within the grace",
		grace:     50 * time.Millisecond,
		graceEnds: true,
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 137))
			c.Apply(ev("a", "destroy", 11))
			c.Upsert(running("b", "web"))
		},
		names: []string{catalog.ContainerExitsTotal, catalog.ContainerLastTerminationInfo},
		want: append(exits("killed"),
			series(catalog.ContainerLastTerminationInfo, "1", "exit_code", "137", "reason", "killed")),
	}, {
		name:  "a late oom for a SIGKILL held when the container was recreated makes it oom_killed on the new container, and only that exit",
		grace: time.Hour,
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 137))
			c.Apply(ev("a", "destroy", 11))
			c.Upsert(running("b", "web"))
			c.Apply(Event{ID: "a", Action: "oom", Time: at(10).Add(2 * time.Millisecond)})
			c.Apply(die("b", 20, 1))
		},
		names: []string{catalog.ContainerExitsTotal, catalog.ContainerInfo, catalog.ExporterIdentityCollisionsTotal},
		want: append(exits("error", "oom_killed"),
			series(catalog.ContainerInfo, "1", "id", "b", "image", "gw:1", "label_team", "infra"),
			catalog.ExporterIdentityCollisionsTotal+"{} 0"),
	}, {
		name: "a die replayed late for a container destroyed and recreated is counted on the new one, with no second live container until its destroy",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Sync([]Container{running("b", "web")}, at(20))
			c.Apply(Event{ID: "a", Action: "die", Time: at(10), Attributes: map[string]string{
				"exitCode": "1", "name": "web", "image": "gw:1", LabelComposeProject: "stack", LabelComposeService: "web"}})
		},
		names: []string{catalog.ContainerExitsTotal, catalog.ContainerInfo, catalog.ExporterIdentityCollisionsTotal},
		want: append(exits("error"),
			series(catalog.ContainerInfo, "1", "id", "b", "image", "gw:1", "label_team", "infra"),
			catalog.ExporterIdentityCollisionsTotal+"{} 0"),
	}, {
		name: "a late die of a container already succeeded leaves its successor's pending oom to the successor's own die",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(ev("a", "destroy", 11))
			c.Upsert(running("b", "web"))
			c.Apply(ev("b", "oom", 30))
			c.Apply(die("a", 10, 1))
			c.Apply(die("b", 31, 137))
		},
		names: []string{catalog.ContainerExitsTotal},
		want:  exits("error", "oom_killed"),
	}, {
		name: "a container known only from its events (created under a temporary name, renamed, ended, removed) is published under its new name",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(ev("a", "destroy", 1))
			labels := func(name string) map[string]string {
				return map[string]string{"name": name, "image": "gw:1", LabelComposeProject: "stack", LabelComposeService: "web"}
			}
			c.Apply(Event{ID: "b", Action: "create", Time: at(2), Attributes: labels("a_web")})
			c.Apply(Event{ID: "b", Action: "rename", Time: at(3), Attributes: labels("web")})
			x := die("b", 4, 1)
			x.Attributes = labels("web")
			x.Attributes["exitCode"] = "1"
			c.Apply(x)
			c.Remove("b", at(5))
		},
		names: []string{catalog.ContainerExitsTotal, catalog.ContainerLastExitCode},
		want:  append(exits("error"), series(catalog.ContainerLastExitCode, "1")),
	}, {
		name: "a container found gone before its rename event is read still takes its new name, and continues the series of the one it replaced",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 1, 139))
			c.Apply(ev("a", "destroy", 2))
			labels := func(name string) map[string]string {
				return map[string]string{"name": name, "image": "gw:1", LabelComposeProject: "stack", LabelComposeService: "web"}
			}
			c.Apply(Event{ID: "b", Action: "create", Time: at(3), Attributes: labels("a_web")})
			c.Remove("b", at(3)) // the inspect after create: no such container
			c.Apply(Event{ID: "b", Action: "rename", Time: at(4), Attributes: labels("web")})
			x := die("b", 5, 1)
			x.Attributes = labels("web")
			x.Attributes["exitCode"] = "1"
			c.Apply(x)
		},
		names: []string{catalog.ContainerExitsTotal, catalog.ContainerLastExitCode, catalog.ExporterIdentityCollisionsTotal},
		want:  append(exits("error", "segfault"), series(catalog.ContainerLastExitCode, "1"), catalog.ExporterIdentityCollisionsTotal+"{} 0"),
	}, {
		name: "a stale inspect of a container destroyed and recreated does not bring it back beside the new one",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(ev("a", "destroy", 11))
			c.Upsert(running("b", "web"))
			c.Upsert(running("a", "web"))
		},
		names: []string{catalog.ContainerInfo, catalog.ExporterIdentityCollisionsTotal},
		want: []string{
			series(catalog.ContainerInfo, "1", "id", "b", "image", "gw:1", "label_team", "infra"),
			catalog.ExporterIdentityCollisionsTotal + "{} 0",
		},
	}, {
		name: "two live containers seen with one identity, as a listing taken during a rename can show them, are published once and counted as a collision",
		steps: func(c *Cache, _ *time.Time) {
			old := running("a", "web")
			old.StartedAt = at(1)
			c.Sync([]Container{old, running("b", "web")}, at(20))
		},
		names: []string{catalog.ContainerInfo, catalog.ExporterIdentityCollisionsTotal},
		want: []string{
			series(catalog.ContainerInfo, "1", "id", "a", "image", "gw:1", "label_team", "infra"),
			catalog.ExporterIdentityCollisionsTotal + "{} 1",
		},
	}, {
		name: "a container recreated under the same name while disconnected takes over at the resync",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.Apply(die("a", 10, 139))
			c.Sync([]Container{running("b", "web")}, at(20))
		},
		names: []string{catalog.ContainerLastTerminationInfo, catalog.ContainerInfo},
		want: []string{
			series("docker_container_info", "1", "id", "b", "image", "gw:1", "label_team", "infra"),
			series("docker_container_last_termination_info", "1", "exit_code", "139", "reason", "segfault"),
		},
	}, {
		name: "a die of a container never listed is recorded from the event's attributes",
		steps: func(c *Cache, _ *time.Time) {
			c.Apply(Event{ID: "z", Action: "die", Time: at(1), Attributes: map[string]string{
				"exitCode": "143", "name": "web", "image": "gw:1", LabelComposeProject: "stack", LabelComposeService: "web"}})
		},
		names: []string{catalog.ContainerLastTerminationInfo},
		want:  []string{series("docker_container_last_termination_info", "1", "exit_code", "143", "reason", "terminated")},
	}, {
		name: "a compose one-off is published with compose_oneoff true, whatever the case of compose's label, and its die from the event's attributes too",
		steps: func(c *Cache, _ *time.Time) {
			x := running("a", "web")
			x.Labels[LabelComposeOneoff] = "True"
			c.Upsert(x)
			c.Apply(Event{ID: "z", Action: "die", Time: at(1), Attributes: map[string]string{
				"exitCode": "1", "name": "web-run-1", "image": "gw:1", LabelComposeProject: "stack", LabelComposeService: "web", LabelComposeOneoff: "true"}})
			y := running("b", "api")
			y.Labels[LabelComposeOneoff] = "False"
			c.Upsert(y)
		},
		names: []string{catalog.ContainerInfo, catalog.ContainerLastTerminationInfo},
		want: []string{
			`docker_container_info{compose_oneoff="false",compose_project="stack",compose_service="api",id="b",image="gw:1",label_team="infra",name="api"} 1`,
			series(catalog.ContainerInfo, "1", "id", "a", "image", "gw:1", "label_team", "infra", "compose_oneoff", "true"),
			`docker_container_info{compose_oneoff="true",compose_project="stack",compose_service="web",id="z",image="gw:1",label_team="",name="web-run-1"} 1`,
			`docker_container_last_termination_info{compose_oneoff="true",compose_project="stack",compose_service="web",exit_code="1",name="web-run-1",reason="error"} 1`,
		},
	}, {
		name: "memory with a limit publishes the ratio of working set to limit",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.SetMemory(map[string]memory.Stats{"a": {WorkingSet: 25, Usage: 40, Limit: 100}})
		},
		names: []string{catalog.ContainerMemoryWorkingSetBytes, catalog.ContainerMemoryUsageBytes, catalog.ContainerMemoryLimitBytes, catalog.ContainerMemoryUsageRatio},
		want: []string{
			series("docker_container_memory_limit_bytes", "100"),
			series("docker_container_memory_usage_bytes", "40"),
			series("docker_container_memory_usage_ratio", "0.25"),
			series("docker_container_memory_working_set_bytes", "25"),
		},
	}, {
		name: "memory without a limit publishes neither limit nor ratio",
		steps: func(c *Cache, _ *time.Time) {
			c.Upsert(running("a", "web"))
			c.SetMemory(map[string]memory.Stats{"a": {WorkingSet: 25, Usage: 40}})
		},
		names: []string{catalog.ContainerMemoryLimitBytes, catalog.ContainerMemoryUsageRatio, catalog.ContainerMemoryWorkingSetBytes},
		want:  []string{series("docker_container_memory_working_set_bytes", "25")},
	}, {
		name: "an OOM-killed container still publishes the limit it died at, from inspect",
		steps: func(c *Cache, _ *time.Time) {
			x := running("a", "web")
			x.MemoryLimit = 128 << 20
			c.Upsert(x)
			c.SetMemory(map[string]memory.Stats{"a": {WorkingSet: 120 << 20, Usage: 130 << 20, Limit: 128 << 20}})
			x.State, x.ExitCode, x.OOMKilled, x.FinishedAt = "exited", 137, true, at(20)
			c.Upsert(x)
			c.SetMemory(map[string]memory.Stats{})
		},
		names: []string{catalog.ContainerMemoryLimitBytes, catalog.ContainerMemoryUsageRatio, catalog.ContainerMemoryWorkingSetBytes},
		want:  []string{series("docker_container_memory_limit_bytes", "1.34217728e+08")},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			now := at(100)
			var timers graceTimers
			c := New(Options{Retention: time.Hour, Labels: []string{"team"}, OOMGrace: tc.grace, Now: func() time.Time { return now }, AfterFunc: timers.after})
			tc.steps(c, &now)
			if tc.graceEnds && timers.fire() == 0 {
				t.Fatal("the steps started no OOM grace: the case proves nothing")
			}
			got := scrape(t, c, tc.names...)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestChurnKeepsOneEntryPerName recreates containers under a few names many
// times over, as docker compose up --force-recreate does, and counts what
// the cache holds: one entry per name however many containers came and
// went, and, once the retention has passed, nothing of the removed ones.
// This is the soak's "memory does not grow with the number of containers",
// without a heap figure to hold to a threshold.
func TestChurnKeepsOneEntryPerName(t *testing.T) {
	const names, generations = 20, 50
	now := at(0)
	var graces graceTimers
	c := New(Options{Retention: time.Hour, OOMGrace: time.Second, Now: func() time.Time { return now }, AfterFunc: graces.after})
	for g := range generations {
		for n := range names {
			id := fmt.Sprintf("%d-%d", n, g)
			name := fmt.Sprintf("web-%d", n)
			x := running(id, name)
			c.Upsert(x)
			code := []int{0, 1, 137, 139, 143}[g%5]
			c.Apply(Event{ID: id, Action: "die", Time: at(g*10 + 1), Attributes: map[string]string{"exitCode": strconv.Itoa(code)}})
			c.Apply(ev(id, "destroy", g*10+2))
		}
		graces.fire()
	}
	c.mu.RLock()
	entries, removed := len(c.entries), len(c.removed)
	c.mu.RUnlock()
	if entries != names || removed != names {
		t.Errorf("after %d containers under %d names the cache holds %d entries, %d removed; want one per name", names*generations, names, entries, removed)
	}
	for n := range names {
		s := scrape(t, c, catalog.ContainerExitsTotal)
		if got := len(testenv.Grep(s, fmt.Sprintf(`name="web-%d"`, n))); got != len(catalog.Reasons) {
			t.Fatalf("web-%d: %d exit series, want %d:\n%s", n, got, len(catalog.Reasons), strings.Join(s, "\n"))
		}
	}
	now = at(generations*10 + 2).Add(time.Hour)
	c.Upsert(running("after", "other"))
	c.mu.RLock()
	entries, removed, adopted := len(c.entries), len(c.removed), len(c.adopted)
	c.mu.RUnlock()
	if entries != 1 || removed != 0 || adopted != 0 {
		t.Errorf("past the retention the cache holds %d entries, %d removed, %d adopted; want only the live one", entries, removed, adopted)
	}
}
