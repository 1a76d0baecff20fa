// Command gateway-exporter publishes, for every Docker container on a host,
// the answers to the runbook's triage questions: its state and health, how
// its last run ended (exit code and reason, kept after the container is
// gone), how often it restarted, and its memory against its limit.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/moby/moby/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/urfave/cli/v2"

	"github.com/sre-tools/promgen/internal/buildinfo"
	"github.com/sre-tools/promgen/internal/exporter/cache"
	"github.com/sre-tools/promgen/internal/exporter/cadvisor"
	"github.com/sre-tools/promgen/internal/exporter/docker"
	"github.com/sre-tools/promgen/internal/exporter/dockerstats"
	"github.com/sre-tools/promgen/internal/exporter/memory"
)

// defaultListenAddress is outside Prometheus' default port allocations
// (9100-9999 is fully allocated and new allocations continue above 10000);
// the Prometheus guide recommends such a port for an internal exporter.
// docs/exporter.md says more.
const defaultListenAddress = ":19818"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := newApp().RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "gateway-exporter:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	dockerHost := os.Getenv(client.EnvOverrideHost)
	if dockerHost == "" {
		dockerHost = client.DefaultDockerHost
	}
	app := &cli.App{
		Name:  "gateway-exporter",
		Usage: "export Docker container exits, restarts, health and memory for Prometheus",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "docker.host", Value: dockerHost,
				Usage: "Docker engine address (default from DOCKER_HOST); DOCKER_CERT_PATH and DOCKER_TLS_VERIFY apply as for the docker CLI"},
			&cli.StringFlag{Name: "cadvisor.url",
				Usage: "cAdvisor base URL to read container memory from (one request for all containers); empty reads Docker's stats API instead"},
			&cli.DurationFlag{Name: "cadvisor.timeout", Value: 5 * time.Second,
				Usage: "deadline of each request to cAdvisor"},
			&cli.DurationFlag{Name: "memory.interval", Value: 15 * time.Second,
				Usage: "how often container memory is read"},
			&cli.DurationFlag{Name: "memory.timeout", Value: 10 * time.Second,
				Usage: "deadline of each memory read, whichever source; a read that misses it marks the source down"},
			&cli.IntFlag{Name: "docker.stats-concurrency", Value: dockerstats.DefaultConcurrency,
				Usage: "concurrent Docker stats requests when memory comes from Docker"},
			&cli.DurationFlag{Name: "container.retention", Value: time.Hour,
				Usage: "how long a removed container's last termination and exit counters stay published"},
			&cli.StringSliceFlag{Name: "container.labels-allowlist",
				Usage: "container label keys to publish on docker_container_info, as label_<key> (repeatable); no other label or environment variable is ever published"},
			&cli.StringSliceFlag{Name: "web.listen-address", Value: cli.NewStringSlice(defaultListenAddress),
				Usage: "addresses to listen on for scrapes (repeatable)"},
			&cli.StringFlag{Name: "web.config.file",
				Usage: "exporter-toolkit web config file enabling TLS and/or basic auth (https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md)"},
			&cli.StringFlag{Name: "web.telemetry-path", Value: "/metrics",
				Usage: "path under which to expose metrics"},
			&cli.StringFlag{Name: "log.level", Value: "info",
				Usage: "log level: debug, info, warn or error"},
		},
		Action: run,
	}
	buildinfo.Apply(app)
	return app
}

func run(c *cli.Context) error {
	if err := checkFlags(c); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log.level"))); err != nil {
		return fmt.Errorf("--log.level: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	log.Info("starting gateway-exporter", "version", version.Info(), "build", version.BuildContext())

	dc, err := client.New(client.FromEnv, client.WithHost(c.String("docker.host")))
	if err != nil {
		return fmt.Errorf("--docker.host %q: %w", c.String("docker.host"), err)
	}
	defer dc.Close()

	state := cache.New(cache.Options{
		Retention: c.Duration("container.retention"),
		Labels:    c.StringSlice("container.labels-allowlist"),
		OOMGrace:  cache.DefaultOOMGrace,
	})
	src, err := memorySource(c, dc)
	if err != nil {
		return err
	}

	reg := newRegistry(state)

	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	done := make(chan struct{}, 2)
	go func() {
		docker.New(dc, state, log, docker.Options{}).Run(ctx)
		done <- struct{}{}
	}()
	go func() {
		cache.RefreshMemory(ctx, state, src, c.Duration("memory.interval"), c.Duration("memory.timeout"), log)
		done <- struct{}{}
	}()

	mux := http.NewServeMux()
	path := c.String("web.telemetry-path")
	mux.Handle(path, state.Handler(reg, log))
	if path != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "Gateway Exporter",
			Description: "Docker container exits, restarts, health and memory",
			Version:     version.Info(),
			Links:       []web.LandingLinks{{Address: path, Text: "Metrics"}},
			Profiling:   "false",
		})
		if err != nil {
			return fmt.Errorf("landing page: %w", err)
		}
		mux.Handle("/", landing)
	}
	server := newServer(mux)
	go func() {
		<-ctx.Done()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		server.Shutdown(sctx)
	}()

	addrs := c.StringSlice("web.listen-address")
	systemd := false
	configFile := c.String("web.config.file")
	err = web.ListenAndServe(server, &web.FlagConfig{WebListenAddresses: &addrs, WebSystemdSocket: &systemd, WebConfigFile: &configFile}, log)
	cancel()
	<-done
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		log.Info("shut down")
		return nil
	}
	return err
}

// newServer is the exporter's HTTP server, with every timeout set so that a
// client that sends slowly, stops reading or idles cannot hold a connection
// for good. A scrape is a GET without a body, answered from the cache in
// milliseconds; the write timeout leaves a slow reader far more than
// Prometheus waits (scrape_timeout is at most the scrape interval, 1m by
// default), and the idle timeout outlasts that interval so Prometheus
// reuses its connection. docs/security.md lists them.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
	}
}

// newRegistry holds what a scrape gathers besides the cached container
// series: the cache's own metrics, build information, Go and process metrics.
func newRegistry(state *cache.Cache) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(state, versioncollector.NewCollector("gateway_exporter"),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// memorySource picks cAdvisor when --cadvisor.url is set, else Docker's
// stats API.
func memorySource(c *cli.Context, dc *client.Client) (memory.Source, error) {
	if u := c.String("cadvisor.url"); u != "" {
		src, err := cadvisor.New(u, c.Duration("cadvisor.timeout"))
		if err != nil {
			return nil, fmt.Errorf("--cadvisor.url: %w", err)
		}
		return src, nil
	}
	return dockerstats.New(dc, c.Int("docker.stats-concurrency")), nil
}
