//go:build unix

package generate

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockWait bounds how long a build waits for another build into the same
// folder: a build takes seconds, so one holding the lock this long is hung.
var lockWait = 2 * time.Minute

// lock takes an exclusive flock on dir, waiting up to lockWait for a build
// that holds it: builds into one folder swap it in turn, and no build
// removes another's temporary folder. The folder itself is locked, so
// nothing is left beside the output, and a lock dies with its process.
func lock(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(lockWait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EWOULDBLOCK && err != syscall.EINTR {
			break
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another promgen build has been writing beside it for over %s: is one hung? (its lock is an flock held by that process)", lockWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
