//go:build unix

package generate

import "syscall"

// openFlags open a file under the output folder for build --check without
// following a symlink put there since the walk saw it, and without waiting
// on a FIFO: the walk already refuses both, these close the gap between
// the walk and the open.
const openFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK
