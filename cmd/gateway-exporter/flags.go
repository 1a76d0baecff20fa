package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/urfave/cli/v2"

	"github.com/sre-tools/promgen/internal/exporter/cache"
	"github.com/sre-tools/promgen/internal/exporter/cadvisor"
)

// checkFlags reports every flag value the exporter cannot run with, all at
// once, before anything starts: a bad value must stop it at startup with
// its flag named, not panic or fail later in a goroutine after it listens
// (and then crash-loop under its restart policy).
func checkFlags(c *cli.Context) error {
	var errs []error
	bad := func(flag string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", flag, err))
		}
	}
	var level slog.Level
	bad("log.level", level.UnmarshalText([]byte(c.String("log.level"))))
	if _, err := client.ParseHostURL(c.String("docker.host")); err != nil {
		bad("docker.host", fmt.Errorf("%q: %w", c.String("docker.host"), err))
	}
	if u := c.String("cadvisor.url"); u != "" {
		if _, err := cadvisor.New(u, time.Second); err != nil {
			bad("cadvisor.url", err)
		}
	}
	for _, flag := range []string{"cadvisor.timeout", "memory.interval", "memory.timeout"} {
		bad(flag, positive(c.Duration(flag)))
	}
	if d := c.Duration("container.retention"); d < 0 {
		bad("container.retention", fmt.Errorf("%s: must be >= 0", d))
	}
	if n := c.Int("docker.stats-concurrency"); n < 1 {
		bad("docker.stats-concurrency", fmt.Errorf("%d: must be >= 1", n))
	}
	for _, err := range cache.CheckLabels(c.StringSlice("container.labels-allowlist")) {
		bad("container.labels-allowlist", err)
	}
	addrs := c.StringSlice("web.listen-address")
	if len(addrs) == 0 {
		bad("web.listen-address", errors.New("none given"))
	}
	for _, a := range addrs {
		if strings.HasPrefix(a, "vsock://") {
			continue
		}
		_, port, err := net.SplitHostPort(a)
		if err != nil {
			bad("web.listen-address", fmt.Errorf("%q: want [host]:port: %w", a, err))
			continue
		}
		// A port number out of range, or a service name the system does
		// not know, fails only at listen, after the exporter logged its start.
		if _, err := net.LookupPort("tcp", port); err != nil {
			bad("web.listen-address", fmt.Errorf("%q: %w", a, err))
		}
	}
	if f := c.String("web.config.file"); f != "" {
		bad("web.config.file", web.Validate(f))
	}
	if p := c.String("web.telemetry-path"); !strings.HasPrefix(p, "/") {
		bad("web.telemetry-path", fmt.Errorf("%q: must start with /", p))
	}
	return errors.Join(errs...)
}

func positive(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s: must be > 0", d)
	}
	return nil
}
