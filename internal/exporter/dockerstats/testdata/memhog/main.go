// Command memhog holds a given amount of memory resident so the Docker stats
// tests have a container whose working set they know. It is built static
// (CGO_ENABLED=0) and run in a FROM scratch image, since no registry is
// reachable from the test machines.
//
// Usage: memhog MiB
//
// It allocates MiB mebibytes, writes to every page so the kernel charges them
// to the container's cgroup, prints "ready" and sleeps until killed.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: memhog MiB")
		os.Exit(2)
	}
	mib, err := strconv.Atoi(os.Args[1])
	if err != nil || mib < 0 {
		fmt.Fprintf(os.Stderr, "memhog: bad size %q\n", os.Args[1])
		os.Exit(2)
	}
	buf := make([]byte, mib<<20)
	// Untouched pages are never charged; one write per page makes them resident.
	for i := 0; i < len(buf); i += os.Getpagesize() {
		buf[i] = 1
	}
	fmt.Println("ready")
	for {
		time.Sleep(time.Hour)
		runtime.KeepAlive(buf)
	}
}
