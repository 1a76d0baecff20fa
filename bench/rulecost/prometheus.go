package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	promapi "github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"go.yaml.in/yaml/v2"
)

// server is a pinned Prometheus evaluating one rule set over its own copy
// of the fleet's blocks, on 127.0.0.1.
type server struct {
	cmd  *exec.Cmd
	base string
	log  *os.File
	done chan error
}

// startPrometheus links the blocks of data into dir/data (blocks are
// immutable, so one copy on disk serves every run), writes a
// prometheus.yml that loads ruleFiles every interval, and starts it.
func startPrometheus(bin, dir, data string, ruleFiles []string, interval time.Duration) (*server, error) {
	if err := linkTree(data, filepath.Join(dir, "data")); err != nil {
		return nil, err
	}
	cfg := config.Config{GlobalConfig: config.DefaultGlobalConfig, RuleFiles: ruleFiles}
	cfg.GlobalConfig.EvaluationInterval = model.Duration(interval)
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--web.enable-remote-write-receiver", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr, log: log, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	if err := s.waitReady(2 * time.Minute); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady waits, at most timeout, for /-/ready.
func (s *server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			return fmt.Errorf("prometheus exited before it was ready (%v): %s", err, s.logTail())
		default:
		}
		if resp, err := http.Get(s.base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("prometheus not ready after %s: %s", timeout, s.logTail())
}

// logTail is the end of Prometheus' log, for errors.
func (s *server) logTail() string {
	b, _ := os.ReadFile(s.log.Name())
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// stop ends Prometheus and waits for it.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.log.Close()
}

// metrics reads Prometheus' own /metrics.
func (s *server) metrics() (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET /metrics: %s: %s", resp.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(resp.Body)
}

// countSeries is the number of series of the given metric names now, from
// the query API.
func (s *server) countSeries(ctx context.Context, names []string) (int, error) {
	c, err := promapi.NewClient(promapi.Config{Address: s.base})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, name := range names {
		v, _, _, err := promv1.NewAPI(c).Query(ctx, fmt.Sprintf("count({__name__=%q})", name), time.Now())
		if err != nil {
			return 0, fmt.Errorf("counting the series of %s: %w", name, err)
		}
		if vec, ok := v.(model.Vector); ok && len(vec) == 1 {
			total += int(vec[0].Value)
		}
	}
	return total, nil
}

// freeAddr is a free port on 127.0.0.1.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// linkTree hard-links every file of src into dst, creating the folders.
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if err := os.Link(p, target); err != nil {
			return errors.Join(fmt.Errorf("linking the blocks into %s", dst), err)
		}
		return nil
	})
}
