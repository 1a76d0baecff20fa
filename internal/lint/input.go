package lint

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ReadInputs reads the rule files named by args: files, folders (every
// .yml and .yaml under them, recursively, hidden folders skipped) and globs
// (with ** for any depth). A folder's or glob's files that hold no rules at
// all (kustomization.yaml, other manifests) are skipped quietly, as is
// anything there that is not a regular file; a file named on its own is
// always linted.
func ReadInputs(args []string) ([]File, error) {
	var (
		files []File
		seen  = map[string]bool{} // path: whether it is among the files
	)
	// add reads path and says whether it is among the files (now or from
	// an earlier argument).
	add := func(path string, found bool) (bool, error) {
		path = filepath.Clean(path)
		if kept, ok := seen[path]; ok {
			return kept, nil
		}
		seen[path] = false
		if found {
			// Only regular files, symlinked or not: a FIFO would block the
			// read, a symlinked folder is not a file.
			if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() {
				return false, nil
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return false, err
		}
		if found && !mayHoldRules(b) {
			return false, nil
		}
		seen[path] = true
		files = append(files, File{Path: path, Content: b, Found: found})
		return true, nil
	}
	for _, arg := range args {
		if strings.ContainsAny(arg, "*?[") {
			matches, err := glob(arg)
			if err != nil {
				return nil, err
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("%s: no files match", arg)
			}
			for _, m := range matches {
				if _, err := add(m, true); err != nil {
					return nil, err
				}
			}
			continue
		}
		info, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			if _, err := add(arg, false); err != nil {
				return nil, err
			}
			continue
		}
		var found []string
		err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != arg && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && isYAML(path) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		slices.Sort(found)
		rules := 0
		for _, p := range found {
			held, err := add(p, true)
			if err != nil {
				return nil, err
			}
			if held {
				rules++
			}
		}
		// As a glob that matches nothing: a mistyped or empty folder in CI
		// must not pass for a clean lint.
		if rules == 0 {
			return nil, fmt.Errorf("%s: no rule files in this folder (.yml or .yaml files holding groups or a PrometheusRule)", arg)
		}
	}
	return files, nil
}

func isYAML(path string) bool {
	ext := filepath.Ext(path)
	return ext == ".yml" || ext == ".yaml"
}

// mayHoldRules reports whether a file found in a folder looks like rules:
// a groups key or a PrometheusRule.
func mayHoldRules(b []byte) bool {
	s := string(b)
	return strings.Contains(s, "groups:") || strings.Contains(s, "PrometheusRule")
}

// glob expands a glob with ** across folders, in lexical order.
func glob(pattern string) ([]string, error) {
	pattern = filepath.ToSlash(pattern)
	root := "."
	if i := strings.IndexAny(pattern, "*?["); i >= 0 {
		if j := strings.LastIndex(pattern[:i], "/"); j >= 0 {
			root = pattern[:j]
			if root == "" {
				root = "/"
			}
		}
	}
	if err := validGlob(pattern); err != nil {
		return nil, fmt.Errorf("%s: bad glob: %w", pattern, err)
	}
	if !strings.Contains(pattern, "/") { // the current folder only
		return filepath.Glob(pattern)
	}
	re := globRegexp(strings.TrimPrefix(pattern, "./"))
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && re.MatchString(strings.TrimPrefix(filepath.ToSlash(path), "./")) {
			out = append(out, path)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}
