package docker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/exporter/cache"
	"github.com/sre-tools/promgen/internal/exporter/docker"
	"github.com/sre-tools/promgen/internal/exporter/dockerstats"
	"github.com/sre-tools/promgen/internal/testenv"
)

const project = "promgen-test"

// exporter is the docker source, the memory refresher and the cache behind
// an httptest server, as gateway-exporter wires them, scraped over HTTP.
type exporter struct {
	url  string
	host string // the engine the exporter talks to
}

type exporterOptions struct {
	retention time.Duration
	host      string // DOCKER_HOST for the exporter; empty for the test's own
	memory    bool   // run the memory refresher on Docker's stats API
	// requestTimeout and eventQueue are the source's
	// Options.RequestTimeout and EventQueue; 0 for the defaults.
	requestTimeout time.Duration
	eventQueue     int
	// engine wraps the client the source reads; nil for the client itself.
	engine func(*client.Client) docker.Engine
	// now and afterFunc are the cache's Options.Now and AfterFunc; nil
	// for the wall clock and time.AfterFunc.
	now       func() time.Time
	afterFunc func(time.Duration, func())
}

// graceTimers stands for time.AfterFunc in the cache: it keeps the OOM
// graces the cache starts until fire ends them, so a test decides when a
// grace is over instead of racing the wall clock.
type graceTimers struct {
	mu sync.Mutex
	fs []func()
}

func (g *graceTimers) after(_ time.Duration, f func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fs = append(g.fs, f)
}

// fire ends every grace started so far and returns how many.
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

// clock is the wall clock moved forward by what the test adds, for the
// cache's retention: a test passes the retention by moving the clock,
// not by sleeping through it.
type clock struct{ ahead atomic.Int64 }

func (c *clock) now() time.Time      { return time.Now().Add(time.Duration(c.ahead.Load())) }
func (c *clock) add(d time.Duration) { c.ahead.Add(int64(d)) }

func startExporter(t *testing.T, o exporterOptions) *exporter {
	t.Helper()
	opts := []client.Opt{client.FromEnv}
	if o.host != "" {
		opts = append(opts, client.WithHost(o.host))
	}
	cli, err := client.New(opts...)
	if err != nil {
		t.Fatalf("exporter docker client: %v", err)
	}
	c := cache.New(cache.Options{Retention: o.retention, Labels: []string{testenv.Label}, OOMGrace: cache.DefaultOOMGrace, Now: o.now, AfterFunc: o.afterFunc})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	srv := httptest.NewServer(c.Handler(reg, log))

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var engine docker.Engine = cli
	if o.engine != nil {
		engine = o.engine(cli)
	}
	wg.Go(func() {
		docker.New(engine, c, log, docker.Options{MaxBackoff: time.Second, RequestTimeout: o.requestTimeout, EventQueue: o.eventQueue}).Run(ctx)
	})
	if o.memory {
		wg.Go(func() {
			cache.RefreshMemory(ctx, c, dockerstats.New(cli, 4), time.Second, 5*time.Second, log)
		})
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		srv.Close()
		cli.Close()
	})
	e := &exporter{url: srv.URL + "/metrics", host: cli.DaemonHost()}
	e.wait(t, 20*time.Second, "the docker source up", func(s []string) bool {
		return has(s, catalog.ExporterSourceUp+`{source="docker"} 1`)
	})
	return e
}

// testWriter sends the exporter's logs to the test log, where they show
// only when a test fails.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (e *exporter) scrape(t *testing.T) []string { return testenv.Scrape(t, e.url) }

// wait scrapes until ok holds, failing the test with the last scrape after
// timeout.
func (e *exporter) wait(t *testing.T, timeout time.Duration, what string, ok func([]string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := e.scrape(t)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %s; last scrape:\n%s", what, timeout, strings.Join(s, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func has(lines []string, line string) bool {
	for _, l := range lines {
		if l == line {
			return true
		}
	}
	return false
}

// ctr is one test container and the label set of its series.
type ctr struct {
	id, name string
	service  string // its compose service; empty: its name
	oneoff   bool   // labelled as a `docker compose run` task
}

// series formats one line of this container's series as testenv.Lines does.
func (c ctr) series(metric, value string, kv ...string) string {
	service, oneoff := c.service, catalog.OneoffFalse
	if service == "" {
		service = c.name
	}
	if c.oneoff {
		oneoff = catalog.OneoffTrue
	}
	labels := []string{`compose_oneoff="` + oneoff + `"`, `compose_project="` + project + `"`, `compose_service="` + service + `"`, `name="` + c.name + `"`}
	for i := 0; i < len(kv); i += 2 {
		labels = append(labels, kv[i]+"="+strconv.Quote(kv[i+1]))
	}
	slices.Sort(labels)
	return metric + "{" + strings.Join(labels, ",") + "} " + value
}

// mine keeps the lines of this container's series.
func (c ctr) mine(lines []string) []string { return testenv.Grep(lines, `name="`+c.name+`"`) }

// spec is what a test container runs and how.
type spec struct {
	faults  []string // the stand-in gateway's --fault flags; none: it serves until stopped
	restart container.RestartPolicy
	memory  int64 // bytes; also the swap limit, so that the limit is real
	health  *container.HealthConfig
	name    string // the container's name; empty for one made from the test's name
	service string // its compose service; empty: its name
	// oneoff labels it com.docker.compose.oneoff as compose does: "True"
	// for a `docker compose run` task, "False" for a replica; empty: no
	// such label.
	oneoff string
}

// run starts the stand-in gateway with the spec's faults in a container
// labelled as a compose service named like it.
func run(t *testing.T, cli *client.Client, s spec) ctr {
	t.Helper()
	name := s.name
	if name == "" {
		suffix := make([]byte, 4)
		rand.Read(suffix)
		name = "promgen-test-" + strings.ToLower(strings.NewReplacer(" ", "-", "_", "-").Replace(t.Name()[strings.LastIndex(t.Name(), "/")+1:]))
		if len(name) > 40 {
			name = name[:40]
		}
		name += "-" + hex.EncodeToString(suffix)
	}
	var cmd []string
	for _, f := range s.faults {
		cmd = append(cmd, "--fault", f)
	}
	service := s.service
	if service == "" {
		service = name
	}
	labels := map[string]string{cache.LabelComposeProject: project, cache.LabelComposeService: service}
	if s.oneoff != "" {
		labels[cache.LabelComposeOneoff] = s.oneoff
	}
	init := true
	id := testenv.Run(t, cli, client.ContainerCreateOptions{
		Name: name,
		Config: &container.Config{
			Image:       testenv.StandinImage,
			Cmd:         cmd,
			Healthcheck: s.health,
			Labels:      labels,
		},
		HostConfig: &container.HostConfig{
			// --init: the stand-in is not PID 1, so it dies of real
			// signals and docker-init reports them as 128+signal, as
			// Docker does.
			Init:          &init,
			RestartPolicy: s.restart,
			Resources:     container.Resources{Memory: s.memory, MemorySwap: s.memory},
		},
	})
	return ctr{id: id, name: name, service: service, oneoff: s.oneoff == "True"}
}

// healthcheck probes the stand-in's /health, on the container's own
// loopback.
func healthcheck() *container.HealthConfig {
	return &container.HealthConfig{Test: []string{"CMD", "/standin-gateway", "healthcheck"}, Interval: 500 * time.Millisecond, Timeout: 5 * time.Second, Retries: 1}
}

// proxy relays a unix socket to the Docker engine's, and can be cut and
// restored: it stands for the exporter losing its connection to the engine
// while the engine, and the containers it runs, carry on.
type proxy struct {
	path, target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	// A short directory: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "gwx")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{path: filepath.Join(dir, "docker.sock"), target: target, conns: map[net.Conn]bool{}}
	p.restore(t)
	t.Cleanup(func() {
		p.cut()
		os.RemoveAll(dir)
	})
	return p
}

func (p *proxy) host() string { return "unix://" + p.path }

func (p *proxy) restore(t *testing.T) {
	t.Helper()
	os.Remove(p.path)
	ln, err := net.Listen("unix", p.path)
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.relay(c)
		}
	}()
}

func (p *proxy) relay(c net.Conn) {
	up, err := net.Dial("unix", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

// cut closes the listener and every relayed connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}
