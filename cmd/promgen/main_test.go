package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsageErrorsExitTwoFromTheBinary runs the built promgen: the exit
// status a shell sees is the process's, not what the commands package
// hands urfave/cli, so main must not turn a usage error into 1.
func TestUsageErrorsExitTwoFromTheBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "promgen")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"--nope"}, {"build", "--nope"}, {"nope"}, {"completion", "tcsh"}} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("promgen %s: %v, want exit status 2\n%s", strings.Join(args, " "), err, out)
		}
	}
}
