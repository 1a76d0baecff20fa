package generate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/moby"
	"github.com/prometheus/prometheus/discovery/targetgroup"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/spec"
)

// TestDockerDiscoveryKeepsStoppedReplicasAndSkipsTasks runs Prometheus' own
// docker_sd_configs, as the generated configuration sets it up, against
// the real Docker engine: a running replica with its own port label, a
// replica that exited, and a `docker compose run` task of the service.
// The stopped replica stays a target (its up of 0 keeps ServiceDown
// firing), each replica has its own address, and the task is no target.
func TestDockerDiscoveryKeepsStoppedReplicasAndSkipsTasks(t *testing.T) {
	cli := testenv.RequireDocker(t)
	image := testenv.BuildScratchImage(t, "promgen-test/standin-gateway:sd", "github.com/sre-tools/promgen/cmd/standin-gateway")
	suffix := make([]byte, 4)
	rand.Read(suffix)
	svc, project := "sd-probe-"+hex.EncodeToString(suffix), "promgen-sd-test"
	const port, replicaPort = 18611, 18612

	create := func(name, oneoff string, labels map[string]string, cmd ...string) string {
		t.Helper()
		ls := map[string]string{testenv.Label: "1", catalog.DockerLabelComposeService: svc,
			catalog.DockerLabelComposeProject: project, catalog.DockerLabelComposeOneoff: oneoff}
		maps.Copy(ls, labels)
		res, err := cli.ContainerCreate(t.Context(), client.ContainerCreateOptions{
			Name:       name,
			Config:     &ctypes.Config{Image: image, Cmd: cmd, Labels: ls},
			HostConfig: &ctypes.HostConfig{NetworkMode: "host"},
		})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		t.Cleanup(func() {
			cli.ContainerRemove(context.Background(), res.ID, client.ContainerRemoveOptions{Force: true})
		})
		return res.ID
	}
	start := func(id string) {
		t.Helper()
		if _, err := cli.ContainerStart(t.Context(), id, client.ContainerStartOptions{}); err != nil {
			t.Fatalf("start %s: %v", id, err)
		}
	}
	running := create(svc+"-1", "False", map[string]string{catalog.DockerLabelMetricsPort: strconv.Itoa(replicaPort)},
		"-listen=127.0.0.1:"+strconv.Itoa(replicaPort))
	start(running)
	// An unknown subcommand: the stand-in exits 2 at once.
	exited := create(svc+"-2", "False", nil, "no-such-command")
	start(exited)
	w := cli.ContainerWait(t.Context(), exited, client.ContainerWaitOptions{Condition: ctypes.WaitConditionNotRunning})
	select {
	case <-w.Result:
	case err := <-w.Error:
		t.Fatalf("wait for %s-2 to exit: %v", svc, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s-2 did not exit", svc)
	}
	create(svc+"-run-1", "True", nil, "-listen=127.0.0.1:"+strconv.Itoa(replicaPort+1))

	s := spec.Spec{
		Hosts:    []spec.Host{{Name: "local", Address: cli.DaemonHost()}},
		Services: []spec.Service{{Name: svc, Scrape: spec.Scrape{Port: port}}},
	}
	cfg := loadPrometheus(t, s)
	sd, ok := cfg.ScrapeConfigs[0].ServiceDiscoveryConfigs[0].(*moby.DockerSDConfig)
	if !ok {
		t.Fatalf("job %s: want docker_sd_configs, got %T", svc, cfg.ScrapeConfigs[0].ServiceDiscoveryConfigs[0])
	}
	var got []map[string]string
	for _, tg := range discover(t, sd) {
		for _, target := range tg.Targets {
			l := targetLabels(t, cfg, svc, target.Merge(tg.Labels))
			got = append(got, map[string]string{"name": l[catalog.LabelName], "address": l[model.AddressLabel]})
		}
	}
	slices.SortFunc(got, func(a, b map[string]string) int { return strings.Compare(a["name"], b["name"]) })
	want := []map[string]string{
		{"name": svc + "-1", "address": "localhost:" + strconv.Itoa(replicaPort)},
		{"name": svc + "-2", "address": "localhost:" + strconv.Itoa(port)},
	}
	if !slices.EqualFunc(got, want, maps.Equal) {
		t.Errorf("targets %v\nwant %v", got, want)
	}
}

// discover runs a docker_sd_configs discoverer once and returns its groups.
func discover(t *testing.T, sd *moby.DockerSDConfig) []*targetgroup.Group {
	t.Helper()
	reg := prometheus.NewRegistry()
	rm := discovery.NewRefreshMetrics(reg)
	d, err := moby.NewDockerDiscovery(sd, discovery.DiscovererOptions{
		Logger:  slog.New(slog.DiscardHandler),
		Metrics: sd.NewDiscovererMetrics(reg, rm),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	ch := make(chan []*targetgroup.Group)
	go d.Run(ctx, ch)
	select {
	case gs := <-ch:
		return gs
	case <-ctx.Done():
		t.Fatal("docker_sd_configs found nothing within 30s")
		return nil
	}
}
