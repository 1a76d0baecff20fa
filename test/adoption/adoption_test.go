//go:build linux

// Package adoption is issue 22's "done when": a new team, from a fresh
// clone and following only the README, runs promgen init, edits the YAML
// for two services on two Docker hosts over TLS, runs promgen build and
// lint, and the Prometheus of that build discovers and scrapes everything
// over TLS. The steps are read from the README, so they cannot drift apart.
package adoption

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/spec"
)

// The README section the test performs, and what its edits name.
const (
	section     = "## A new team's afternoon"
	starterName = "my-service"
	services    = "embedding queue-worker"
	metricsPort = 8000
)

// host is one of the team's Docker hosts: a private dockerd with
// --tlsverify on 127.0.0.1, named in the spec by the address the README's
// example address is replaced with.
type host struct {
	name, example, address string
	d                      *testenv.Dockerd
	published              map[string]string // service -> host:port Prometheus must scrape
}

// TestTheREADMEsAfternoonWorks runs the README's new-team steps, as
// written there, in a temporary home: go install, promgen init, the four
// edits of promgen.yaml (the README's own YAML, with its example paths and
// addresses replaced by the test's), promgen build, promgen lint, and the
// pinned Prometheus on the built prometheus.yml. Two real dockerds behind
// --tlsverify on 127.0.0.1 are the team's hosts, each running a container
// of both services (the stand-in gateway, FROM scratch) publishing its
// metrics port. Both hosts are this machine's loopback, so one
// gateway-exporter (behind a client certificate and basic auth) answers
// for both: the spec has one exporter port for every host. Prometheus must
// list all four containers and both exporter targets as up, over TLS.
func TestTheREADMEsAfternoonWorks(t *testing.T) {
	prom := testenv.Tool(t, "PROMETHEUS", "prometheus")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	steps, snippets := readSection(t, filepath.Join(root, "README.md"))
	if len(snippets) != 3 {
		t.Fatalf("README %q: %d YAML blocks, want the 3 of its edits (prometheus:, hosts:, the second service)", section, len(snippets))
	}

	pki := testenv.NewPKI(t)
	hosts := []*host{
		{name: "node-1", example: "https://node-1.example.com:2376"},
		{name: "node-2", example: "https://node-2.example.com:2376"},
	}
	for i, h := range hosts {
		h.start(t, pki, i)
	}

	tmp := t.TempDir()
	home, bin := filepath.Join(tmp, "home"), filepath.Join(tmp, "bin")
	for _, dir := range []string{home, bin} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	password := filepath.Join(tmp, "exporter-password")
	if err := os.WriteFile(password, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	exporterAddr := testenv.FreeAddr(t)
	_, exporterPort, _ := net.SplitHostPort(exporterAddr)

	// What the test writes where the README shows an example: its own
	// certificates, password file and daemons.
	pairs := []string{
		"/etc/prometheus/tls/ca.pem", pki.CA,
		"/etc/prometheus/tls/client.pem", pki.ClientCert,
		"/etc/prometheus/tls/client-key.pem", pki.ClientKey,
		"/etc/prometheus/tls/exporter-password", password,
	}
	for _, h := range hosts {
		pairs = append(pairs, h.example, h.address)
	}
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(strings.Join(snippets, ""), pairs[i]) {
			t.Fatalf("README %q no longer shows %q, which the test replaces with its own", section, pairs[i])
		}
	}
	subst := strings.NewReplacer(pairs...)
	// Only for the test's sake, not the README's: scrape and list the
	// containers every second, and reach the exporter at the free port it got.
	speed := fmt.Sprintf("  scrape_interval: 1s\n  refresh_interval: 1s\n  exporter_port: %s\n", exporterPort)

	cwd := root
	var promAddr string
	ran := map[string]bool{}
	for _, line := range steps {
		for _, cmdline := range strings.Split(line, "&&") {
			args := strings.Fields(cmdline)
			for i, a := range args {
				if strings.HasPrefix(a, "~/") {
					args[i] = filepath.Join(home, a[2:])
				}
			}
			step := args[0]
			if step == "promgen" && len(args) > 1 {
				step += " " + args[1]
			}
			ran[step] = true
			switch args[0] {
			case "go":
				// Into the test's bin, not the user's GOPATH; the build
				// cache stays the machine's.
				run(t, root, []string{"GOBIN=" + bin}, "go", args[1:]...)
			case "mkdir":
				if err := os.MkdirAll(args[1], 0o755); err != nil {
					t.Fatal(err)
				}
			case "cd":
				cwd = args[1]
			case "promgen":
				run(t, cwd, []string{"HOME=" + home}, filepath.Join(bin, "promgen"), args[1:]...)
			case "$EDITOR":
				file := filepath.Join(cwd, args[1])
				b, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				edited := edit(t, string(b), subst.Replace(snippets[0])+speed, subst.Replace(snippets[1]), subst.Replace(snippets[2]))
				if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
					t.Fatal(err)
				}
			case "prometheus":
				// The hosts' side: gateway-exporter as the README's go
				// install built it, behind TLS and basic auth.
				testenv.StartTLSExporter(t, filepath.Join(bin, "gateway-exporter"), exporterAddr, pki, hosts[0].d.Host, "prometheus", "s3cret")
				promAddr = testenv.FreeAddr(t)
				start(t, cwd, prom, append(args[1:], "--web.listen-address="+promAddr, "--storage.tsdb.path="+filepath.Join(tmp, "data"))...)
			default:
				t.Fatalf("README %q: step %q is not one this test performs; teach the test, or the README has drifted", section, line)
			}
		}
	}
	for _, want := range []string{"go", "mkdir", "cd", "promgen init", "$EDITOR", "promgen build", "promgen lint", "prometheus"} {
		if !ran[want] {
			t.Fatalf("README %q has no %q step, which a new team needs", section, want)
		}
	}

	waitForTargets(t, promAddr, hosts, ":"+exporterPort)
}

// start runs the private dockerd of h, listening also on 127.0.0.1 with
// --tlsverify, with a bridge of its own, and a container of each service
// on it publishing its metrics port on 127.0.0.1.
func (h *host) start(t *testing.T, pki testenv.PKI, i int) {
	t.Helper()
	addr := testenv.FreeAddr(t)
	h.d = testenv.StartDockerd(t, "-H", "tcp://"+addr, "--tlsverify",
		"--tlscacert", pki.CA, "--tlscert", pki.ServerCert, "--tlskey", pki.ServerKey)
	// node-1 is named localhost and node-2 127.0.0.1 (both in the server
	// certificate), so that the two exporter targets differ.
	_, port, _ := net.SplitHostPort(addr)
	h.address = "https://" + []string{"localhost", "127.0.0.1"}[i] + ":" + port
	cli := h.d.Client()
	ctx := context.Background()
	suffix := make([]byte, 2)
	rand.Read(suffix)
	bridge := "promgen-adopt-" + hex.EncodeToString(suffix)
	if _, err := cli.NetworkCreate(ctx, bridge, client.NetworkCreateOptions{Driver: "bridge",
		Options: map[string]string{"com.docker.network.bridge.name": "pgad" + hex.EncodeToString(suffix)},
		IPAM:    &network.IPAM{Config: []network.IPAMConfig{{Subnet: netip.MustParsePrefix(fmt.Sprintf("10.%d.%d.0/24", 216+i, suffix[0]))}}}}); err != nil {
		t.Fatalf("%s: create a bridge network: %v", h.name, err)
	}
	t.Cleanup(func() { cli.NetworkRemove(context.Background(), bridge, client.NetworkRemoveOptions{}) })
	port8000 := network.MustParsePort(strconv.Itoa(metricsPort) + "/tcp")
	image := testenv.Standin(t, cli)
	h.published = map[string]string{}
	u, _ := url.Parse(h.address)
	for _, svc := range strings.Fields(services) {
		id := testenv.Run(t, cli, client.ContainerCreateOptions{Name: svc + "-1",
			Config: &ctypes.Config{Image: image, ExposedPorts: network.PortSet{port8000: {}},
				Labels: map[string]string{catalog.DockerLabelComposeService: svc,
					catalog.DockerLabelComposeProject: "my-team", catalog.DockerLabelComposeOneoff: "False"}},
			HostConfig: &ctypes.HostConfig{NetworkMode: ctypes.NetworkMode(bridge),
				PortBindings: network.PortMap{port8000: {{HostIP: netip.MustParseAddr("127.0.0.1")}}}},
		})
		inspect, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b := inspect.Container.NetworkSettings.Ports[port8000]
		if len(b) == 0 {
			t.Fatalf("%s: port %s of %s is not published", h.name, port8000, svc)
		}
		h.published[svc] = net.JoinHostPort(u.Hostname(), b[0].HostPort)
	}
}

// readSection returns the README section's shell steps, comments cut,
// and its YAML blocks, in order.
func readSection(t *testing.T, path string) (steps, yamls []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "\n"+section+"\n")
	if i < 0 {
		t.Fatalf("%s has no section %q", path, section)
	}
	text = text[i+1:]
	if j := strings.Index(text[len(section):], "\n## "); j >= 0 {
		text = text[:len(section)+j]
	}
	var block *strings.Builder
	var lang string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case block == nil && strings.HasPrefix(line, "```"):
			block, lang = &strings.Builder{}, strings.TrimPrefix(line, "```")
		case block != nil && line == "```":
			switch lang {
			case "sh":
				for _, l := range strings.Split(block.String(), "\n") {
					if l = strings.TrimSpace(comment.ReplaceAllString(l, "")); l != "" {
						steps = append(steps, l)
					}
				}
			case "yaml":
				yamls = append(yamls, block.String())
			}
			block = nil
		case block != nil:
			block.WriteString(line + "\n")
		}
	}
	if len(steps) == 0 {
		t.Fatalf("%s: section %q has no sh block of steps", path, section)
	}
	return steps, yamls
}

// comment is a shell comment after a command.
var comment = regexp.MustCompile(`(^|\s)#.*$`)

// edit makes the README's four edits to the starter's text, as a person
// in an editor would: rename the service, add the exporter's TLS and auth
// under prometheus:, put the hosts where the starter's commented hosts:
// are, and append the second service. Each place must be where the README
// says it is.
func edit(t *testing.T, text, prometheus, hosts, service string) string {
	t.Helper()
	if !strings.Contains(text, starterName) {
		t.Fatalf("the starter names no %q to rename", starterName)
	}
	text = strings.ReplaceAll(text, starterName, strings.Fields(services)[0])
	lines := strings.SplitAfter(text, "\n")
	at := slices.Index(lines, "prometheus:\n")
	if at < 0 {
		t.Fatal("the starter has no top-level prometheus: to add to")
	}
	end := at + 1
	for end < len(lines) && strings.HasPrefix(lines[end], "  ") {
		end++
	}
	lines = slices.Insert(lines, end, prometheus)
	at = slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "# hosts:") })
	if at < 0 {
		t.Fatal("the starter has no commented # hosts: to replace")
	}
	end = at + 1
	for end < len(lines) && strings.HasPrefix(lines[end], "#   ") {
		end++
	}
	lines = slices.Replace(lines, at, end, hosts)
	at = slices.Index(lines, "services:\n")
	if at < 0 || slices.ContainsFunc(lines[at+1:], func(l string) bool { return l != "" && l[0] != ' ' && l[0] != '#' && l[0] != '\n' }) {
		t.Fatal("services: is not the starter's last top-level key: the second service cannot be appended")
	}
	return strings.Join(lines, "") + service
}

// run runs a command of the README in dir and fails the test on a
// non-zero exit, with its output.
func run(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("$ %s %s\n%s", filepath.Base(name), strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

// start starts a long-running command of the README in dir until the test
// ends.
func start(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	log := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s:\n%s", filepath.Base(name), log)
		}
	})
}

type target struct {
	Labels    map[string]string `json:"labels"`
	ScrapeURL string            `json:"scrapeUrl"`
	Health    string            `json:"health"`
	LastError string            `json:"lastError"`
}

// waitForTargets waits up to 60 s for Prometheus to scrape, as up, each
// service's container on each host at its published port, and the
// exporter at each host's name over https (exporterPort is ":port"); then
// up must be 1 for each of them.
func waitForTargets(t *testing.T, promAddr string, hosts []*host, exporterPort string) {
	t.Helper()
	want := map[string]map[string]string{} // job/host -> wanted labels, or the scrape URL
	for _, h := range hosts {
		u, _ := url.Parse(h.address)
		for svc, published := range h.published {
			want[svc+"/"+h.name] = map[string]string{"instance": published, "name": svc + "-1", "compose_service": svc, "host": h.name}
		}
		want[spec.DefaultExporterJob+"/"+h.name] = map[string]string{"scrapeUrl": "https://" + u.Hostname() + exporterPort + "/metrics", "host": h.name}
	}
	var missing []string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		var targets struct {
			Data struct {
				ActiveTargets []target `json:"activeTargets"`
			} `json:"data"`
		}
		err := getJSON("http://"+promAddr+"/api/v1/targets", &targets)
		missing = missing[:0]
		for key, labels := range want {
			job, hostName, _ := strings.Cut(key, "/")
			i := slices.IndexFunc(targets.Data.ActiveTargets, func(tg target) bool {
				return tg.Labels["job"] == job && tg.Labels["host"] == hostName
			})
			if i < 0 {
				missing = append(missing, fmt.Sprintf("%s: not discovered", key))
				continue
			}
			tg := targets.Data.ActiveTargets[i]
			for k, v := range labels {
				got := tg.Labels[k]
				if k == "scrapeUrl" {
					got = tg.ScrapeURL
				}
				if got != v {
					missing = append(missing, fmt.Sprintf("%s: %s=%q, want %q", key, k, got, v))
				}
			}
			if tg.Health != "up" {
				missing = append(missing, fmt.Sprintf("%s: %s (%s)", key, tg.Health, tg.LastError))
			}
		}
		if err == nil && len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			slices.Sort(missing)
			t.Fatalf("within 60s Prometheus did not scrape every target of both hosts (API error %v):\n%s", err, strings.Join(missing, "\n"))
		}
	}

	var up struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := getJSON("http://"+promAddr+"/api/v1/query?query="+url.QueryEscape(`up == 1`), &up); err != nil {
		t.Fatal(err)
	}
	for key := range want {
		job, hostName, _ := strings.Cut(key, "/")
		found := false
		for _, r := range up.Data.Result {
			found = found || r.Metric["job"] == job && r.Metric["host"] == hostName
		}
		if !found {
			t.Errorf("up{job=%q, host=%q} is not 1", job, hostName)
		}
	}
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
