// Package testenv gives tests the real things they run against: a Docker
// engine, FROM scratch images of the project's own Go programs, promtool,
// and a way to read a scrape as plain series lines.
package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Label marks every container and image the project's tests create, so
// that they can be found and removed: docker rm -f $(docker ps -aq --filter label=promgen.test).
const Label = "promgen.test"

// The stand-in gateway is the tests' one fault program: run with --fault
// it exits, dies of a signal, is OOM-killed, holds memory or turns
// unhealthy (see cmd/standin-gateway).
const (
	StandinImage   = "promgen-test/standin-gateway:latest"
	StandinPackage = "github.com/sre-tools/promgen/cmd/standin-gateway"
)

// Standin builds the stand-in gateway's image on the engine cli talks to
// and returns its tag.
func Standin(t testing.TB, cli *client.Client) string {
	t.Helper()
	return BuildScratchImageOn(t, cli, StandinImage, StandinPackage)
}

// Run creates and starts a container labelled Label, on no network unless
// opts say otherwise, and removes it when the test ends. It returns the
// container's ID.
func Run(t testing.TB, cli *client.Client, opts client.ContainerCreateOptions) string {
	t.Helper()
	ctx := context.Background()
	cfg, host := *opts.Config, container.HostConfig{}
	if opts.HostConfig != nil {
		host = *opts.HostConfig
	}
	cfg.Labels = maps.Clone(cfg.Labels)
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	cfg.Labels[Label] = "1"
	if host.NetworkMode == "" {
		host.NetworkMode = "none" // the test engine runs with --bridge=none
	}
	opts.Config, opts.HostConfig = &cfg, &host
	res, err := cli.ContainerCreate(ctx, opts)
	if err != nil {
		t.Fatalf("create container %s from %s: %v", opts.Name, cfg.Image, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cli.ContainerRemove(ctx, res.ID, client.ContainerRemoveOptions{Force: true})
	})
	if _, err := cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatalf("start container %s (%.12s): %v", opts.Name, res.ID, err)
	}
	return res.ID
}

// RequireDocker returns a client of the engine at DOCKER_HOST (or the
// default socket). Without an engine the test is skipped under -short and
// fails otherwise: a test that needs Docker must not pass without it.
func RequireDocker(t testing.TB) *client.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a Docker engine; skipped under -short")
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		t.Fatalf("no Docker engine at %s (start one with scripts/dockerd.sh start, or run go test -short): %v", cli.DaemonHost(), err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

var images sync.Map // tag and daemon -> *imageBuild

type imageBuild struct {
	once sync.Once
	err  error
}

// BuildScratchImage builds goPackage (an import path of this module) as a
// static binary and an image tag FROM scratch around it, with the binary at
// /<base name of the package> as entrypoint, on the engine at DOCKER_HOST.
// The image is built once per test process, and not at all when an image
// with that tag already holds the same binary.
func BuildScratchImage(t testing.TB, tag, goPackage string) string {
	t.Helper()
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	defer cli.Close()
	return BuildScratchImageOn(t, cli, tag, goPackage)
}

// BuildScratchImageOn is BuildScratchImage on the engine cli talks to.
func BuildScratchImageOn(t testing.TB, cli *client.Client, tag, goPackage string) string {
	t.Helper()
	v, _ := images.LoadOrStore(tag+" "+cli.DaemonHost(), &imageBuild{})
	b := v.(*imageBuild)
	b.once.Do(func() { b.err = buildScratchImage(cli, tag, goPackage) })
	if b.err != nil {
		t.Fatalf("build image %s: %v", tag, b.err)
	}
	return tag
}

func buildScratchImage(cli *client.Client, tag, goPackage string) error {
	dir, err := os.MkdirTemp("", "promgen-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	name := filepath.Base(goPackage)
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, goPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", goPackage, err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	old, err := cli.ImageInspect(ctx, tag)
	if err == nil && old.Config != nil && old.Config.Labels[Label+".binary"] == digest {
		return nil
	}

	dockerfile := fmt.Sprintf("FROM scratch\nLABEL %s=1 %s.binary=%s\nCOPY %s /%s\nENTRYPOINT [\"/%s\"]\n", Label, Label, digest, name, name, name)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {name, 0o755, data}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	res, err := cli.ImageBuild(ctx, &buf, client.ImageBuildOptions{Tags: []string{tag}, Remove: true, ForceRemove: true})
	if err != nil {
		return fmt.Errorf("docker build %s: %w", tag, err)
	}
	defer res.Body.Close()
	// The build's outcome is in its message stream, not in the status.
	dec := json.NewDecoder(res.Body)
	for {
		var msg jsonstream.Message
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("docker build %s: read output: %w", tag, err)
		}
		if msg.Error != nil {
			return fmt.Errorf("docker build %s: %s", tag, msg.Error.Message)
		}
	}
	if old.ID != "" {
		// The tag moved to the new image: drop the old one rather than
		// leave it dangling. It may still be in use; then it stays.
		cli.ImageRemove(ctx, old.ID, client.ImageRemoveOptions{})
	}
	return nil
}

// Promtool returns the path of promtool: $PROMTOOL, else promtool on PATH,
// else ~/.cache/promgen/tools/bin/promtool as scripts/tools.sh builds it.
// Without one the test is skipped under -short and fails otherwise.
func Promtool(t testing.TB) string { return Tool(t, "PROMTOOL", "promtool") }

// Tool returns the path of one of the pinned tools scripts/tools.sh builds
// (promtool, alertmanager, amtool, ...): $env, else name on PATH, else the
// tools cache. Without one the test is skipped under -short and fails
// otherwise, so CI never passes without it.
func Tool(t testing.TB, env, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs %s; skipped under -short", name)
	}
	if p := os.Getenv(env); p != "" {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	cache := os.Getenv("PROMGEN_TOOLS_CACHE")
	if cache == "" {
		if home, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(home, ".cache", "promgen", "tools")
		}
	}
	if p := filepath.Join(cache, "bin", name); cache != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s not found in $%s, PATH or the tools cache (build it with scripts/tools.sh %s)", name, env, name)
	return ""
}

// Scrape fetches url and returns its series as Lines does.
func Scrape(t testing.TB, url string) []string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %s", url, resp.Status)
	}
	return Parse(t, resp.Body)
}

// Parse reads a scrape in the text format and returns its series as Lines
// does. It fails the test on a malformed scrape or a series given twice.
func Parse(t testing.TB, r io.Reader) []string {
	t.Helper()
	lines, err := ParseScrape(r)
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// ParseScrape is Parse for a goroutine other than the test's: it returns
// the error instead of failing the test.
func ParseScrape(r io.Reader) ([]string, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse scrape: %w", err)
	}
	out := make([]*dto.MetricFamily, 0, len(fams))
	for _, f := range fams {
		out = append(out, f)
	}
	lines := Lines(out)
	for i := 1; i < len(lines); i++ {
		if series(lines[i]) == series(lines[i-1]) {
			return lines, fmt.Errorf("series given twice: %s and %s", lines[i-1], lines[i])
		}
	}
	return lines, nil
}

// series is a line of Lines without its value.
func series(line string) string { return line[:strings.LastIndex(line, " ")] }

// Lines formats gauge, counter and untyped series one per line as
// name{label="value",...} value, labels and lines sorted, so that tests can
// compare them as text.
func Lines(fams []*dto.MetricFamily) []string {
	var out []string
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			labels := make([]string, 0, len(m.GetLabel()))
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(labels)
			var v float64
			switch {
			case m.Gauge != nil:
				v = m.GetGauge().GetValue()
			case m.Counter != nil:
				v = m.GetCounter().GetValue()
			case m.Untyped != nil:
				v = m.GetUntyped().GetValue()
			default:
				continue
			}
			out = append(out, f.GetName()+"{"+strings.Join(labels, ",")+"} "+strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	sort.Strings(out)
	return out
}

// Grep returns the lines that contain every one of parts.
func Grep(lines []string, parts ...string) []string {
	var out []string
next:
	for _, l := range lines {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}
