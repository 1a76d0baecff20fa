// Package parallel runs independent work on every core: the build renders
// and writes each file, and lint parses each file and runs each check, as
// one task among many.
package parallel

import (
	"runtime"
	"sync"
)

// Each runs f(0) … f(n-1), started in that order, on every core, and
// returns when all are done.
func Each(n int, f func(int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
