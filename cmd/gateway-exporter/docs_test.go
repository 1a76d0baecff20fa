package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sre-tools/promgen/catalog"
)

var update = flag.Bool("update", false, "rewrite docs/metrics.md from the catalog")

const metricsDoc = "../../docs/metrics.md"

// reasons documents each termination reason with an exit that produces it;
// the test checks every example against catalog.Reason.
var reasons = []struct {
	reason string
	code   int
	oom    bool
	when   string
}{
	{catalog.ReasonOOMKilled, 137, true, "Docker's `OOMKilled` is set (an `oom` event came before the `die`): the kernel's OOM killer struck"},
	{catalog.ReasonKilled, 137, false, "exit code 137 without OOM: SIGKILL, e.g. `docker kill` or a stop that timed out"},
	{catalog.ReasonSegfault, 139, false, "exit code 139: SIGSEGV"},
	{catalog.ReasonTerminated, 143, false, "exit code 143: SIGTERM, e.g. `docker stop`"},
	{catalog.ReasonError, 1, false, "any other non-zero exit code"},
	{catalog.ReasonCompleted, 0, false, "exit code 0"},
}

// TestMetricsDocs fails when docs/metrics.md and the catalog disagree;
// go test ./cmd/gateway-exporter -run TestMetricsDocs -update rewrites it.
func TestMetricsDocs(t *testing.T) {
	for _, r := range reasons {
		if got := catalog.Reason(r.code, r.oom); got != r.reason {
			t.Errorf("the docs say exit %d (oom %v) is %s, catalog.Reason says %s", r.code, r.oom, r.reason, got)
		}
	}
	if len(reasons) != len(catalog.Reasons) {
		t.Errorf("the docs explain %d reasons, the catalog has %d", len(reasons), len(catalog.Reasons))
	}

	want := metricsMarkdown()
	if *update {
		if err := os.WriteFile(metricsDoc, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatalf("%v (generate it with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date with catalog/catalog.go; run go test ./cmd/gateway-exporter -run TestMetricsDocs -update", metricsDoc)
	}
}

func metricsMarkdown() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Metrics")
	p("")
	p("<!-- Generated from catalog/catalog.go by `go test ./cmd/gateway-exporter -run TestMetricsDocs -update`; do not edit. -->")
	p("")
	p("Every metric name, help text, type and label below comes from `catalog/catalog.go`, which the")
	p("exporter builds its descriptors from and the rules read; a test fails when this page and the")
	p("catalog disagree. `docs/exporter.md` explains how the exporter works.")
	p("")
	p("## gateway-exporter")
	p("")
	p("Per-container series (marked *container*) also carry the identity labels `%s`: `%s` is the",
		strings.Join(catalog.ContainerLabels, "`, `"), catalog.LabelName)
	p("container's name, `%s` and `%s` its `com.docker.compose.project` and", catalog.LabelComposeProject, catalog.LabelComposeService)
	p("`com.docker.compose.service` labels (empty outside compose), and `%s` is `%s` on a `docker compose run`", catalog.LabelComposeOneoff, catalog.OneoffTrue)
	p("container (compose's `%s=True`: a task, not a replica of the service), `%s` on every", catalog.DockerLabelComposeOneoff, catalog.OneoffFalse)
	p("other one. Every container-level alert and dashboard panel of a service selects `%s!=\"%s\"`, which", catalog.LabelComposeOneoff, catalog.OneoffTrue)
	p("series without the label (a hand-written setup) also match. `%s` also carries one", catalog.ContainerInfo)
	p("`label_<key>` label per key given with `--container.labels-allowlist` (characters other than")
	p("letters, digits and `_` become `_`); no other container label, and no environment variable, is published.")
	p("")
	table(p, catalog.SourceExporter)
	p("")
	p("When series are present:")
	p("")
	p("- A running or stopped container publishes all its series; `%s` only with a healthcheck;", catalog.ContainerHealthStatus)
	p("  the last termination series once it has ended at least once; the memory series while the memory")
	p("  source has figures for it (running containers); limit and ratio only when it has a memory limit.")
	p("- `%s` is published for every reason from the start, at 0, so that the first exit of a", catalog.ContainerExitsTotal)
	p("  kind shows as an increase. It counts each termination once: from its `die` event (including one")
	p("  replayed after a reconnect), or from an inspect of a container already known when no event came")
	p("  (Docker keeps no events across a daemon restart). An exit that happened before the exporter")
	p("  started sets the last termination but is not counted.")
	p("- A removed container keeps `%s` and its last termination series for `--container.retention`", catalog.ContainerExitsTotal)
	p("  (default 1h), then they go. A new container with the same name and compose labels takes them over.")
	p("")
	p("Values of `%s`: %s.", catalog.LabelState, quoteAll(catalog.States))
	p("Values of `%s`: %s.", catalog.LabelStatus, quoteAll(catalog.HealthStatuses))
	p("")
	p("Values of `%s`, after the runbook's exit-code table:", catalog.LabelReason)
	p("")
	p("| reason | when |")
	p("|---|---|")
	for _, r := range reasons {
		p("| `%s` | %s |", r.reason, r.when)
	}
	p("")
	p("## Read by the rules from other sources")
	p("")
	table(p, catalog.SourceCAdvisor)
	p("")
	table(p, catalog.SourcePrometheus)
	p("")
	p("## Read by the Kubernetes target's rules")
	p("")
	p("The Kubernetes target (`docs/kubernetes.md`) reads kube-state-metrics instead of gateway-exporter, and")
	p("`%s` from the kubelet's cAdvisor (`/metrics/cadvisor`), whose series carry `%s`.", catalog.CAdvisorContainerMemoryWorkingSet, strings.Join(catalog.KubePodLabels, "`, `"))
	p("")
	table(p, catalog.SourceKubeStateMetrics)
	return b.Bytes()
}

func table(p func(string, ...any), s catalog.Source) {
	p("| Metric | Type | Labels | Source | Meaning |")
	p("|---|---|---|---|---|")
	for _, m := range catalog.BySource(s) {
		labels := quoteAll(m.Labels)
		if m.Container {
			labels = strings.TrimPrefix(strings.Join([]string{"*container*", labels}, ", "), ", ")
			labels = strings.TrimSuffix(labels, ", ")
		}
		p("| `%s` | %s | %s | %s | %s |", m.Name, m.Type, labels, m.Source, strings.ReplaceAll(m.Help, "|", `\|`))
	}
}

func quoteAll(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return "`" + strings.Join(xs, "`, `") + "`"
}
