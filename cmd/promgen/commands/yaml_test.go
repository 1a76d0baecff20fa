package commands

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sre-tools/promgen/spec/yamlspec"
)

// stock is the stock binary's Config without its built-in spec: only a
// YAML file can give it one.
func stock() Config { return Config{} }

func TestInitWritesAStarterThatBuildsAndLintsClean(t *testing.T) {
	dir := t.TempDir()
	if out, err := run(t, stock(), dir, "init"); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	written, err := os.ReadFile(filepath.Join(dir, "promgen.yaml"))
	if err != nil || !bytes.Equal(written, yamlspec.Starter) {
		t.Fatalf("init wrote %d bytes (%v), want the starter", len(written), err)
	}
	// Found without -f, from a folder below too.
	sub := filepath.Join(dir, "deploy")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, stock(), sub, "build")
	if err != nil || strings.Contains(out, "warning") {
		t.Fatalf("build of the starter: %v\n%s", err, out)
	}
	if out, err := run(t, stock(), sub, "lint", "--fail-on", "info"); err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("lint of the starter finds something: %v\n%s", err, out)
	}
	if out, err := run(t, stock(), sub, "build", "--check"); err != nil {
		t.Fatalf("check after build: %v\n%s", err, out)
	}
	for _, f := range []string{"rules/my-service.rules.yml", "prometheus/prometheus.yml", "alertmanager/alertmanager.yml"} {
		if _, err := os.Stat(filepath.Join(sub, "generated", f)); err != nil {
			t.Errorf("the starter's build lacks %s: %v", f, err)
		}
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "promgen.yaml")
	if err := os.WriteFile(mine, []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, stock(), dir, "init")
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "promgen.yaml exists: not overwritten") {
		t.Errorf("init over a file: exit %d, %v\n%s", exitCode(err), err, out)
	}
	if b, _ := os.ReadFile(mine); string(b) != "# mine\n" {
		t.Errorf("init changed the existing file: %q", b)
	}
}

// A YAML spec's problems are reported all at once, each at the file, line
// and column of its field, and nothing is written.
func TestBuildFromYAMLNamesFileLineAndColumnOfEveryProblem(t *testing.T) {
	dir := t.TempDir()
	starter := string(yamlspec.Starter)
	for _, tc := range []struct {
		name, from, to string
		want           []string
	}{
		{
			name: "unknown fields and bad values stop the decode",
			from: "      port: 8000", to: "      prot: 8000\n    colour: red",
			want: []string{`spec.yaml:69:7: unknown field "prot"`, `spec.yaml:70:5: unknown field "colour"`},
		},
		{
			name: "problems validation finds",
			from: "objective: 0.999", to: "objective: 1.5",
			want: []string{`spec.yaml:80:20: service "my-service": slos[0].objective: 1.5 must be above 0 and below 1`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(starter, tc.from) {
				t.Fatalf("the starter lacks %q", tc.from)
			}
			bad := strings.Replace(starter, tc.from, tc.to, 1)
			if err := os.WriteFile(filepath.Join(dir, "spec.yaml"), []byte(bad), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := run(t, stock(), dir, "build", "-f", "spec.yaml")
			if exitCode(err) != 1 {
				t.Fatalf("exit %d, want 1: %v", exitCode(err), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "generated")); !os.IsNotExist(err) {
				t.Errorf("a refused build wrote generated/ (%v)", err)
			}
		})
	}
}

func TestWithoutASpecTheStockBinarySaysHowToGetOne(t *testing.T) {
	_, err := run(t, stock(), t.TempDir(), "build")
	if exitCode(err) != exitUsage || !strings.Contains(err.Error(), "promgen init") {
		t.Errorf("exit %d: %v", exitCode(err), err)
	}
}

// Help names every artifact a build writes, and a wrapper's help and
// --version its own name.
func TestHelpListsEveryArtifactUnderTheWrappersName(t *testing.T) {
	cfg := Config{Name: "team-alerts"}
	top, err := run(t, cfg, t.TempDir(), "--help")
	if err != nil {
		t.Fatal(err)
	}
	build, err := run(t, cfg, t.TempDir(), "build", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, artifact := range []string{"rule files", "promtool tests", "prometheus.yml", "alertmanager.yml", "notification templates",
		"Grafana dashboards", "compose fragments", "Kubernetes"} {
		for name, help := range map[string]string{"--help": top, "build --help": build} {
			if !strings.Contains(help, artifact) {
				t.Errorf("%s lacks %q:\n%s", name, artifact, help)
			}
		}
	}
	for _, cmd := range []string{"build", "lint", "init", "completion"} {
		if !strings.Contains(top, "   "+cmd) {
			t.Errorf("--help does not list %s:\n%s", cmd, top)
		}
	}
	if !strings.Contains(top, "team-alerts") || strings.Contains(top, "promgen ") {
		t.Errorf("--help does not call the wrapper by its name:\n%s", top)
	}
	version, err := run(t, cfg, t.TempDir(), "--version")
	if err != nil || !strings.HasPrefix(version, "team-alerts, version ") {
		t.Errorf("--version: %v\n%s", err, version)
	}
}

func TestCompletion(t *testing.T) {
	cfg := Config{Name: "team-alerts"}
	for shell, want := range map[string][]string{
		"bash": {"PROG=team-alerts\n", "--generate-bash-completion", "complete -o bashdefault"},
		"zsh":  {"PROG=team-alerts\n", "--generate-bash-completion", "compdef"},
		"fish": {"complete -c team-alerts", "'build'", "'init'"},
	} {
		out, err := run(t, cfg, t.TempDir(), "completion", shell)
		if err != nil {
			t.Fatalf("%s: %v", shell, err)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s script lacks %q:\n%s", shell, w, out)
			}
		}
	}
	// What the bash and zsh scripts ask for; urfave/cli reads the words
	// from os.Args, as in the shell.
	defer func(args []string) { os.Args = args }(os.Args)
	os.Args = []string{"team-alerts", "--generate-bash-completion"}
	out, err := run(t, cfg, t.TempDir(), "--generate-bash-completion")
	if err != nil || !strings.Contains(out, "build\nlint\ninit\ncompletion\n") {
		t.Errorf("--generate-bash-completion: %v\n%q", err, out)
	}
}
