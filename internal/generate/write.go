package generate

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
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
	for _, p := range files.Paths() {
		dst := filepath.Join(tmp, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, files[p], 0o644); err != nil {
			return err
		}
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
		return os.RemoveAll(old)
	}
	return nil
}

// Diff returns a unified diff from what is under root to files, empty when
// they agree. Files under root that the build would not produce show as
// removed.
func Diff(root string, files Files) (string, error) {
	onDisk := Files{}
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
		b, err := os.ReadFile(p)
		onDisk[filepath.ToSlash(rel)] = b
		return err
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
	for _, p := range all.Paths() {
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
