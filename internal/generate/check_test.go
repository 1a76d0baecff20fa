//go:build unix

package generate

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDiffReadsOnlyRegularFiles puts what promgen never writes in its output
// folder, at a path the build produces and at one it does not, and requires
// build --check's diff to name each as not a regular file: never follow a
// symlink (it printed the target's content, a secret), never open a FIFO
// (it hung the command), never fail on a link to a folder.
func TestDiffReadsOnlyRegularFiles(t *testing.T) {
	const secret = "hunter2-SECRET-TOKEN"
	secretFile := filepath.Join(t.TempDir(), "secrets.env")
	if err := os.WriteFile(secretFile, []byte("TOKEN="+secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "inner.yml"), []byte(secret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		make func(p string) error
		want string
	}{
		{"a symlink to a secrets file is named, its content never shown",
			func(p string) error { return os.Symlink(secretFile, p) },
			"is a symlink, promgen writes regular files"},
		{"a symlink to a folder is named, not walked or read",
			func(p string) error { return os.Symlink(outside, p) },
			"is a symlink, promgen writes regular files"},
		{"a FIFO is named without being opened",
			func(p string) error { return syscall.Mkfifo(p, 0o644) },
			"is a named pipe, promgen writes regular files"},
	}
	for _, tc := range cases {
		for _, at := range []string{"rules/produced.yml", "rules/unknown.yml"} {
			t.Run(tc.name+" at "+at, func(t *testing.T) {
				root := filepath.Join(t.TempDir(), "generated")
				files := Files{"rules/produced.yml": []byte("groups: []\n"), "rules/other.yml": []byte("groups: []\n")}
				if err := Write(root, files); err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(root, filepath.FromSlash(at))
				os.Remove(p)
				if err := tc.make(p); err != nil {
					t.Fatal(err)
				}
				type result struct {
					diff string
					err  error
				}
				done := make(chan result, 1)
				go func() {
					d, err := Diff(root, files)
					done <- result{d, err}
				}()
				var r result
				select {
				case r = <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("Diff still running after 10s: it opened something that blocks")
				}
				if r.err != nil {
					t.Fatalf("Diff: %v", r.err)
				}
				if strings.Contains(r.diff, secret) {
					t.Errorf("the diff shows what the link points to:\n%s", r.diff)
				}
				if want := p + ": " + tc.want; !strings.Contains(r.diff, want) {
					t.Errorf("the diff lacks %q:\n%s", want, r.diff)
				}
				if strings.Contains(r.diff, "other.yml") {
					t.Errorf("the diff shows an unchanged file:\n%s", r.diff)
				}
			})
		}
	}
}
