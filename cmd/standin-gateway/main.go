// Command standin-gateway is a small stand-in for the inference gateway that
// promgen's rules watch. It serves the real gateway's surface (/health,
// /predict, /metrics) and, on request, fails in each way the runbook lists:
// it leaks or holds memory, exits with a chosen code, dies of a signal or turns
// unhealthy. The demo stack and the end-to-end tests use it to cause real
// failures that Docker, gateway-exporter and Prometheus then observe.
//
//	standin-gateway [serve] [--fault F]...  serve HTTP (the image's default)
//	standin-gateway healthcheck             exit 0 if /health answers 200, else 1
//
// --fault arms a fault at start, in /admin/fault's syntax (exit:1,
// signal:SEGV, leak:500, hold:24, unhealthy@5s, ...), so that a container
// fails the same way from its command line alone; the exporter's tests run
// it so, on no network.
//
// The healthcheck subcommand lets a FROM scratch image, which has no curl,
// run a Docker HEALTHCHECK; invoked as curl, the binary also answers the
// runbook's own healthcheck, `curl -f http://localhost:8000/health`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if invokedAsCurl(os.Args[0]) {
		os.Exit(curl(os.Args[1:], os.Stdout, os.Stderr))
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "standin-gateway:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("standin-gateway "+cmd, flag.ContinueOnError)
	listen := fs.String("listen", envOr("STANDIN_LISTEN", ":8000"),
		"address to serve on, or for healthcheck to probe (env STANDIN_LISTEN)")
	stateDir := fs.String("state-dir", envOr("STANDIN_STATE_DIR", "/tmp/standin-gateway"),
		"where a sticky fault is kept so that it survives container restarts (env STANDIN_STATE_DIR)")
	var armed []fault
	fs.Func("fault", "arm this fault at start, as /admin/fault?do= would (repeatable)", func(s string) error {
		f, err := parseFault(s)
		armed = append(armed, f)
		return err
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch cmd {
	case "serve":
		return serve(*listen, *stateDir, armed)
	case "healthcheck":
		return healthcheck(*listen, 3*time.Second)
	default:
		return fmt.Errorf("unknown command %q (want serve or healthcheck)", cmd)
	}
}

func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

func serve(listen, stateDir string, armed []fault) error {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	g := newGateway(log, &faults{
		stateDir: stateDir, log: log, die: die, exit: os.Exit, memory: cgroupMemory("/sys/fs/cgroup"),
	})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	srv := &http.Server{Handler: g.routes(), ReadHeaderTimeout: 5 * time.Second}

	// A sticky fault armed before a restart hits again now, the way a bad
	// model file or config would: the restart policy cannot cure it.
	if err := g.faults.replay(); err != nil {
		return fmt.Errorf("replay sticky fault: %w", err)
	}
	for _, f := range armed {
		log.Warn("fault armed", "fault", f.String(), "from", "--fault")
		if err := g.faults.apply(f); err != nil {
			return fmt.Errorf("--fault %s: %w", f, err)
		}
	}

	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("serving", "listen", ln.Addr().String())

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case sig := <-term:
		// Drain requests, then die of the signal itself rather than exit 0,
		// so Docker reports 143 for SIGTERM as the runbook expects.
		log.Info("shutting down", "signal", sig.String())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("shutdown", "err", err)
		}
		die(sig.(syscall.Signal))
		return nil
	}
}

// healthcheck probes /health on the loopback interface at listen's port.
func healthcheck(listen string, timeout time.Duration) error {
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("healthcheck: listen address %q: %w", listen, err)
	}
	client := &http.Client{Timeout: timeout}
	resp, err := client.Get("http://" + net.JoinHostPort("127.0.0.1", port) + "/health")
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /health answered %s", resp.Status)
	}
	return nil
}
