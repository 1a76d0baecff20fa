package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// faultKind names one of the runbook's failure modes.
type faultKind string

const (
	faultLeak      faultKind = "leak"      // leak:<MiB per second>, until the OOM killer steps in
	faultAlloc     faultKind = "alloc"     // alloc:<fraction of the memory limit>, then hold it
	faultHold      faultKind = "hold"      // hold:<MiB>, allocated at once and held, with or without a limit
	faultExit      faultKind = "exit"      // exit:<code>
	faultSignal    faultKind = "signal"    // signal:<TERM|KILL|SEGV|...>, a real signal death
	faultUnhealthy faultKind = "unhealthy" // /health answers 503 from now on
	faultErrors    faultKind = "errors"    // errors:<share>, /predict answers 500 to that share of requests
)

// fault is one parsed fault switch.
type fault struct {
	kind  faultKind
	rate  float64 // MiB per second, for leak
	mib   int     // for hold
	ratio float64 // of the memory limit, for alloc; of the requests, for errors
	code  int     // for exit
	sig   syscall.Signal
	after time.Duration // delay before the fault hits, e.g. exit:1@2s
}

var signals = map[string]syscall.Signal{
	"ABRT": syscall.SIGABRT, "BUS": syscall.SIGBUS, "HUP": syscall.SIGHUP, "INT": syscall.SIGINT,
	"KILL": syscall.SIGKILL, "QUIT": syscall.SIGQUIT, "SEGV": syscall.SIGSEGV, "TERM": syscall.SIGTERM,
}

// parseFault reads the syntax shared by /admin/fault?do= and the sticky file:
// leak:50, alloc:0.9, hold:24, exit:1, signal:SEGV, unhealthy, each optionally delayed
// by @<duration>. A sticky exit:1@2s is a realistic crash loop: the process
// runs for two seconds, as if loading a model, then fails again.
func parseFault(s string) (fault, error) {
	spec, delay, delayed := strings.Cut(strings.TrimSpace(s), "@")
	kind, arg, _ := strings.Cut(spec, ":")
	f := fault{kind: faultKind(kind)}
	var err error
	if delayed {
		if f.after, err = time.ParseDuration(delay); err != nil || f.after <= 0 {
			return fault{}, fmt.Errorf("fault %q: want a delay > 0 after @, like @2s", s)
		}
	}
	switch f.kind {
	case faultLeak:
		f.rate, err = strconv.ParseFloat(arg, 64)
		if err == nil && f.rate <= 0 {
			err = errors.New("want a rate > 0 in MiB per second")
		}
	case faultAlloc:
		f.ratio, err = strconv.ParseFloat(arg, 64)
		if err == nil && (f.ratio <= 0 || f.ratio > 1) {
			err = errors.New("want a fraction of the memory limit in (0, 1]")
		}
	case faultHold:
		f.mib, err = strconv.Atoi(arg)
		if err == nil && f.mib <= 0 {
			err = errors.New("want a size > 0 in MiB")
		}
	case faultExit:
		f.code, err = strconv.Atoi(arg)
		if err == nil && (f.code < 0 || f.code > 255) {
			err = errors.New("want an exit code in [0, 255]")
		}
	case faultSignal:
		var ok bool
		if f.sig, ok = signals[strings.TrimPrefix(strings.ToUpper(arg), "SIG")]; !ok {
			err = fmt.Errorf("unknown signal %q", arg)
		}
	case faultUnhealthy:
		if arg != "" {
			err = errors.New("takes no argument")
		}
	case faultErrors:
		f.ratio, err = strconv.ParseFloat(arg, 64)
		if err == nil && (f.ratio < 0 || f.ratio > 1) {
			err = errors.New("want a share of the requests in [0, 1]")
		}
	default:
		return fault{}, fmt.Errorf("fault %q: want leak:<MiB/s>, alloc:<fraction>, hold:<MiB>, exit:<code>, signal:<name>, unhealthy or errors:<share>", s)
	}
	if err != nil {
		return fault{}, fmt.Errorf("fault %q: %w", s, err)
	}
	return f, nil
}

func (f fault) String() string {
	if f.after > 0 {
		after := f.after
		f.after = 0
		return f.String() + "@" + after.String()
	}
	switch f.kind {
	case faultLeak:
		return "leak:" + strconv.FormatFloat(f.rate, 'g', -1, 64)
	case faultAlloc:
		return "alloc:" + strconv.FormatFloat(f.ratio, 'g', -1, 64)
	case faultErrors:
		return "errors:" + strconv.FormatFloat(f.ratio, 'g', -1, 64)
	case faultHold:
		return "hold:" + strconv.Itoa(f.mib)
	case faultExit:
		return "exit:" + strconv.Itoa(f.code)
	case faultSignal:
		for name, sig := range signals {
			if sig == f.sig {
				return "signal:" + name
			}
		}
	}
	return string(f.kind)
}

// faults carries out faults and keeps what they hold: leaked memory must stay
// referenced, or the garbage collector would quietly undo the leak.
type faults struct {
	stateDir string
	log      *slog.Logger
	die      func(syscall.Signal) // ends the process by a signal; faked in tests
	exit     func(int)            // ends the process with a code; faked in tests
	memory   func() (memoryStats, error)
	stop     <-chan struct{} // ends a leak; nil (never) outside tests

	mu        sync.Mutex
	held      [][]byte
	unhealthy bool
	// errorShare of /predict requests fail; failed/served count them, so
	// the share is exact rather than random.
	errorShare     float64
	failed, served int
}

// fail reports whether this /predict request is one of the share that
// fails: the first request that would put the failed count below the share.
func (fl *faults) fail() bool {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.served++
	if float64(fl.failed) < fl.errorShare*float64(fl.served) {
		fl.failed++
		return true
	}
	return false
}

func (fl *faults) healthy() bool {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return !fl.unhealthy
}

func (fl *faults) heldBytes() int {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	n := 0
	for _, b := range fl.held {
		n += len(b)
	}
	return n
}

func (fl *faults) apply(f fault) error {
	if f.after > 0 {
		go func(f fault) {
			time.Sleep(f.after)
			f.after = 0
			if err := fl.apply(f); err != nil {
				fl.log.Error("fault failed", "fault", f.String(), "err", err)
			}
		}(f)
		return nil
	}
	switch f.kind {
	case faultLeak:
		go fl.leak(f.rate)
	case faultAlloc:
		return fl.alloc(f.ratio)
	case faultHold:
		fl.hold(f.mib << 20)
	case faultExit:
		fl.exit(f.code)
	case faultSignal:
		fl.die(f.sig)
	case faultUnhealthy:
		fl.mu.Lock()
		fl.unhealthy = true
		fl.mu.Unlock()
	case faultErrors:
		fl.mu.Lock()
		fl.errorShare, fl.failed, fl.served = f.ratio, 0, 0
		fl.mu.Unlock()
	}
	return nil
}

const leakTick = 100 * time.Millisecond

func (fl *faults) leak(mibPerSec float64) {
	chunk := int(mibPerSec * (1 << 20) * leakTick.Seconds())
	t := time.NewTicker(leakTick)
	defer t.Stop()
	for {
		select {
		case <-fl.stop:
			return
		case <-t.C:
			fl.hold(chunk)
		}
	}
}

// alloc grows the working set to ratio of the memory limit, counting what
// the process already uses, so the memory alerts see the ratio asked for.
func (fl *faults) alloc(ratio float64) error {
	m, err := fl.memory()
	if err != nil {
		return fmt.Errorf("alloc: %w", err)
	}
	if m.limit == 0 {
		return errors.New("alloc: the container has no memory limit")
	}
	want := int64(ratio*float64(m.limit)) - int64(m.workingSet)
	if want <= 0 {
		return nil
	}
	fl.hold(int(want))
	return nil
}

// hold allocates n bytes and writes every page so they count as resident.
func (fl *faults) hold(n int) {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	fl.mu.Lock()
	fl.held = append(fl.held, b)
	fl.mu.Unlock()
}

func (fl *faults) path() string { return filepath.Join(fl.stateDir, "fault") }

// persist records f so that replay arms it again after a restart. A
// container's writable layer survives restarts but not recreation, so
// `docker compose up --force-recreate` is the cure, as it is for a bad deploy.
func (fl *faults) persist(f fault) error {
	if err := os.MkdirAll(fl.stateDir, 0o755); err != nil {
		return fmt.Errorf("sticky fault: %w", err)
	}
	if err := os.WriteFile(fl.path(), []byte(f.String()+"\n"), 0o644); err != nil {
		return fmt.Errorf("sticky fault: %w", err)
	}
	return nil
}

// replay applies the sticky fault, if one was recorded.
func (fl *faults) replay() error {
	b, err := os.ReadFile(fl.path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	f, err := parseFault(string(b))
	if err != nil {
		return fmt.Errorf("%s: %w", fl.path(), err)
	}
	fl.log.Warn("replaying sticky fault", "fault", f.String())
	return fl.apply(f)
}
