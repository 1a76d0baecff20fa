package generate_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
)

// The committed base compose file and the shipped spec's fragment, as a
// user applies them.
var (
	baseCompose     = filepath.Join("..", "..", "compose", "docker-compose.yml")
	gatewayFragment = filepath.Join("..", "..", "generated", "compose", rules.GatewayService+".compose.yml")
)

// composeProject runs the gateway service of the base compose file with
// fragments over it, through the real docker compose, as a project of its
// own that is taken down when the test ends. A last override of the test's
// own runs the stand-in's test image (built FROM scratch here, never
// pulled) with the given command and labels the container for testenv's
// clean-up; it sets nothing the fragments set.
type composeProject struct {
	t       *testing.T
	compose string
	args    []string
	env     []string
}

func newComposeProject(t *testing.T, command []string, fragments ...string) *composeProject {
	t.Helper()
	cli := testenv.RequireDocker(t)
	compose := testenv.Tool(t, "DOCKER_COMPOSE", "docker-compose")
	testenv.Standin(t, cli)

	var b strings.Builder
	b.WriteString("services:\n  " + rules.GatewayService + ":\n")
	b.WriteString("    image: " + testenv.StandinImage + "\n    pull_policy: never\n")
	b.WriteString("    labels:\n      " + testenv.Label + ": \"1\"\n")
	if len(command) > 0 {
		b.WriteString("    command: [" + strings.Join(quoteAll(command), ", ") + "]\n")
	}
	override := filepath.Join(t.TempDir(), "test.compose.yml")
	if err := os.WriteFile(override, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	suffix := make([]byte, 4)
	rand.Read(suffix)
	p := &composeProject{t: t, compose: compose,
		args: []string{"-p", "promgen-test-restart-" + hex.EncodeToString(suffix), "-f", baseCompose}}
	for _, f := range append(fragments, override) {
		p.args = append(p.args, "-f", f)
	}
	// The gateway runs on the host network: a port of its own.
	p.env = append(os.Environ(), "GATEWAY_PORT="+strconv.Itoa(freePort(t)))
	t.Cleanup(func() { p.output("down", "--volumes", "--timeout=1") })
	return p
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (p *composeProject) output(args ...string) (string, error) {
	cmd := exec.Command(p.compose, append(p.args, args...)...)
	cmd.Env = p.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// run runs docker compose and returns its output, failing the test when it
// fails.
func (p *composeProject) run(args ...string) string {
	p.t.Helper()
	out, err := p.output(args...)
	if err != nil {
		p.t.Fatalf("docker compose %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// container returns the ID of the gateway's container.
func (p *composeProject) container() string {
	p.t.Helper()
	id := strings.TrimSpace(p.run("ps", "--all", "--quiet", rules.GatewayService))
	if id == "" || strings.Contains(id, "\n") {
		p.t.Fatalf("want one container of %s, got %q", rules.GatewayService, id)
	}
	return id
}

func inspect(t *testing.T, cli *client.Client, id string) container.InspectResponse {
	t.Helper()
	r, err := cli.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatalf("inspect %s: %v", id, err)
	}
	return r.Container
}

// TestTheFragmentsRestartPolicyReachesDocker creates the gateway's
// container from the base compose file and the generated fragment with the
// real docker compose, and reads back the restart policy Docker holds.
// The fragment promgen wrote before, restart: unless-stopped beside the
// runbook's deploy.restart_policy, shows why it changed: compose applied
// the restart_policy, as on-failure with 3 attempts for the container's
// whole life.
func TestTheFragmentsRestartPolicyReachesDocker(t *testing.T) {
	before := filepath.Join(t.TempDir(), "before.compose.yml")
	if err := os.WriteFile(before, []byte(`services:
  inference-gateway:
    restart: unless-stopped
    deploy:
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3, window: 2m}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		fragment string
		want     container.RestartPolicy
	}{
		{"the generated fragment gives Docker unless-stopped", gatewayFragment, container.RestartPolicy{Name: container.RestartPolicyUnlessStopped}},
		{"the fragment with deploy.restart_policy gave Docker on-failure with 3 attempts", before, container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cli := testenv.RequireDocker(t)
			p := newComposeProject(t, nil, tc.fragment)
			p.run("create", "--no-build", "--pull=never", rules.GatewayService)
			got := inspect(t, cli, p.container()).HostConfig.RestartPolicy
			if got != tc.want {
				t.Errorf("HostConfig.RestartPolicy = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestTheGeneratedPolicyRestartsPastAnyBudget crashes the gateway's
// container, created from the generated fragment by the real docker
// compose, more times than the runbook's old budget of 3 (the restart
// count already past it, as weeks of rare crashes leave it, since Docker
// never renews it): Docker still restarts it, and it runs again.
func TestTheGeneratedPolicyRestartsPastAnyBudget(t *testing.T) {
	cli := testenv.RequireDocker(t)
	// Each run lives a second, then exits 1.
	p := newComposeProject(t, []string{"--fault", "exit:1@1s"}, gatewayFragment)
	p.run("up", "--detach", "--no-build", "--pull=never", rules.GatewayService)
	id := p.container()

	const past = 5
	deadline := time.Now().Add(90 * time.Second)
	for {
		c := inspect(t, cli, id)
		if c.RestartCount >= past && c.State.Running {
			t.Logf("restart count %d, running again (last exit code %d)", c.RestartCount, c.State.ExitCode)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90s: restart count %d, state %s; want at least %d restarts and running again", c.RestartCount, c.State.Status, past)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
