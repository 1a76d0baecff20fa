package generate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/sre-tools/promgen/internal/parallel"
)

// Manifest is the file in the output folder that lists, one a line, every
// path promgen wrote there: what the next build may replace or remove.
const Manifest = ".promgen-manifest"

// rename is os.Rename; tests make it fail as it does on a mount point.
var rename = os.Rename

// Write replaces the content of root with exactly files and a Manifest of
// them. root must hold nothing but what promgen wrote before (listed in its
// manifest, opening with Header, or the very bytes this build writes there):
// anything else is refused and nothing changes. Everything is written and
// fsynced in a fresh sibling folder first and swapped in by rename, so a
// failure at any point leaves root as it was; when root cannot be renamed
// (a mount point), or is the working folder, the files are swapped in one
// by one inside it instead. A
// symlinked root keeps its link: its target is written. Builds into one
// folder take turns on a lock of its parent.
func Write(root string, files Files) error {
	root, err := resolve(root)
	if err != nil {
		return err
	}
	parent := filepath.Dir(root)
	if err := os.MkdirAll(parent, 0o777); err != nil {
		return err
	}
	unlock, err := lock(parent)
	if err != nil {
		return fmt.Errorf("lock %s against other builds writing beside it: %w", parent, err)
	}
	defer unlock()
	if fi, err := os.Stat(root); err == nil && !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", root)
	}
	files = withManifest(files)
	if err := removeLeftovers(root); err != nil {
		return err
	}
	if err := checkOwned(root, files); err != nil {
		return err
	}
	if wd, err := os.Getwd(); err == nil && wd == root {
		// Renamed, the folder would leave the shell that ran the build
		// in the removed old one.
		return writeInside(root, files)
	}
	err = swap(root, files)
	if errors.Is(err, errCannotRename) {
		return writeInside(root, files)
	}
	return err
}

// errCannotRename marks a root that stays where it is: a mount point
// (EBUSY) or a folder on another file system than its parent (EXDEV).
var errCannotRename = errors.New("the folder cannot be renamed")

// resolve makes root absolute and, when it is a symlink, its target: the
// link stays, and what it points to is the output.
func resolve(root string) (string, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	fi, err := os.Lstat(root)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return root, nil
	}
	target, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("resolve the symlink %s: %w", root, err)
	}
	return target, nil
}

// swap writes files to a sibling of root and renames it into root's place.
func swap(root string, files Files) (err error) {
	parent := filepath.Dir(root)
	tmp, err := mkdirTemp(parent, tempPrefix(root))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := writeAll(tmp, files); err != nil {
		return err
	}
	old := ""
	if _, err := os.Lstat(root); err == nil {
		old = tmp + ".old"
		if err := rename(root, old); err != nil {
			if errors.Is(err, syscall.EBUSY) || errors.Is(err, syscall.EXDEV) {
				return fmt.Errorf("move %s aside: %w: %w", root, errCannotRename, err)
			}
			return fmt.Errorf("move %s aside: %w", root, err)
		}
	}
	if err := rename(tmp, root); err != nil {
		if old != "" {
			if rerr := rename(old, root); rerr != nil {
				return errors.Join(err, fmt.Errorf("restore %s from %s: %w", root, old, rerr))
			}
		}
		return fmt.Errorf("swap in %s: %w", root, err)
	}
	if err := syncDir(parent); err != nil {
		return err
	}
	if old != "" {
		return removeAll(old)
	}
	return nil
}

// writeInside swaps files into root one by one, for a root that cannot be
// renamed: written and fsynced in a hidden folder inside root first, so
// the renames stay on root's file system. Not atomic as a whole: while it
// runs, the manifest lists old and new files, so a build cut short leaves a
// folder the next build still owns.
func writeInside(root string, files Files) error {
	tmp, err := mkdirTemp(root, insidePrefix)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := writeAll(tmp, files); err != nil {
		return err
	}
	var stale []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == tmp {
			return fs.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if _, ok := files[filepath.ToSlash(rel)]; !ok {
			stale = append(stale, rel)
		}
		return nil
	})
	if err != nil {
		return err
	}
	both := Files{}
	for p := range files {
		both[p] = nil
	}
	for _, p := range stale {
		both[filepath.ToSlash(p)] = nil
	}
	if err := writeSynced(filepath.Join(root, Manifest), withManifest(both)[Manifest]); err != nil {
		return err
	}
	for _, p := range stale {
		if err := os.Remove(filepath.Join(root, p)); err != nil {
			return err
		}
		// Folders the stale files leave empty go too; a folder still
		// holding something refuses, which ends the climb.
		for d := filepath.Dir(p); d != "."; d = filepath.Dir(d) {
			if os.Remove(filepath.Join(root, d)) != nil {
				break
			}
		}
	}
	dirs := map[string]bool{}
	for _, p := range files.Paths() {
		if p == Manifest {
			continue
		}
		dst := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
			return err
		}
		if err := rename(filepath.Join(tmp, filepath.FromSlash(p)), dst); err != nil {
			return err
		}
		dirs[filepath.Dir(dst)] = true
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	if err := rename(filepath.Join(tmp, Manifest), filepath.Join(root, Manifest)); err != nil {
		return err
	}
	return syncDir(root)
}

// insidePrefix names writeInside's folder inside the output.
const insidePrefix = ".promgen.new-"

// tempPrefix names swap's sibling folders of root.
func tempPrefix(root string) string { return "." + filepath.Base(root) + ".new-" }

// removeLeftovers removes what a build killed before it cleaned up left
// beside root and inside it; the lock is held, so no build is using them.
func removeLeftovers(root string) error {
	for _, dir := range []struct{ in, prefix string }{{filepath.Dir(root), tempPrefix(root)}, {root, insidePrefix}} {
		entries, err := os.ReadDir(dir.in)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), dir.prefix) {
				if err := os.RemoveAll(filepath.Join(dir.in, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// mkdirTemp is os.MkdirTemp with the mode the umask leaves of 0777, as
// every folder promgen writes: MkdirTemp's is always 0700.
func mkdirTemp(dir, prefix string) (string, error) {
	for range 100 {
		p := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		err := os.Mkdir(p, 0o777)
		if !errors.Is(err, fs.ErrExist) {
			return p, err
		}
	}
	return "", fmt.Errorf("create a folder named %s* in %s: every name tried exists", prefix, dir)
}

// withManifest is files and the Manifest listing them.
func withManifest(files Files) Files {
	out := make(Files, len(files)+1)
	var b strings.Builder
	b.WriteString(Header)
	b.WriteString("# The files promgen wrote here, which the next build may replace or remove.\n")
	for _, p := range files.Paths() {
		if p == Manifest {
			continue
		}
		out[p] = files[p]
		b.WriteString(p)
		b.WriteByte('\n')
	}
	out[Manifest] = []byte(b.String())
	return out
}

// checkOwned refuses a root holding anything promgen did not write: a path
// its manifest lists, a regular file opening with Header, or one holding
// the very bytes files has for it (a folder built before the manifest,
// whose dashboards carry no header).
func checkOwned(root string, files Files) error {
	listed := map[string]bool{}
	if b, _, err := readRegular(filepath.Join(root, Manifest)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if line != "" && !strings.HasPrefix(line, "#") {
				listed[line] = true
			}
		}
	}
	// A top-level folder promgen neither writes nor wrote into (a
	// repository's .git) is named once, not by its first files.
	owned := map[string]bool{}
	for p := range files {
		owned[topFolder(p)] = true
	}
	for p := range listed {
		owned[topFolder(p)] = true
	}
	var foreign []string
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
		if listed[rel] && d.Type().IsRegular() {
			return nil
		}
		if d.Type().IsRegular() {
			b, mode, err := readRegular(p)
			if err != nil {
				return err
			}
			want, produced := files[rel]
			if mode.IsRegular() && (bytes.HasPrefix(b, []byte(Header)) || produced && bytes.Equal(b, want)) {
				owned[topFolder(rel)] = true
				return nil
			}
		}
		foreign = append(foreign, rel)
		return nil
	})
	if err != nil {
		return err
	}
	if len(foreign) == 0 {
		return nil
	}
	var shown []string
	for _, rel := range foreign {
		if top := topFolder(rel); top != "" && !owned[top] {
			rel = top + "/"
		}
		if !slices.Contains(shown, rel) {
			shown = append(shown, rel)
		}
	}
	foreign = shown
	sort.Strings(foreign)
	named := foreign
	if len(named) > 5 {
		named = named[:5]
	}
	more := ""
	if n := len(foreign) - len(named); n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	return fmt.Errorf("%s holds files promgen did not write: %s%s; a build replaces everything in its output folder, so nothing was changed: move them away or choose an empty or new folder",
		root, strings.Join(named, ", "), more)
}

// topFolder is the first folder of a slash-separated relative path, empty
// for a file at the top.
func topFolder(rel string) string {
	top, _, ok := strings.Cut(rel, "/")
	if !ok {
		return ""
	}
	return top
}

// writeAll writes files under dir: the folders first, then the files on
// every core, each fsynced, then the folders fsynced, so the swap that
// follows never publishes a file whose bytes a crash could lose. A build
// of 1,000 services writes 4,000 files, and the system calls were a tenth
// of its CPU on one core.
func writeAll(dir string, files Files) error {
	paths := files.Paths()
	made := map[string]bool{}
	dirs := []string{dir}
	for _, p := range paths {
		if d := path.Dir(p); !made[d] {
			made[d] = true
			full := filepath.Join(dir, filepath.FromSlash(d))
			if err := os.MkdirAll(full, 0o777); err != nil {
				return err
			}
			if d != "." {
				dirs = append(dirs, full)
			}
		}
	}
	errs := make([]error, len(paths))
	parallel.Each(len(paths), func(i int) {
		errs[i] = writeSynced(filepath.Join(dir, filepath.FromSlash(paths[i])), files[paths[i]])
	})
	if err := firstError(errs); err != nil {
		return err
	}
	// A folder made by MkdirAll between dir and a file's own folder
	// (kubernetes/ of kubernetes/rules/) is synced by its child's entry
	// in it only once it is synced itself.
	for _, p := range paths {
		for d := path.Dir(path.Dir(p)); d != "." && !made[d]; d = path.Dir(d) {
			made[d] = true
			dirs = append(dirs, filepath.Join(dir, filepath.FromSlash(d)))
		}
	}
	errs = make([]error, len(dirs))
	parallel.Each(len(dirs), func(i int) { errs[i] = syncDir(dirs[i]) })
	return firstError(errs)
}

// writeSynced writes a new file with the mode the umask leaves of 0666 and
// fsyncs it.
func writeSynced(p string, b []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir fsyncs a folder, so the names written or renamed in it last.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
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
	root, err := resolve(root)
	if err != nil {
		return "", err
	}
	files = withManifest(files)
	onDisk := Files{}
	odd := map[string]fs.FileMode{} // entries that are not regular files, by path
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
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
