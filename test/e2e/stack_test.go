//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

const (
	// project is the compose project of the test; .ci/run removes it by this
	// name if a run is killed half-way.
	project = "promgen-e2e"
	// scrapeInterval is Prometheus' scrape interval in the test, shortened
	// like the e2e profile's rule intervals.
	scrapeInterval = time.Second

	prometheusAddr   = "localhost:9090"
	alertmanagerAddr = "localhost:9093"
	gatewayAddr      = "localhost:8000"
	exporterAddr     = "localhost:19818"

	// replicaProject runs the gateway's second replica: the same compose
	// files in a project of its own, on its own port (replicaPort, which
	// compose/docker-compose.yml also writes into its prometheus.io/port
	// label), since replicas on the host network cannot share one.
	replicaProject = "promgen-e2e-2"
	replicaPort    = "8001"
	replicaAddr    = "localhost:" + replicaPort

	// oneoffName is the `docker compose run` one-off of the gateway's
	// service, listening on loopback beside the serving gateway.
	oneoffName = project + "-oneoff"
	oneoffAddr = "127.0.0.1:8002"
)

// stack is the monitored stack under test: the gateway and gateway-exporter
// as containers from compose/docker-compose.yml with the e2e profile's
// generated fragment, Prometheus and Alertmanager as host processes.
type stack struct {
	root    string // repository root
	dir     string // scratch directory of this run
	compose []string
	env     []string
	docker  *client.Client
	// forOf is each alert's for duration in the e2e profile's rule file.
	forOf map[string]time.Duration
	// memoryLimit is the gateway's limit in the e2e profile's compose
	// fragment, as the alerts' descriptions print it (humanize1024, e.g. "256MiB").
	memoryLimit string
	// memoryLimitBytes is the same limit in bytes.
	memoryLimitBytes int64
	// lastGateway is the gateway container's name when the last fault began.
	lastGateway string
	// hooks records the notifications of the e2e profile's receivers.
	hooks *webhooks
	// started is when Prometheus started.
	started time.Time
	// stopPrometheus stops Prometheus before the test ends (the Watchdog's
	// case); it is stopped at the end anyway.
	stopPrometheus func()
}

// resendDelay is how often Prometheus resends a firing alert to
// Alertmanager (its --rules.alert.resend-delay), the profile's share of
// Prometheus' default minute: annotations in Alertmanager, as the P0
// updates quote them, are at most that old, and an alert Prometheus stops
// sending expires four of them later.
var resendDelay = rules.E2E.D(time.Minute)

// startStack builds and starts everything, and stops it when the test ends.
func startStack(t *testing.T) *stack {
	t.Helper()
	docker := testenv.RequireDocker(t)
	prometheus := tool(t, "PROMETHEUS", "prometheus")
	alertmanager := tool(t, "ALERTMANAGER", "alertmanager")
	compose := tool(t, "DOCKER_COMPOSE", "docker-compose")
	for _, addr := range []string{prometheusAddr, alertmanagerAddr, gatewayAddr, exporterAddr, replicaAddr, oneoffAddr} {
		requireFreePort(t, addr)
	}

	s := &stack{root: repoRoot(t), dir: t.TempDir(), docker: docker}
	generated := filepath.Join(s.root, "generated", rules.E2E.Name)
	// Every rule file of the profile: the gateway's group and the
	// pipeline's (GatewayExporterDown and its kin).
	ruleFiles, err := filepath.Glob(filepath.Join(generated, "rules", "*.rules.yml"))
	if err != nil || len(ruleFiles) < 2 {
		t.Fatalf("want the gateway's and the pipeline's rule files in %s, got %v (%v)", generated, ruleFiles, err)
	}
	s.forOf = alertDurations(t, ruleFiles...)
	s.memoryLimit, s.memoryLimitBytes = memoryLimit(t, filepath.Join(generated, "compose", rules.GatewayService+".compose.yml"))

	// Prometheus runs the e2e profile's generated configuration as it is:
	// it discovers the gateway's containers on the engine's socket, each a
	// target with its container name, compose labels and host, and loads
	// the generated rule files beside it.
	promConfig := filepath.Join(generated, "prometheus", "prometheus.yml")

	// Alertmanager's receivers in the e2e profile post here.
	s.hooks = startWebhooks(t)
	startProcess(t, s.dir, "alertmanager", alertmanager,
		"--config.file="+filepath.Join(generated, "alertmanager", "alertmanager.yml"),
		"--storage.path="+filepath.Join(s.dir, "alertmanager-data"),
		"--web.listen-address="+alertmanagerAddr,
		"--cluster.listen-address=")
	waitReady(t, "http://"+alertmanagerAddr+"/-/ready")

	// The project's own images are built from their Dockerfiles around the
	// static binaries in bin/, as `make build` leaves them.
	run(t, s.root, nil, "go", "build", "-trimpath", "-o", "bin/", "./cmd/standin-gateway", "./cmd/gateway-exporter")
	s.compose = []string{compose, "-p", project,
		"-f", filepath.Join(s.root, "compose", "docker-compose.yml"),
		"-f", filepath.Join(generated, "compose", rules.GatewayService+".compose.yml")}
	// No cAdvisor here (its image cannot be pulled): gateway-exporter reads
	// memory from Docker's stats API, as often as Prometheus scrapes.
	s.env = []string{"CADVISOR_URL=", "EXPORTER_MEMORY_INTERVAL=" + scrapeInterval.String()}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := s.composeOutput("logs", "--no-color", "--tail=40")
			t.Logf("compose logs:\n%s", out)
		}
		if out, err := s.composeOutput("down", "--volumes", "--remove-orphans", "--timeout=5"); err != nil {
			t.Logf("compose down: %v\n%s", err, out)
		}
		if out, err := s.replicaOutput("down", "--volumes", "--remove-orphans", "--timeout=5"); err != nil {
			t.Logf("compose down (%s): %v\n%s", replicaProject, err, out)
		}
	})
	s.composeRun(t, "build")
	s.composeRun(t, "up", "--detach", "--wait", "--wait-timeout=60", rules.GatewayService, spec.DefaultExporterJob)
	// Prometheus starts once the gateway runs: ServiceDown fires when the
	// job has no target at all (absent(up)), and a stack still being built
	// has none; that page would be the test's, not the gateway's.
	s.started = time.Now()
	s.stopPrometheus = startProcess(t, s.dir, "prometheus", prometheus,
		"--config.file="+promConfig,
		"--storage.tsdb.path="+filepath.Join(s.dir, "prometheus-data"),
		"--web.listen-address="+prometheusAddr,
		"--rules.alert.resend-delay="+resendDelay.String())
	waitReady(t, "http://"+prometheusAddr+"/-/ready")
	return s
}

// composeRun runs docker compose on the test's project and fails the test
// when it fails.
func (s *stack) composeRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := s.composeOutput(args...); err != nil {
		t.Fatalf("docker compose %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (s *stack) composeOutput(args ...string) ([]byte, error) {
	cmd := exec.Command(s.compose[0], append(s.compose[1:], args...)...)
	cmd.Dir = s.root
	cmd.Env = append(os.Environ(), s.env...)
	return cmd.CombinedOutput()
}

// replicaRun runs docker compose on the second replica's project and fails
// the test when it fails.
func (s *stack) replicaRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := s.replicaOutput(args...); err != nil {
		t.Fatalf("docker compose -p %s %s: %v\n%s", replicaProject, strings.Join(args, " "), err, out)
	}
}

// replicaOutput runs docker compose with the test's files on the second
// replica's project and port.
func (s *stack) replicaOutput(args ...string) ([]byte, error) {
	base := slices.Clone(s.compose)
	base[slices.Index(base, "-p")+1] = replicaProject
	cmd := exec.Command(base[0], append(base[1:], args...)...)
	cmd.Dir = s.root
	cmd.Env = append(append(os.Environ(), s.env...), "GATEWAY_PORT="+replicaPort)
	return cmd.CombinedOutput()
}

// tool finds an external program: the path in env, else PATH, else the
// cache scripts/tools.sh builds into. Missing, it fails the test.
func tool(t *testing.T, env, name string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "promgen", "tools", "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s not found in $%s, PATH or ~/.cache/promgen/tools/bin: run `make e2e`, or scripts/tools.sh first", name, env)
	return ""
}

// requireFreePort fails early and clearly when something, such as the demo
// stack, already listens where the test's host-network services must.
func requireFreePort(t *testing.T, addr string) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("%s is in use; stop what listens there (the demo stack? docker compose down): %v", addr, err)
	}
	l.Close()
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// alertDurations reads each alert's for from a generated rule file.
func alertDurations(t *testing.T, paths ...string) map[string]time.Duration {
	t.Helper()
	out := map[string]time.Duration{}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run `make generate`)", err)
		}
		var groups rulefmt.RuleGroups
		if err := yaml.Unmarshal(b, &groups); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, g := range groups.Groups {
			for _, r := range g.Rules {
				if r.Alert != "" {
					out[r.Alert] = time.Duration(r.For)
				}
			}
		}
	}
	return out
}

// memoryLimit reads the gateway's memory limit from a generated compose
// fragment and writes it in whole MiB; it also returns it in bytes.
func memoryLimit(t *testing.T, path string) (string, int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `make generate`)", err)
	}
	var f struct {
		Services map[string]struct {
			Deploy struct {
				Resources struct {
					Limits struct {
						Memory string `yaml:"memory"`
					} `yaml:"limits"`
				} `yaml:"resources"`
			} `yaml:"deploy"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	raw := f.Services[rules.GatewayService].Deploy.Resources.Limits.Memory
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 || n%(1<<20) != 0 {
		t.Fatalf("%s: memory limit %q: want a whole number of MiB in bytes", path, raw)
	}
	return fmt.Sprintf("%dMiB", n>>20), n
}

// startProcess runs a host process for the rest of the test, logging to a
// file that is printed when the test fails. It returns a func that stops
// it sooner.
func startProcess(t *testing.T, dir, name, path string, args ...string) (stop func()) {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop = sync.OnceFunc(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	t.Cleanup(func() {
		stop()
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log (last lines):\n%s", name, tail(b, 30))
		}
	})
	return stop
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 30s: %v", url, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func run(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CGO_ENABLED=0"), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func tail(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// gateway returns the gateway container's name and inspect state (not a
// one-off's); with no container (removed), "" and status "removed".
func (s *stack) gateway(t *testing.T) (name string, st gatewayState) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := s.docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).
		Add("label", "com.docker.compose.project="+project, "com.docker.compose.service="+rules.GatewayService, "com.docker.compose.oneoff=False")})
	if err == nil && len(list.Items) == 0 {
		return "", gatewayState{Status: "removed"}
	}
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("want one %s container, got %d: %v", rules.GatewayService, len(list.Items), err)
	}
	return s.inspect(t, list.Items[0].ID)
}

// inspect returns a container's name and state.
func (s *stack) inspect(t *testing.T, id string) (name string, st gatewayState) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.docker.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Container
	st = gatewayState{Status: string(c.State.Status), ExitCode: c.State.ExitCode, OOMKilled: c.State.OOMKilled, Restarts: c.RestartCount}
	if c.HostConfig != nil {
		st.MemoryLimit = c.HostConfig.Memory
	}
	st.FinishedAt, _ = time.Parse(time.RFC3339Nano, c.State.FinishedAt)
	return strings.TrimPrefix(c.Name, "/"), st
}

// gatewayState is what Docker says about the gateway container.
type gatewayState struct {
	Status      string
	ExitCode    int
	OOMKilled   bool
	Restarts    int
	FinishedAt  time.Time
	MemoryLimit int64
}

func (g gatewayState) String() string {
	return fmt.Sprintf("%s, exit code %d, OOMKilled %v, %d restarts", g.Status, g.ExitCode, g.OOMKilled, g.Restarts)
}
