package generate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/sre-tools/promgen/internal/parallel"
)

// Write replaces root with exactly files. Everything is written to a fresh
// sibling folder first and swapped in by rename, so a failure at any point
// leaves root as it was. root is promgen's alone: files in it that the
// build does not produce are removed.
func Write(root string, files Files) (err error) {
	root = filepath.Clean(root)
	parent := filepath.Dir(root)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(root)+".new-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := writeAll(tmp, files); err != nil {
		return err
	}
	old := ""
	if _, err := os.Stat(root); err == nil {
		old = tmp + ".old"
		if err := os.Rename(root, old); err != nil {
			return fmt.Errorf("move %s aside: %w", root, err)
		}
	}
	if err := os.Rename(tmp, root); err != nil {
		if old != "" {
			if rerr := os.Rename(old, root); rerr != nil {
				return errors.Join(err, fmt.Errorf("restore %s from %s: %w", root, old, rerr))
			}
		}
		return fmt.Errorf("swap in %s: %w", root, err)
	}
	if old != "" {
		return removeAll(old)
	}
	return nil
}

// writeAll writes files under dir: the folders first, then the files on
// every core. A build of 1,000 services writes 4,000 files, and the system
// calls were a tenth of its CPU on one core.
func writeAll(dir string, files Files) error {
	paths := files.Paths()
	made := map[string]bool{}
	for _, p := range paths {
		if d := path.Dir(p); !made[d] {
			made[d] = true
			if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755); err != nil {
				return err
			}
		}
	}
	errs := make([]error, len(paths))
	parallel.Each(len(paths), func(i int) {
		errs[i] = os.WriteFile(filepath.Join(dir, filepath.FromSlash(paths[i])), files[paths[i]], 0o644)
	})
	return firstError(errs)
}

// removeAll is os.RemoveAll, with the files of the tree removed on every
// core first.
func removeAll(root string) error {
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err == nil {
		errs := make([]error, len(paths))
		parallel.Each(len(paths), func(i int) { errs[i] = os.Remove(paths[i]) })
		err = firstError(errs)
	}
	return errors.Join(err, os.RemoveAll(root))
}

// firstError is the first error of errs by index: a full disk fails every
// file alike.
func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Diff returns a unified diff from what is under root to files, empty when
// they agree. Files under root that the build would not produce show as
// removed. Diff opens only regular files: anything else under root (a
// symlink, a FIFO, a socket, a device) is named as such, never followed or
// read, since promgen writes none and reading one could print a link's
// target (a secret) or wait on a pipe for ever.
func Diff(root string, files Files) (string, error) {
	onDisk := Files{}
	odd := map[string]fs.FileMode{} // entries that are not regular files, by path
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == root {
			return fs.SkipAll
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			odd[rel] = d.Type()
			return nil
		}
		b, mode, err := readRegular(p)
		if err != nil {
			return err
		}
		if !mode.IsRegular() {
			odd[rel] = mode.Type()
			return nil
		}
		onDisk[rel] = b
		return nil
	})
	if err != nil {
		return "", err
	}
	all := Files{}
	for p := range onDisk {
		all[p] = nil
	}
	for p := range files {
		all[p] = nil
	}
	var out strings.Builder
	for p := range odd {
		all[p] = nil
	}
	for _, p := range all.Paths() {
		if mode, ok := odd[p]; ok {
			fmt.Fprintf(&out, "%s: is %s, promgen writes regular files\n", filepath.Join(root, p), kind(mode))
			continue
		}
		have, want := onDisk[p], files[p]
		if bytes.Equal(have, want) {
			continue
		}
		from, to := filepath.Join(root, p), filepath.Join(root, p)
		if _, ok := onDisk[p]; !ok {
			from = "/dev/null"
		}
		if _, ok := files[p]; !ok {
			to = "/dev/null"
		}
		d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(string(have)), B: difflib.SplitLines(string(want)),
			FromFile: from, ToFile: to, Context: 3,
		})
		if err != nil {
			return "", err
		}
		out.WriteString(d)
	}
	return out.String(), nil
}

// readRegular reads the file at p if it is a regular file, and returns its
// mode either way: the walk saw a regular file, but one could have taken
// its place since.
func readRegular(p string) ([]byte, fs.FileMode, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|openFlags, 0)
	if err != nil {
		if fi, lerr := os.Lstat(p); lerr == nil && !fi.Mode().IsRegular() {
			return nil, fi.Mode(), nil
		}
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fi.Mode(), nil
	}
	b, err := io.ReadAll(f)
	return b, fi.Mode(), err
}

// kind names a file mode's type for a message: "a symlink".
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return "not a regular file (" + m.Type().String() + ")"
	}
}
