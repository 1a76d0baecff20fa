//go:build !linux

package main

import (
	"os"
	"syscall"
	"time"
)

// die ends the process by sig; off Linux the runtime's own handlers may turn
// it into an exit, so the exit status carries 128+sig as a shell would report.
func die(sig syscall.Signal) {
	_ = syscall.Kill(os.Getpid(), sig)
	time.Sleep(time.Second)
	os.Exit(128 + int(sig))
}
