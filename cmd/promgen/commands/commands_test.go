package commands

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sre-tools/promgen/internal/generate"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// run runs the CLI in dir and returns its output and error, without the
// process exit urfave/cli would make on an ExitCoder.
func run(t *testing.T, cfg Config, dir string, args ...string) (string, error) {
	t.Helper()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	app := NewApp(cfg)
	var out bytes.Buffer
	app.Writer, app.ErrWriter = &out, &out
	app.ExitErrHandler = func(*cli.Context, error) {}
	err := app.Run(append([]string{"promgen"}, args...))
	return out.String(), err
}

// workdir makes a folder with the repository's compose base file.
func workdir(t *testing.T) string {
	dir := t.TempDir()
	base, err := os.ReadFile("../../../compose/docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "compose"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "compose", "docker-compose.yml"), base, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func gateway() Config {
	return Config{Origin: "rules/", Outputs: []Output{{Spec: rules.Spec(rules.Production)}}}
}

func TestBuildThenCheckPassesAndCheckCatchesDrift(t *testing.T) {
	dir := workdir(t)
	if out, err := run(t, gateway(), dir, "build"); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	if out, err := run(t, gateway(), dir, "build", "--check"); err != nil {
		t.Fatalf("check right after build: %v\n%s", err, out)
	}
	rulesFile := filepath.Join(dir, "generated", "rules", "inference-gateway.rules.yml")
	b, _ := os.ReadFile(rulesFile)
	if err := os.WriteFile(rulesFile, bytes.Replace(b, []byte("for: 5m"), []byte("for: 10m"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, gateway(), dir, "build", "--check")
	if err == nil {
		t.Fatalf("check passed on an edited rule file:\n%s", out)
	}
	for _, want := range []string{"-        for: 10m", "+        for: 5m", "generated is stale"} {
		if !strings.Contains(out+err.Error(), want) {
			t.Errorf("check output lacks %q:\n%s\n%v", want, out, err)
		}
	}
	after, _ := os.ReadFile(rulesFile)
	if !bytes.Contains(after, []byte("for: 10m")) {
		t.Error("--check rewrote the file")
	}
}

func TestABadSpecIsReportedWholeAndWritesNothing(t *testing.T) {
	dir := workdir(t)
	if out, err := run(t, gateway(), dir, "build"); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	before, err := generate.Diff(filepath.Join(dir, "generated"), nil)
	if err != nil {
		t.Fatal(err)
	}

	s := rules.Spec(rules.Production)
	s.Services[0].Alerts[0].For = -time.Minute
	s.Services[0].Alerts[1].Severity = "urgent"
	s.Services[0].Container.Memory.Reservation = 8 * spec.GiB
	bad := Config{Origin: "rules/", Outputs: []Output{{Spec: s}}}
	_, err = run(t, bad, dir, "build")
	if err == nil {
		t.Fatal("build of a bad spec succeeded")
	}
	for _, want := range []string{
		"nothing written (3 problems)",
		`rules/: service "inference-gateway": alert "ServiceDown": for: must not be negative`,
		`rules/: service "inference-gateway": alert "ReplicaDown": severity: "urgent" is not one of critical, warning, info`,
		`rules/: service "inference-gateway": container.memory.reservation: 8589934592 bytes exceeds the limit of 4294967296 bytes`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	after, err := generate.Diff(filepath.Join(dir, "generated"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Error("a failed build changed generated/")
	}
}

func TestLintOfTheShippedSpecFindsNothing(t *testing.T) {
	dir := workdir(t)
	cfg := gateway()
	cfg.Outputs = append(cfg.Outputs, Output{Dir: "e2e", Spec: rules.Spec(rules.E2E)})
	out, err := run(t, cfg, dir, "lint")
	if err != nil || out != "" {
		t.Fatalf("lint of the shipped spec: %v\n%s", err, out)
	}
}

func TestBuildRefusesLintErrors(t *testing.T) {
	dir := workdir(t)
	s := rules.Spec(rules.Production)
	s.Services[0].Container.Healthcheck = spec.Healthcheck{}
	out, err := run(t, Config{Outputs: []Output{{Spec: s}}}, dir, "build")
	if err == nil {
		t.Fatalf("build passed ContainerUnhealthy on a service without a healthcheck:\n%s", out)
	}
	if !strings.Contains(out, "generated/rules/inference-gateway.rules.yml:") || !strings.Contains(out, "error healthcheck:") {
		t.Errorf("build output lacks the lint finding:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "generated")); !os.IsNotExist(err) {
		t.Errorf("a refused build wrote generated/ (%v)", err)
	}
}

// TestAMemoryAlertOnAServiceWithoutLimitNamesTheLimit: the spec is refused
// where it is fixed, the service's memory limit, for each alert that reads
// the ratio (lint's memory-limit check says it of rule files anyone wrote).
func TestAMemoryAlertOnAServiceWithoutLimitNamesTheLimit(t *testing.T) {
	dir := workdir(t)
	s := rules.Spec(rules.Production)
	s.Services[0].Container.Memory = spec.Memory{}
	for _, cmd := range []string{"build", "lint"} {
		out, err := run(t, Config{Outputs: []Output{{Spec: s}}}, dir, cmd)
		if err == nil {
			t.Fatalf("%s passed memory alerts on a service without a limit:\n%s", cmd, out)
		}
		if n := strings.Count(err.Error(), "container.memory.limit: alert"); n != 2 {
			t.Errorf("%s: got %d container.memory.limit problems, want 2 (High and Critical): %v", cmd, n, err)
		}
	}
}

func TestLintFlagsAHealthAlertOnAServiceWithoutHealthcheck(t *testing.T) {
	dir := workdir(t)
	s := rules.Spec(rules.Production)
	s.Services[0].Container.Healthcheck = spec.Healthcheck{}
	out, err := run(t, Config{Outputs: []Output{{Spec: s}}}, dir, "lint", "--format", "json")
	if err == nil {
		t.Fatalf("lint passed ContainerUnhealthy on a service without a healthcheck:\n%s", out)
	}
	if n := strings.Count(out, `"check": "healthcheck"`); n != 1 {
		t.Errorf("got %d healthcheck findings, want 1 (ContainerUnhealthy):\n%s", n, out)
	}
}

func TestLintOfABrokenRuleFileNamesFileAndLine(t *testing.T) {
	dir := workdir(t)
	f := filepath.Join(dir, "bad.rules.yml")
	if err := os.WriteFile(f, []byte("groups:\n  - name: g\n    rules:\n      - alert: Bad\n        expr: up ==\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, gateway(), dir, "lint", "--format", "text", "bad.rules.yml")
	if err == nil {
		t.Fatalf("lint passed a broken file:\n%s", out)
	}
	if !strings.Contains(out, "bad.rules.yml:5: error") {
		t.Errorf("lint output lacks file:line:\n%s", out)
	}
}

func TestTwoServicesWithTheSameAlertsBuild(t *testing.T) {
	dir := workdir(t)
	base := "services:\n  ranker:\n    image: r\n  embedder:\n    image: e\n"
	if err := os.WriteFile(filepath.Join(dir, "team.compose.yml"), []byte(base), 0o644); err != nil {
		t.Fatal(err)
	}
	s := spec.Spec{RunbookURL: "https://runbooks.example.com/team"}
	for _, name := range []string{"ranker", "embedder"} {
		svc := spec.Service{Name: name, Container: spec.RunbookContainer("http://localhost:9000/health"), Scrape: spec.Scrape{Port: 9000}}
		svc.Alerts = rules.Runbook(svc, rules.Production)
		s.Services = append(s.Services, svc)
	}
	s.Pipeline = rules.Pipeline(s, rules.Production)
	cfg := Config{Origin: "team/", Outputs: []Output{{Spec: s}}, ComposeBase: "team.compose.yml", Out: "alerts"}
	out, err := run(t, cfg, dir, "build")
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, f := range []string{"rules/ranker.rules.yml", "rules/embedder.rules.yml", "rules/promgen-pipeline.rules.yml", "compose/embedder.compose.yml"} {
		if _, err := os.Stat(filepath.Join(dir, "alerts", f)); err != nil {
			t.Errorf("Config.Out: %v", err)
		}
	}
}

func TestEveryProblemOfAManyServiceSpecIsReportedAndNothingWritten(t *testing.T) {
	dir := workdir(t)
	s := rules.Spec(rules.Production)
	gw := s.Services[0]
	other := gw
	other.Name = "ranker"
	other.Alerts = append(rules.Runbook(other, rules.Production), rules.ServiceDown(other, rules.Production))
	s.Services = append(s.Services, other, gw)
	s.Pipeline = append(s.Pipeline, s.Pipeline[0])
	_, err := run(t, Config{Origin: "rules/", Outputs: []Output{{Spec: s}}}, dir, "build")
	if err == nil {
		t.Fatal("build of a bad spec succeeded")
	}
	for _, want := range []string{
		"nothing written (3 problems)",
		`rules/: service "ranker": alert "ServiceDown": name: duplicate alert: an alert name may appear once per service`,
		`rules/: service "inference-gateway": name: duplicate service`,
		`rules/: pipeline alert "GatewayExporterDown": name: duplicate alert: an alert name may appear once per spec (pipeline alerts)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "generated")); !os.IsNotExist(err) {
		t.Errorf("a refused build wrote generated/ (%v)", err)
	}
}

// TestTextNoRuleFileCanHoldFailsTheBuild reproduces issue 23: an
// annotation with a leading tab and a line break was written as a block
// Prometheus cannot read, and invalid UTF-8 as !!binary, while the build
// said it wrote every file. Both now fail the build, named by service,
// alert and field, and nothing is written.
func TestTextNoRuleFileCanHoldFailsTheBuild(t *testing.T) {
	dir := workdir(t)
	s := rules.Spec(rules.Production)
	s.Services[0].Alerts[0].Description = "\tSee the runbook.\n"
	s.Services[0].Alerts[1].Summary = "down \xff"
	a0, a1 := s.Services[0].Alerts[0].Name, s.Services[0].Alerts[1].Name
	_, err := run(t, Config{Origin: "rules/", Outputs: []Output{{Spec: s}}}, dir, "build")
	if err == nil {
		t.Fatal("the build succeeded")
	}
	for _, want := range []string{
		fmt.Sprintf(`service "inference-gateway": alert %q: description: a text of several lines may not start with a tab`, a0),
		fmt.Sprintf(`service "inference-gateway": alert %q: summary: not valid UTF-8`, a1),
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "generated")); !os.IsNotExist(err) {
		t.Errorf("a refused build wrote generated/ (%v)", err)
	}
}

func TestVersion(t *testing.T) {
	out, err := run(t, gateway(), t.TempDir(), "--version")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"promgen, version ", "revision:", "go version:"} {
		if !strings.Contains(out, want) {
			t.Errorf("--version lacks %q:\n%s", want, out)
		}
	}
}

// TestUsageErrorsExitTwo: an unknown flag, command or flag value is a
// usage error, status 2, as the docs promise, and says whose it is.
func TestUsageErrorsExitTwo(t *testing.T) {
	defer func(f func(int)) { cli.OsExiter = f }(cli.OsExiter)
	for _, args := range [][]string{
		{"build", "--nope"},
		{"--nope"},
		{"lint", "--no-such-flag"},
		{"nope"},
		{"build", "extra"},
		{"build", "-f"},
		{"build", "-f", "no-such.yaml"},
		{"init", "a.yaml", "b.yaml"},
		{"completion"},
		{"completion", "tcsh"},
		// An empty value, as an unset variable in a script gives, is not
		// the default.
		{"build", "-f", ""},
		{"build", "--out", ""},
		{"lint", "--config", "", "rules"},
		{"lint", "--timeout", "-1s", "--prometheus", "http://127.0.0.1:9", "rules"},
		{"lint", "--format", "xml"},
		{"lint", "--fail-on", "loud"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code := -1
			cli.OsExiter = func(c int) {
				if code == -1 {
					code = c
				}
			}
			var stderr bytes.Buffer
			app := NewApp(Config{Name: "team-alerts", Outputs: []Output{{Spec: rules.Spec(rules.Production)}}})
			app.Writer, app.ErrWriter = io.Discard, &stderr
			cli.ErrWriter = &stderr
			app.Run(append([]string{"team-alerts"}, args...))
			if code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "team-alerts") {
				t.Errorf("the error does not name the wrapper: %q", stderr.String())
			}
		})
	}
}

// TestBuildRefusesAProjectsOwnFolder runs `promgen build --out .` in a
// project: its files are named, and none is changed or removed.
func TestBuildRefusesAProjectsOwnFolder(t *testing.T) {
	dir := workdir(t)
	mine := map[string]string{"go.mod": "module example.com/team\n", "README.md": "# team\n"}
	for p, c := range mine {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := run(t, gateway(), dir, "build", "--out", ".")
	if err == nil {
		t.Fatalf("build --out . succeeded in a project:\n%s", out)
	}
	for _, want := range []string{"promgen did not write", "README.md", "compose/docker-compose.yml", "go.mod"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
	for p, c := range mine {
		if b, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(b) != c {
			t.Errorf("%s changed (%v): %q", p, err, b)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "rules")); err == nil {
		t.Error("the refused build wrote rules/")
	}
}

// TestBuildRefusesARepositoryRoot runs `promgen build --out ..` from a
// folder of a real git repository, whose root that is: the refusal names
// the repository's files, and git finds nothing changed, added or removed.
func TestBuildRefusesARepositoryRoot(t *testing.T) {
	repo := workdir(t)
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if err := os.WriteFile(filepath.Join(repo, "README.md"), []byte("# team\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(repo, "alerting")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-qm", "team")
	out, err := run(t, gateway(), sub, "build", "--compose-base", "../compose/docker-compose.yml", "--out", "..")
	if err == nil {
		t.Fatalf("build --out at the repository root succeeded:\n%s", out)
	}
	for _, want := range []string{"promgen did not write", "README.md", "compose/docker-compose.yml", ".git/"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
	if status := git("status", "--porcelain", "--untracked-files=all"); status != "" {
		t.Errorf("the refused build changed the repository:\n%s", status)
	}
}
