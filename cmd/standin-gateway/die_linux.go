package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
	"unsafe"
)

// die ends the process by sig with the signal's default action, so whatever
// waits for it (docker-init, or the engine when the gateway is PID 1) sees a
// signal death and Docker reports 128+sig: 139 for SIGSEGV, 143 for SIGTERM.
// The Go runtime keeps its own handler for SIGSEGV even after signal.Reset,
// so the default action is restored with rt_sigaction directly.
func die(sig syscall.Signal) {
	signal.Reset(sig)
	var act [4]uintptr // struct sigaction as the kernel takes it, zero: SIG_DFL, no flags, empty mask
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	_ = syscall.Kill(os.Getpid(), sig)
	// PID 1 of a PID namespace is immune to default-action signals sent from
	// inside it; compose runs the gateway under `init: true` to avoid that,
	// and without it the exit status at least carries the same number.
	time.Sleep(time.Second)
	os.Exit(128 + int(sig))
}
