//go:build unix

package generate

import (
	"os"
	"syscall"
)

// lock takes an exclusive flock on dir, waiting for a build that holds it:
// builds into one folder swap it in turn, and no build removes another's
// temporary folder. The folder itself is locked, so nothing is left
// beside the output, and a lock dies with its process.
func lock(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
