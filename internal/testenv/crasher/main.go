//go:build linux

// Command crasher is the project's own test workload: tests run it FROM
// scratch under Docker (with --init, so that it is not PID 1 and dies of
// real signals) to make a container end in each way the runbook tells
// apart.
//
//	crasher exit CODE          exit with CODE
//	crasher segv               die of a real SIGSEGV
//	crasher oom                allocate memory until the OOM killer strikes
//	crasher hold MIB           allocate MIB mebibytes, then sleep
//	crasher sleep [UNHEALTHY]  sleep; after the UNHEALTHY duration, turn unhealthy
//	crasher health             healthcheck: fail once turned unhealthy
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// marker is the file whose presence makes the healthcheck fail.
const marker = "/unhealthy"

func main() {
	if len(os.Args) < 2 {
		fail("usage: crasher exit|segv|oom|hold|sleep|health [ARG]")
	}
	arg := ""
	if len(os.Args) > 2 {
		arg = os.Args[2]
	}
	switch os.Args[1] {
	case "exit":
		code, err := strconv.Atoi(arg)
		if err != nil {
			fail("exit: %v", err)
		}
		os.Exit(code)
	case "segv":
		segv()
	case "oom":
		var held [][]byte
		for {
			held = append(held, touched(1<<20))
		}
	case "hold":
		mib, err := strconv.Atoi(arg)
		if err != nil {
			fail("hold: %v", err)
		}
		held := touched(mib << 20)
		forever()
		fmt.Println(len(held))
	case "sleep":
		if arg != "" {
			d, err := time.ParseDuration(arg)
			if err != nil {
				fail("sleep: %v", err)
			}
			time.Sleep(d)
			if err := os.WriteFile(marker, nil, 0o644); err != nil {
				fail("sleep: %v", err)
			}
		}
		forever()
	case "health":
		if _, err := os.Stat(marker); err == nil {
			os.Exit(1)
		}
	default:
		fail("unknown command %q", os.Args[1])
	}
}

// forever sleeps for good. (A bare select{} would not: with no other
// goroutine, the runtime reports a deadlock and exits 2.)
func forever() {
	for {
		time.Sleep(time.Hour)
	}
}

// touched returns n bytes that are really resident: every page is written.
func touched(n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 4096 {
		b[i] = 1
	}
	return b
}

// segv dies of SIGSEGV. The Go runtime handles SIGSEGV itself and ignores
// one sent by kill, so the default action is put back first with a raw
// rt_sigaction (a struct of handler, flags, restorer and mask, all zero for
// SIG_DFL) before the process signals itself.
func segv() {
	var act [4]uintptr
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGSEGV),
		uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); errno != 0 {
		fail("rt_sigaction: %v", errno)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGSEGV); err != nil {
		fail("kill: %v", err)
	}
	time.Sleep(10 * time.Second)
	fail("still alive after SIGSEGV")
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "crasher: "+format+"\n", args...)
	os.Exit(3)
}
