package generate

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/spec"
)

// dollarTests are healthchecks whose command reads a variable inside the
// container: compose would expand a bare $ from the host's environment (to
// nothing), so the fragment must write $$.
var dollarTests = []struct {
	name string
	test []string
}{
	{"a CMD-SHELL test reading $PORT", []string{"CMD-SHELL", "curl -f http://localhost:$PORT/health"}},
	{"a CMD test running sh -c with $HOME", []string{"CMD", "sh", "-c", "echo $HOME"}},
	{"a test with $$ and ${VAR} already", []string{"CMD-SHELL", "test $$ -gt 0 && echo ${VAR:-x} $"}},
}

func dollarService(test []string) spec.Service {
	c := spec.RunbookContainer("http://localhost:8000/health")
	c.Healthcheck.Test = test
	return spec.Service{Name: "a", Container: c}
}

// TestHealthcheckDollarIsEscaped requires the fragment to write each $ of a
// healthcheck as $$, and the build's own check (compose-go over the base)
// to accept it, whether or not the base service sets a healthcheck itself.
func TestHealthcheckDollarIsEscaped(t *testing.T) {
	for _, tc := range dollarTests {
		t.Run(tc.name, func(t *testing.T) {
			svc := dollarService(tc.test)
			b, err := ComposeFragment(svc)
			if err != nil {
				t.Fatal(err)
			}
			for _, arg := range tc.test {
				if esc := strings.ReplaceAll(arg, "$", "$$"); !strings.Contains(string(b), esc) {
					t.Errorf("the fragment lacks %q, %q as compose needs it:\n%s", esc, arg, b)
				}
			}
			for _, base := range []string{
				"services:\n  a:\n    image: x\n",
				"services:\n  a:\n    image: x\n    healthcheck:\n      test: [\"CMD\", \"true\"]\n",
			} {
				if errs := validateCompose(context.Background(), writeBase(t, base), []fragment{newFragment("", svc)}); len(errs) > 0 {
					t.Errorf("over %q: %v", base, errs)
				}
			}
		})
	}
}

// TestHealthcheckDollarThroughDockerCompose gives the fragment to the real
// docker compose and reads back the healthcheck of the merged service: the
// spec's command, $ and all, with no variable expanded from the host.
// compose's own output writes a literal $ as $$ again, so that is what the
// merged file must hold.
func TestHealthcheckDollarThroughDockerCompose(t *testing.T) {
	compose := testenv.Tool(t, "DOCKER_COMPOSE", "docker-compose")
	for _, tc := range dollarTests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			b, err := ComposeFragment(dollarService(tc.test))
			if err != nil {
				t.Fatal(err)
			}
			frag := filepath.Join(dir, "a.compose.yml")
			if err := os.WriteFile(frag, b, 0o644); err != nil {
				t.Fatal(err)
			}
			base := writeBase(t, "services:\n  a:\n    image: x\n")
			cmd := exec.Command(compose, "-p", "promgen-dollar", "-f", base, "-f", frag, "config", "--format", "json")
			cmd.Env = append(os.Environ(), "PORT=6666", "HOME=/host-home", "VAR=host")
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("docker compose config: %v\n%s", err, stderr.String())
			}
			var p struct {
				Services map[string]struct {
					Healthcheck struct {
						Test []string `json:"test"`
					} `json:"healthcheck"`
				} `json:"services"`
			}
			if err := json.Unmarshal(out, &p); err != nil {
				t.Fatal(err)
			}
			got := p.Services["a"].Healthcheck.Test
			want := make([]string, len(tc.test))
			for i, arg := range tc.test {
				want[i] = strings.ReplaceAll(arg, "$", "$$")
			}
			if !slices.Equal(got, want) {
				t.Errorf("docker compose config's healthcheck is %q, want %q (the spec's %q, each $ written as compose writes a literal one)\n%s", got, want, tc.test, stderr.String())
			}
		})
	}
}
