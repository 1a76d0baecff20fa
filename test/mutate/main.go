// Command mutate plants each mutation of mutations.go, one at a time, in a
// scratch copy of the tree and runs the tests the mutation names: each must
// make some test fail. It reports every mutation with the tests that
// caught it, and exits non-zero when one survives, no longer applies, or
// does not compile (a mutation the compiler rejects proves nothing about
// the tests).
//
//	go run ./test/mutate                # every mutation (make mutate)
//	go run ./test/mutate -run settle    # those whose name matches
//	go run ./test/mutate -list          # list them
//
// It needs no Docker; a mutation whose tests need promtool needs it as
// go test does ($PROMTOOL, PATH or the tools cache).
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// mutation is one plausible bug.
type mutation struct {
	// Name says, as a sentence, what the bug does.
	Name string
	// File is the path, from the repository root, of the file it is planted in.
	File string
	// Original is the exact text replaced; it must occur exactly once in File.
	Original string
	// Mutant replaces it.
	Mutant string
	// Packages are the go test packages run against it, e.g. ./internal/exporter/cache.
	Packages []string
	// Run is go test's -run pattern, top-level test names only (no '/'):
	// the tests expected to catch it.
	Run string
	// Regenerate rebuilds generated/ and every example's from the mutated
	// spec before the tests run, as `make generate` would, so the tests
	// that read the committed output (the scenario suite) meet the mutant.
	// A build that refuses the mutant has caught it.
	Regenerate bool
}

// outcome is what running one mutation's tests found.
type outcome struct {
	caught   []string // leaf tests that failed
	problem  string   // the mutation itself is broken: not applicable, not compiling
	duration time.Duration
}

func main() {
	list := flag.Bool("list", false, "list the mutations and exit")
	only := flag.String("run", "", "run only the mutations whose name matches this regular expression")
	timeout := flag.Duration("timeout", 5*time.Minute, "go test -timeout of each mutation's run")
	flag.Parse()
	if err := run(*list, *only, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

func run(list bool, only string, timeout time.Duration) error {
	selected := mutations
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			return fmt.Errorf("-run: %w", err)
		}
		selected = slices.DeleteFunc(slices.Clone(mutations), func(m mutation) bool { return !re.MatchString(m.Name) })
	}
	if list {
		for i, m := range selected {
			fmt.Printf("%2d. %s\n    %s; go test -run '%s' %s\n", i+1, m.Name, m.File, m.Run, strings.Join(m.Packages, " "))
		}
		return nil
	}
	if len(selected) == 0 {
		return errors.New("no mutation selected")
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	// Every mutation must apply to the tree as it is, before any time is
	// spent on tests.
	var stale []string
	for _, m := range selected {
		if err := m.check(root); err != nil {
			stale = append(stale, err.Error())
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("mutations that no longer apply (update test/mutate/mutations.go):\n  %s", strings.Join(stale, "\n  "))
	}

	scratch, err := os.MkdirTemp("", "promgen-mutate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	if err := copyTree(root, scratch); err != nil {
		return fmt.Errorf("copy the tree to %s: %w", scratch, err)
	}

	// The tests must pass unmutated, or a failure catches nothing.
	var pkgs, runs []string
	for _, m := range selected {
		for _, p := range m.Packages {
			if !slices.Contains(pkgs, p) {
				pkgs = append(pkgs, p)
			}
		}
		if r := "(" + m.Run + ")"; !slices.Contains(runs, r) {
			runs = append(runs, r)
		}
	}
	start := time.Now()
	fmt.Printf("mutate: %d mutations; the unmutated tree first: go test -run '%s' %s\n", len(selected), strings.Join(runs, "|"), strings.Join(pkgs, " "))
	if out, err := goTest(scratch, strings.Join(runs, "|"), pkgs, timeout); err != nil {
		return fmt.Errorf("the tests fail on the unmutated tree, so no mutation can be judged: %v\n%s", err, out)
	}
	fmt.Printf("mutate: the unmutated tree passes (%s)\n\n", time.Since(start).Round(time.Second))

	var survived, broken int
	for i, m := range selected {
		o := m.try(scratch, timeout)
		fmt.Printf("%2d. %s\n    %s, go test -run '%s' %s (%s)\n", i+1, m.Name, m.File, m.Run, strings.Join(m.Packages, " "), o.duration.Round(100*time.Millisecond))
		switch {
		case o.problem != "":
			broken++
			fmt.Printf("    BROKEN: %s\n", o.problem)
		case len(o.caught) == 0:
			survived++
			fmt.Printf("    SURVIVED: every test passed with the mutation in place\n")
		default:
			shown := o.caught
			if len(shown) > 3 {
				shown = append(slices.Clone(shown[:3]), fmt.Sprintf("and %d more", len(o.caught)-3))
			}
			fmt.Printf("    caught by %s\n", strings.Join(shown, ", "))
		}
	}
	fmt.Printf("\nmutate: %d caught, %d survived, %d broken, of %d, in %s\n", len(selected)-survived-broken, survived, broken, len(selected), time.Since(start).Round(time.Second))
	if survived+broken > 0 {
		return fmt.Errorf("%d mutations survived and %d are broken", survived, broken)
	}
	return nil
}

// orProblem keeps o when the build refused the mutant with an error of
// its own, and turns it into a problem when the build could not run.
func (o outcome) orProblem(err error, out []byte) outcome {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		o.caught, o.problem = nil, err.Error()
	}
	return o
}

// regenerate moves the committed output of the gateway's spec and every
// example's aside and builds it anew from the tree in dir; restore puts
// the committed output back.
func regenerate(dir string) (restore func(), out []byte, err error) {
	examples, _ := filepath.Glob(filepath.Join(dir, "examples", "*", "main.go"))
	// Each build: the folder it runs from, its main, its output.
	builds := [][]string{{".", "./cmd/promgen", "generated"}}
	for _, e := range examples {
		name := filepath.Base(filepath.Dir(e))
		// The examples are a module of their own, run from its folder.
		builds = append(builds, []string{"examples", "./" + name, filepath.Join("examples", name, "generated")})
	}
	saved, err := os.MkdirTemp("", "promgen-mutate-generated-")
	if err != nil {
		return func() {}, nil, err
	}
	var moved []string
	restore = func() {
		for i, rel := range moved {
			os.RemoveAll(filepath.Join(dir, rel))
			os.Rename(filepath.Join(saved, fmt.Sprint(i)), filepath.Join(dir, rel))
		}
		os.RemoveAll(saved)
	}
	for _, b := range builds {
		if err := os.Rename(filepath.Join(dir, b[2]), filepath.Join(saved, fmt.Sprint(len(moved)))); err != nil {
			return restore, nil, err
		}
		moved = append(moved, b[2])
		cmd := exec.Command("go", "run", b[1], "build")
		cmd.Dir = filepath.Join(dir, b[0])
		if out, err := cmd.CombinedOutput(); err != nil {
			return restore, out, err
		}
	}
	return restore, nil, nil
}

// check reports whether m applies to the tree at root.
func (m mutation) check(root string) error {
	b, err := os.ReadFile(filepath.Join(root, m.File))
	if err != nil {
		return fmt.Errorf("%q: %w", m.Name, err)
	}
	if n := bytes.Count(b, []byte(m.Original)); n != 1 {
		return fmt.Errorf("%q: %s holds its original %d times, want once: %q", m.Name, m.File, n, m.Original)
	}
	if m.Original == m.Mutant {
		return fmt.Errorf("%q: the mutant is the original", m.Name)
	}
	if len(m.Packages) == 0 || m.Run == "" || strings.Contains(m.Run, "/") {
		return fmt.Errorf("%q: name its packages and a -run pattern of top-level tests", m.Name)
	}
	return nil
}

// try plants m in the scratch tree, runs its tests and restores the file.
func (m mutation) try(scratch string, timeout time.Duration) outcome {
	start := time.Now()
	path := filepath.Join(scratch, m.File)
	orig, err := os.ReadFile(path)
	if err != nil {
		return outcome{problem: err.Error()}
	}
	defer os.WriteFile(path, orig, 0o644)
	if err := os.WriteFile(path, bytes.Replace(orig, []byte(m.Original), []byte(m.Mutant), 1), 0o644); err != nil {
		return outcome{problem: err.Error()}
	}
	if m.Regenerate {
		restore, out, err := regenerate(scratch)
		defer restore()
		if err != nil {
			return outcome{caught: []string{"promgen build"}, duration: time.Since(start), problem: ""}.orProblem(err, out)
		}
	}
	out, err := goTest(scratch, m.Run, m.Packages, timeout)
	o := outcome{duration: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case !errors.As(err, &exit):
		o.problem = err.Error()
	case bytes.Contains(out, []byte("[build failed]")) || bytes.Contains(out, []byte("[setup failed]")):
		o.problem = "it does not compile, so it proves nothing about the tests:\n" + indent(out)
	default:
		o.caught = failed(out)
		if len(o.caught) == 0 {
			o.problem = "go test failed without a failing test:\n" + indent(out)
		}
	}
	return o
}

// goTest runs go test in dir and returns its combined output.
func goTest(dir, run string, pkgs []string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+time.Minute)
	defer cancel()
	args := append([]string{"test", "-count=1", "-timeout", timeout.String(), "-run", run}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	return cmd.CombinedOutput()
}

var failLine = regexp.MustCompile(`^\s*--- FAIL: (\S+)`)

// failed lists the failing tests of go test's output that have no failing
// subtest: the ones that name what broke.
func failed(out []byte) []string {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := failLine.FindStringSubmatch(sc.Text()); m != nil && !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool {
		return slices.ContainsFunc(names, func(o string) bool { return strings.HasPrefix(o, n+"/") })
	})
}

func indent(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 30 {
		lines = append(lines[:30], "...")
	}
	return "      " + strings.Join(lines, "\n      ")
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the promgen module")
	}
	return filepath.Dir(mod), nil
}

// copyTree copies the working tree at root, as it is (uncommitted changes
// included), to dst: the files git tracks or would track, so build output
// and caches stay behind. The copy is no git repository.
func copyTree(root, dst string) error {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if rel == "" {
			continue
		}
		if err := copyFile(filepath.Join(root, rel), filepath.Join(dst, rel)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted in the working tree
			}
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil || fi.IsDir() {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
