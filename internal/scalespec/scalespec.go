// Package scalespec is what promgen's build benchmarks share: the spec they
// build, n services with three runbook alerts each (and their tests), a
// compose fragment each over a base file that defines them, and the
// pipeline alerts, as a large team's spec would be; and the CPU time they
// report beside the wall time.
package scalespec

import (
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// New returns the spec of n services and the compose base file that
// defines each of them.
func New(n int) (spec.Spec, []byte) {
	var s spec.Spec
	s.RunbookURL = "https://runbooks.example.com/scale"
	var base strings.Builder
	base.WriteString("services:\n")
	for i := range n {
		svc := spec.Service{Name: fmt.Sprintf("svc-%04d", i), Container: spec.RunbookContainer("http://localhost:8080/health"), Scrape: spec.Scrape{Port: 8080}}
		svc.Alerts = []spec.Alert{rules.ServiceDown(svc, rules.Production), rules.HighMemoryUsage(svc, rules.Production), rules.ContainerOOMKilled(svc, rules.Production)}
		s.Services = append(s.Services, svc)
		fmt.Fprintf(&base, "  %s:\n    image: example/%s:1\n", svc.Name, svc.Name)
	}
	s.Pipeline = rules.Pipeline(s, rules.Production)
	return s, []byte(base.String())
}

// CPUTime is the user and system CPU time of this process so far: every
// goroutine's and the garbage collector's. On a machine shared with other
// jobs a build's wall time says how long it waited, its CPU time what it
// cost.
func CPUTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
