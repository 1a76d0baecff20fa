//go:build unix

package generate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// entries names what is in dir, for a message.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestWriteReplacesOnlyWhatPromgenWrote points the output at folders
// holding what a user keeps there and at ones promgen built.
func TestWriteReplacesOnlyWhatPromgenWrote(t *testing.T) {
	files := Files{"rules/a.rules.yml": []byte(Header + "groups: []\n"), "grafana/a.json": []byte("{}\n")}
	cases := []struct {
		name    string
		before  map[string]string // path: content, under the output folder
		refused []string          // the paths the error must name, or none
	}{
		{"a hand-written file beside generated ones is refused and kept",
			map[string]string{"rules/a.rules.yml": Header + "old\n", "rules/mine.rules.yml": "groups: []\n"},
			[]string{"rules/mine.rules.yml"}},
		{"a project's own folder is refused, its files named and its .git once",
			map[string]string{"go.mod": "module x\n", "main.go": "package main\n", "README.md": "# x\n", ".git/HEAD": "ref: refs/heads/main\n", ".git/config": "[core]\n"},
			[]string{".git/", "README.md", "go.mod", "main.go"}},
		{"a file promgen would write, but with other content and no header, is refused",
			map[string]string{"grafana/a.json": "{\"mine\": true}\n"},
			[]string{"grafana/a.json"}},
		{"an empty folder is written", map[string]string{}, nil},
		{"a folder built before the manifest, its files opening with the header or as the build writes them, is written",
			map[string]string{"rules/old.rules.yml": Header + "groups: []\n", "grafana/a.json": "{}\n"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "out")
			if err := os.MkdirAll(root, 0o755); err != nil {
				t.Fatal(err)
			}
			for p, c := range tc.before {
				full := filepath.Join(root, filepath.FromSlash(p))
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := Write(root, files)
			if tc.refused == nil {
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				if diff, err := Diff(root, files); err != nil || diff != "" {
					t.Fatalf("the folder is not the build's (%v):\n%s", err, diff)
				}
				return
			}
			if err == nil {
				t.Fatal("Write replaced a folder holding files promgen did not write")
			}
			for _, p := range tc.refused {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("the error does not name %s: %v", p, err)
				}
			}
			for p, c := range tc.before {
				b, rerr := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
				if rerr != nil || string(b) != c {
					t.Errorf("%s changed after the refusal (%v): %q", p, rerr, b)
				}
			}
			if _, serr := os.Stat(filepath.Join(root, Manifest)); serr == nil {
				t.Error("a refused build wrote its manifest")
			}
			if names := entries(t, filepath.Dir(root)); len(names) != 1 {
				t.Errorf("beside the output after a refusal: %v", names)
			}
		})
	}
}

// TestWriteRemovesTheFilesOfThePreviousBuild: what the last build wrote
// and this one does not goes, with its folder.
func TestWriteRemovesTheFilesOfThePreviousBuild(t *testing.T) {
	root := filepath.Join(t.TempDir(), "out")
	if err := Write(root, Files{"rules/a.rules.yml": []byte("a\n"), "old/b.json": []byte("{}\n")}); err != nil {
		t.Fatal(err)
	}
	now := Files{"rules/a.rules.yml": []byte("a2\n"), "rules/c.rules.yml": []byte("c\n")}
	if err := Write(root, now); err != nil {
		t.Fatalf("a folder of the previous build was refused: %v", err)
	}
	if diff, err := Diff(root, now); err != nil || diff != "" {
		t.Fatalf("the folder is not the build's (%v):\n%s", err, diff)
	}
	if _, err := os.Stat(filepath.Join(root, "old")); err == nil {
		t.Error("the previous build's folder old/ is still there")
	}
}

// TestWriteIntoAFolderThatCannotBeRenamed makes the rename of the output
// folder fail as on a mount point (EBUSY) or across file systems (EXDEV):
// the build writes inside the folder, which stays the same folder.
func TestWriteIntoAFolderThatCannotBeRenamed(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EBUSY, syscall.EXDEV} {
		t.Run(errno.Error(), func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "mnt")
			if err := Write(root, Files{"rules/a.rules.yml": []byte("a\n"), "stale/b.yml": []byte("b\n"), "rules/c.yml": []byte("c\n")}); err != nil {
				t.Fatal(err)
			}
			before, err := os.Stat(root)
			if err != nil {
				t.Fatal(err)
			}
			rename = func(from, to string) error {
				if from == root {
					return &os.LinkError{Op: "rename", Old: from, New: to, Err: errno}
				}
				return os.Rename(from, to)
			}
			defer func() { rename = os.Rename }()
			now := Files{"rules/a.rules.yml": []byte("a2\n"), "new/d.yml": []byte("d\n")}
			if err := Write(root, now); err != nil {
				t.Fatalf("Write: %v", err)
			}
			after, err := os.Stat(root)
			if err != nil {
				t.Fatal(err)
			}
			if !os.SameFile(before, after) {
				t.Error("the output folder was replaced, not written inside")
			}
			if diff, err := Diff(root, now); err != nil || diff != "" {
				t.Errorf("the folder is not the build's (%v):\n%s", err, diff)
			}
			if names := entries(t, filepath.Dir(root)); len(names) != 1 {
				t.Errorf("beside the output: %v", names)
			}
		})
	}
}

// TestWriteThroughASymlinkKeepsIt writes twice to an output folder that is
// a symlink: the link stays, and its target holds the build.
func TestWriteThroughASymlinkKeepsIt(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "real", "generated"), filepath.Join(dir, "generated")
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("real", "generated"), link); err != nil {
		t.Fatal(err)
	}
	first := Files{"rules/a.rules.yml": []byte("a\n"), "rules/b.rules.yml": []byte("b\n")}
	now := Files{"rules/a.rules.yml": []byte("a2\n")}
	for _, files := range []Files{first, now} {
		if err := Write(link, files); err != nil {
			t.Fatalf("Write: %v", err)
		}
		fi, err := os.Lstat(link)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the output is no longer a symlink (%v): %v", err, fi.Mode())
		}
		for _, root := range []string{link, target} {
			if diff, err := Diff(root, files); err != nil || diff != "" {
				t.Errorf("%s is not the build's (%v):\n%s", root, err, diff)
			}
		}
	}
}

// TestConcurrentWritesTakeTurns runs builds into one folder at once: each
// succeeds, the folder is one of them whole, and nothing is left beside it.
func TestConcurrentWritesTakeTurns(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "generated")
	// What a build killed mid-way left: the next build removes it.
	for _, p := range []string{".generated.new-1", ".generated.new-1.old"} {
		if err := os.MkdirAll(filepath.Join(parent, p, "rules"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const n = 8
	builds := make([]Files, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		builds[i] = Files{"rules/a.rules.yml": []byte(fmt.Sprintf("build %d\n", i)), fmt.Sprintf("rules/only-%d.yml", i): []byte("x\n")}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if err := Write(root, builds[i]); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent builds failed: %v", err)
	}
	if names := entries(t, parent); len(names) != 1 || names[0] != "generated" {
		t.Errorf("beside the output: %v, want only generated", names)
	}
	whole := false
	for _, files := range builds {
		if diff, err := Diff(root, files); err == nil && diff == "" {
			whole = true
		}
	}
	if !whole {
		t.Errorf("the output is no one build's: %v", entries(t, filepath.Join(root, "rules")))
	}
}

// TestABuildBehindAHungOneGivesUp: a build holding the lock for ever (hung,
// or stopped in a debugger) makes the next one give up with a message
// saying so, leaving the folder as it was, instead of waiting for ever.
func TestABuildBehindAHungOneGivesUp(t *testing.T) {
	defer func(d time.Duration) { lockWait = d }(lockWait)
	lockWait = 200 * time.Millisecond
	parent := t.TempDir()
	root := filepath.Join(parent, "generated")
	if err := Write(root, Files{"rules/a.rules.yml": []byte("first\n")}); err != nil {
		t.Fatal(err)
	}
	hung, err := lock(parent)
	if err != nil {
		t.Fatal(err)
	}
	defer hung()
	err = Write(root, Files{"rules/a.rules.yml": []byte("second\n")})
	if err == nil || !strings.Contains(err.Error(), "another promgen build") || !strings.Contains(err.Error(), parent) {
		t.Fatalf("got %v, want an error naming %s and the other build", err, parent)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "rules", "a.rules.yml")); string(b) != "first\n" {
		t.Errorf("the folder changed: %q", b)
	}
}

// TestWriteFollowsTheUmask: folders and files get what the umask leaves of
// 0777 and 0666, never a forced 0755 or 0644.
func TestWriteFollowsTheUmask(t *testing.T) {
	for _, mask := range []int{0o027, 0o002} {
		t.Run(fmt.Sprintf("umask %03o", mask), func(t *testing.T) {
			old := syscall.Umask(mask)
			defer syscall.Umask(old)
			root := filepath.Join(t.TempDir(), "out")
			if err := Write(root, Files{"rules/a.rules.yml": []byte("a\n")}); err != nil {
				t.Fatal(err)
			}
			for p, want := range map[string]os.FileMode{".": 0o777, "rules": 0o777, "rules/a.rules.yml": 0o666, Manifest: 0o666} {
				fi, err := os.Stat(filepath.Join(root, p))
				if err != nil {
					t.Fatal(err)
				}
				if got, want := fi.Mode().Perm(), want&^os.FileMode(mask); got != want {
					t.Errorf("%s: mode %v, want %v", p, got, want)
				}
			}
		})
	}
}

// BenchmarkWrite writes the output of 1,000 services (4,000 files of 2 KB)
// over the previous build's: what the fsyncs before the swap cost. The
// figure goes in docs/generate.md.
func BenchmarkWrite(b *testing.B) {
	files := Files{}
	body := []byte(Header + strings.Repeat("x", 2048-len(Header)-1) + "\n")
	for i := range 1000 {
		for _, kind := range []string{"rules/%d.rules.yml", "tests/%d.test.yml", "compose/%d.compose.yml", "grafana/%d.json"} {
			files[fmt.Sprintf(kind, i)] = body
		}
	}
	root := filepath.Join(b.TempDir(), "generated")
	for b.Loop() {
		if err := Write(root, files); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWriteIntoTheWorkingFolderKeepsIt: `--out .` in an empty folder writes
// inside it, so the shell that ran the build is not left in a removed one.
func TestWriteIntoTheWorkingFolderKeepsIt(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	before, err := os.Stat(".")
	if err != nil {
		t.Fatal(err)
	}
	files := Files{"rules/a.rules.yml": []byte("a\n")}
	if err := Write(".", files); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("the working folder was replaced by another")
	}
	if diff, err := Diff(".", files); err != nil || diff != "" {
		t.Errorf("the working folder is not the build's (%v):\n%s", err, diff)
	}
}
