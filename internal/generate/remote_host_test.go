//go:build linux

package generate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// TestARemoteTLSHostIsDiscoveredAndScrapedByARealPrometheus is item 5 of
// issue 22 on loopback, with real parts: a private dockerd that listens on
// 127.0.0.1 with --tlsverify, a gateway container on a bridge network
// publishing its metrics port, and a gateway-exporter behind a web config
// that demands a client certificate and basic auth. The pinned Prometheus,
// run with the generated prometheus.yml, must discover the container over
// TLS, scrape it at its published port with the exporter's labels, and
// scrape the exporter.
func TestARemoteTLSHostIsDiscoveredAndScrapedByARealPrometheus(t *testing.T) {
	prom := testenv.Tool(t, "PROMETHEUS", "prometheus")
	pki := testenv.NewPKI(t)
	dockerAddr := testenv.FreeAddr(t)
	d := testenv.StartDockerd(t, "-H", "tcp://"+dockerAddr, "--tlsverify",
		"--tlscacert", pki.CA, "--tlscert", pki.ServerCert, "--tlskey", pki.ServerKey)
	cli := d.Client()
	ctx := context.Background()

	// A bridge of the private daemon's own, on a subnet of its own, gone
	// before the daemon is.
	suffix := make([]byte, 2)
	rand.Read(suffix)
	bridge := "promgen-tls-" + hex.EncodeToString(suffix)
	if _, err := cli.NetworkCreate(ctx, bridge, client.NetworkCreateOptions{Driver: "bridge",
		Options: map[string]string{"com.docker.network.bridge.name": "pgtls" + hex.EncodeToString(suffix)},
		IPAM:    &network.IPAM{Config: []network.IPAMConfig{{Subnet: netip.MustParsePrefix(fmt.Sprintf("10.213.%d.0/24", suffix[0]))}}}}); err != nil {
		t.Fatalf("create a bridge network on the private daemon: %v", err)
	}
	t.Cleanup(func() { cli.NetworkRemove(context.Background(), bridge, client.NetworkRemoveOptions{}) })

	metricsPort := network.MustParsePort(strconv.Itoa(rules.GatewayPort) + "/tcp")
	name := "promgen-inference-gateway-1"
	id := testenv.Run(t, cli, client.ContainerCreateOptions{Name: name,
		Config: &ctypes.Config{Image: testenv.Standin(t, cli), ExposedPorts: network.PortSet{metricsPort: {}},
			Labels: map[string]string{catalog.DockerLabelComposeService: rules.GatewayService,
				catalog.DockerLabelComposeProject: "promgen", catalog.DockerLabelComposeOneoff: "False"}},
		HostConfig: &ctypes.HostConfig{NetworkMode: ctypes.NetworkMode(bridge),
			PortBindings: network.PortMap{metricsPort: {{HostIP: netip.MustParseAddr("127.0.0.1")}}}},
	})
	inspect, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bindings := inspect.Container.NetworkSettings.Ports[metricsPort]
	if len(bindings) == 0 {
		t.Fatalf("port %s of %s is not published", metricsPort, name)
	}
	published := net.JoinHostPort("127.0.0.1", bindings[0].HostPort)

	exporter := filepath.Join(t.TempDir(), "gateway-exporter")
	if out, err := exec.Command("go", "build", "-o", exporter, "github.com/sre-tools/promgen/cmd/gateway-exporter").CombinedOutput(); err != nil {
		t.Fatalf("build gateway-exporter: %v\n%s", err, out)
	}
	exporterAddr := testenv.FreeAddr(t)
	testenv.StartTLSExporter(t, exporter, exporterAddr, pki, d.Host, "prometheus", "s3cret")
	password := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(password, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	clientTLS := &spec.TLS{CAFile: pki.CA, CertFile: pki.ClientCert, KeyFile: pki.ClientKey}

	s := rules.Spec(rules.Production)
	s.Hosts = []spec.Host{{Name: "tls-1", Address: "https://" + dockerAddr, TLS: clientTLS}}
	s.Prometheus.ScrapeInterval, s.Prometheus.RefreshInterval = time.Second, time.Second
	_, port, _ := strings.Cut(exporterAddr, ":")
	s.Prometheus.ExporterPort, _ = strconv.Atoi(port)
	s.Prometheus.ExporterTLS = clientTLS
	s.Prometheus.ExporterBasicAuth = &spec.BasicAuth{Username: "prometheus", PasswordFile: password}
	files, err := Build(ctx, []Target{{Spec: s}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := Write(filepath.Join(dir, "out"), files); err != nil {
		t.Fatal(err)
	}
	promAddr := testenv.FreeAddr(t)
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "out", "prometheus", "prometheus.yml"),
		"--web.listen-address="+promAddr, "--storage.tsdb.path="+filepath.Join(dir, "data"))
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()

	type target struct {
		Labels     map[string]string `json:"labels"`
		ScrapePool string            `json:"scrapePool"`
		ScrapeURL  string            `json:"scrapeUrl"`
		Health     string            `json:"health"`
		LastError  string            `json:"lastError"`
	}
	var targets struct {
		Data struct {
			ActiveTargets []target `json:"activeTargets"`
		} `json:"data"`
	}
	find := func(pool string) (target, bool) {
		for _, tg := range targets.Data.ActiveTargets {
			if tg.ScrapePool == pool {
				return tg, true
			}
		}
		return target{}, false
	}
	var gw, ex target
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		err := getJSON("http://"+promAddr+"/api/v1/targets", &targets)
		var okGW, okEx bool
		gw, okGW = find(rules.GatewayService)
		ex, okEx = find(spec.DefaultExporterJob)
		if err == nil && okGW && okEx && gw.Health == "up" && ex.Health == "up" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("within 60s Prometheus did not scrape both the discovered gateway and the exporter (last error %v):\ngateway %+v\nexporter %+v\n%s",
				err, gw, ex, log.String())
		}
	}
	want := map[string]string{"name": name, "compose_service": rules.GatewayService, "compose_project": "promgen",
		"host": "tls-1", "job": rules.GatewayService, "instance": published}
	for k, v := range want {
		if gw.Labels[k] != v {
			t.Errorf("gateway target label %s=%q, want %q (labels %v)", k, gw.Labels[k], v, gw.Labels)
		}
	}
	if want := "https://" + exporterAddr + "/metrics"; ex.ScrapeURL != want || ex.Labels["host"] != "tls-1" {
		t.Errorf("exporter target %+v, want %s with host tls-1", ex, want)
	}
}
