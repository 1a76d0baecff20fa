// Package catalog is the single source of truth for every metric name that
// promgen's rules read: gateway-exporter's own metrics, the cAdvisor series
// the memory alerts fall back on, and Prometheus' synthetic up. The exporter
// builds its descriptors from it, the rule builders and lint checks read names
// and types from it, and a test keeps docs/metrics.md in step with it.
package catalog

import (
	"sort"
	"strings"
)

// Type is a Prometheus metric type as the exposition format names it.
type Type string

// Metric types used by the catalog.
const (
	Counter Type = "counter"
	Gauge   Type = "gauge"
)

// Source names the component that publishes a metric.
type Source string

// Sources of the metrics promgen's rules read.
const (
	SourcePrometheus Source = "prometheus"
	SourceExporter   Source = "gateway-exporter"
	SourceCAdvisor   Source = "cadvisor"
	// SourceGateway is the inference gateway itself (and its stand-in).
	SourceGateway Source = "inference-gateway"
)

// Metric describes one metric family: enough to build a client_golang
// descriptor, lint a rule that reads it, and document it.
type Metric struct {
	Name   string
	Help   string
	Type   Type
	Labels []string // variable labels beyond the container identity labels
	Source Source
	// Container is true for per-container series, which also carry
	// ContainerLabels.
	Container bool
}

// AllLabels returns the metric's full label set in exposition order.
func (m Metric) AllLabels() []string {
	if !m.Container {
		return append([]string(nil), m.Labels...)
	}
	return append(append([]string(nil), ContainerLabels...), m.Labels...)
}

// Identity labels carried by every per-container series of gateway-exporter.
const (
	LabelName           = "name"
	LabelComposeProject = "compose_project"
	LabelComposeService = "compose_service"
	// LabelComposeOneoff is "true" on the series of a `docker compose run`
	// container (compose's com.docker.compose.oneoff=True), "false" on every
	// other container's: a one-off is a task run with the service's
	// configuration, not one of its replicas, and no alert of the service
	// reads it.
	LabelComposeOneoff = "compose_oneoff"
)

// Values of LabelComposeOneoff, normalised from compose's "True" and "False".
const (
	OneoffTrue  = "true"
	OneoffFalse = "false"
)

// Oneoff normalises the value of a container's com.docker.compose.oneoff
// label: OneoffTrue for compose's "True" (in any case), OneoffFalse for
// anything else, a missing label included (a container compose did not
// run is no one-off).
func Oneoff(dockerLabel string) string {
	if strings.EqualFold(dockerLabel, "true") {
		return OneoffTrue
	}
	return OneoffFalse
}

// ContainerLabels are the identity labels of every per-container series; rules
// join exporter series to a Prometheus job on LabelComposeService, and select
// a service's own containers with LabelComposeOneoff!="true".
var ContainerLabels = []string{LabelName, LabelComposeProject, LabelComposeService, LabelComposeOneoff}

// TargetLabels are the identity labels promgen's scrape configuration gives
// a discovered container's target, as gateway-exporter labels its series:
// ContainerLabels but LabelComposeOneoff, since discovery leaves one-offs
// out (they are no replicas to scrape).
var TargetLabels = []string{LabelName, LabelComposeProject, LabelComposeService}

// LabelHost names the Docker host of a target: promgen's scrape
// configuration sets it on every target (discovered containers,
// gateway-exporter, cAdvisor) from the spec's hosts, so the exporter's
// series carry it too and a page joins its container on (host, name).
const LabelHost = "host"

// Docker label keys that carry a container's compose identity: the exporter
// reads them, and the scrape configuration filters and relabels on them.
const (
	DockerLabelComposeProject = "com.docker.compose.project"
	DockerLabelComposeService = "com.docker.compose.service"
	// DockerLabelComposeOneoff is "True" on the containers of `docker
	// compose run`: tasks, not replicas of the service.
	DockerLabelComposeOneoff = "com.docker.compose.oneoff"
)

// DockerLabelMetricsPort on a container overrides its service's scrape port,
// as the prometheus.io/port annotation does for a Kubernetes pod: replicas
// on the host network cannot share one port.
const DockerLabelMetricsPort = "prometheus.io/port"

// Variable label names used by exporter metrics.
const (
	LabelExitCode = "exit_code"
	LabelReason   = "reason"
	LabelState    = "state"
	LabelStatus   = "status"
	LabelImage    = "image"
	LabelID       = "id"
	LabelSource   = "source"
	LabelAction   = "action"
)

// Termination reasons of docker_container_last_termination_info, after the
// runbook's exit-code table.
const (
	ReasonOOMKilled  = "oom_killed" // OOMKilled set by the kernel's OOM killer
	ReasonKilled     = "killed"     // 137 without OOM: SIGKILL
	ReasonSegfault   = "segfault"   // 139: SIGSEGV
	ReasonTerminated = "terminated" // 143: SIGTERM, e.g. docker stop
	ReasonError      = "error"      // any other non-zero exit
	ReasonCompleted  = "completed"  // exit 0
)

// Reasons lists every termination reason in a stable order.
var Reasons = []string{ReasonOOMKilled, ReasonKilled, ReasonSegfault, ReasonTerminated, ReasonError, ReasonCompleted}

// Reason classifies a container termination the way the runbook's triage does.
func Reason(exitCode int, oomKilled bool) string {
	switch {
	case oomKilled:
		return ReasonOOMKilled
	case exitCode == 137:
		return ReasonKilled
	case exitCode == 139:
		return ReasonSegfault
	case exitCode == 143:
		return ReasonTerminated
	case exitCode == 0:
		return ReasonCompleted
	default:
		return ReasonError
	}
}

// Container states of docker_container_state, as Docker names them.
var States = []string{"created", "running", "paused", "restarting", "removing", "exited", "dead"}

// Health statuses of docker_container_health_status, as Docker names them.
var HealthStatuses = []string{"starting", "healthy", "unhealthy"}

// The inference gateway's own request metrics (the stand-in serves them as
// the real gateway does), which its service level objectives read. Other
// services name theirs in their spec.
const (
	HTTPRequestsTotal          = "http_requests_total"
	HTTPRequestDurationSeconds = "http_request_duration_seconds"
	LabelHTTPStatus            = "status"
)

// Metric names. Rules and the exporter refer to these constants, never to
// string literals.
const (
	Up = "up"
	// Alerts is written by Prometheus for every pending and firing alert.
	Alerts = "ALERTS"
	// AlertsForState is written by Prometheus for every active alert, valued
	// at the time it became active: a page's diagnosis anchors to it.
	AlertsForState = "ALERTS_FOR_STATE"

	ContainerInfo                     = "docker_container_info"
	ContainerState                    = "docker_container_state"
	ContainerHealthStatus             = "docker_container_health_status"
	ContainerRestartsTotal            = "docker_container_restarts_total"
	ContainerExitsTotal               = "docker_container_exits_total"
	ContainerLastExitCode             = "docker_container_last_exit_code"
	ContainerLastTerminationTimestamp = "docker_container_last_termination_timestamp_seconds"
	ContainerLastTerminationInfo      = "docker_container_last_termination_info"
	ContainerStartedTimestamp         = "docker_container_started_timestamp_seconds"
	ContainerMemoryWorkingSetBytes    = "docker_container_memory_working_set_bytes"
	ContainerMemoryUsageBytes         = "docker_container_memory_usage_bytes"
	ContainerMemoryLimitBytes         = "docker_container_memory_limit_bytes"
	ContainerMemoryUsageRatio         = "docker_container_memory_usage_ratio"
	ExporterSourceUp                  = "gateway_exporter_source_up"
	ExporterSourceErrorsTotal         = "gateway_exporter_source_errors_total"
	ExporterEventsTotal               = "gateway_exporter_events_total"
	ExporterEventsDroppedTotal        = "gateway_exporter_events_dropped_total"
	ExporterBuildInfo                 = "gateway_exporter_build_info"
	ExporterIdentityCollisionsTotal   = "gateway_exporter_identity_collisions_total"
	CAdvisorContainerMemoryWorkingSet = "container_memory_working_set_bytes"
	CAdvisorContainerMemoryUsage      = "container_memory_usage_bytes"
	CAdvisorContainerSpecMemoryLimit  = "container_spec_memory_limit_bytes"
	CAdvisorContainerOOMEventsTotal   = "container_oom_events_total"
	CAdvisorContainerLastSeen         = "container_last_seen"
	CAdvisorMachineMemoryBytes        = "machine_memory_bytes"
)

var metrics = []Metric{
	{Name: Up, Type: Gauge, Source: SourcePrometheus,
		Help: "1 if Prometheus' last scrape of the target succeeded, 0 otherwise (synthetic, written by Prometheus)."},

	{Name: HTTPRequestsTotal, Type: Counter, Source: SourceGateway, Labels: []string{"handler", LabelHTTPStatus},
		Help: "Requests the gateway answered, by handler and HTTP status."},
	{Name: HTTPRequestDurationSeconds + "_bucket", Type: Counter, Source: SourceGateway, Labels: []string{"handler", "le"},
		Help: "Requests the gateway answered within le seconds (histogram bucket)."},
	{Name: HTTPRequestDurationSeconds + "_count", Type: Counter, Source: SourceGateway, Labels: []string{"handler"},
		Help: "Requests the gateway answered (histogram count)."},

	{Name: ContainerInfo, Type: Gauge, Source: SourceExporter, Container: true, Labels: []string{LabelImage, LabelID},
		Help: "Constant 1 per container, carrying its image and ID."},
	{Name: ContainerState, Type: Gauge, Source: SourceExporter, Container: true, Labels: []string{LabelState},
		Help: "1 for the container's current Docker state, 0 for the others."},
	{Name: ContainerHealthStatus, Type: Gauge, Source: SourceExporter, Container: true, Labels: []string{LabelStatus},
		Help: "1 for the running container's current healthcheck status, 0 for the others; absent without a healthcheck or while the container is not running."},
	{Name: ContainerRestartsTotal, Type: Counter, Source: SourceExporter, Container: true,
		Help: "Restarts of the container by Docker's restart policy (Docker's RestartCount); starts again from 0 when compose recreates the container."},
	{Name: ContainerExitsTotal, Type: Counter, Source: SourceExporter, Container: true, Labels: []string{LabelReason},
		Help: "Terminations of the container seen by the exporter, by reason."},
	{Name: ContainerLastExitCode, Type: Gauge, Source: SourceExporter, Container: true,
		Help: "Exit code of the container's last termination."},
	{Name: ContainerLastTerminationTimestamp, Type: Gauge, Source: SourceExporter, Container: true,
		Help: "Unix time of the container's last termination."},
	{Name: ContainerLastTerminationInfo, Type: Gauge, Source: SourceExporter, Container: true, Labels: []string{LabelExitCode, LabelReason},
		Help: "Constant 1 carrying the exit code and reason of the container's last termination; kept for a retention time after the container is removed."},
	{Name: ContainerStartedTimestamp, Type: Gauge, Source: SourceExporter, Container: true,
		Help: "Unix time the container last started."},
	{Name: ContainerMemoryWorkingSetBytes, Type: Gauge, Source: SourceExporter, Container: true,
		Help: "Container memory working set: usage minus inactive file cache, the figure the OOM killer acts on."},
	{Name: ContainerMemoryUsageBytes, Type: Gauge, Source: SourceExporter, Container: true,
		Help: "Container memory usage including page cache."},
	{Name: ContainerMemoryLimitBytes, Type: Gauge, Source: SourceExporter, Container: true,
		Help: "Container memory limit; absent when the container has none."},
	{Name: ContainerMemoryUsageRatio, Type: Gauge, Source: SourceExporter, Container: true,
		Help: "Memory working set divided by the memory limit; absent when the container has no limit."},

	{Name: ExporterSourceUp, Type: Gauge, Source: SourceExporter, Labels: []string{LabelSource},
		Help: "1 if the exporter's last contact with the source (docker, docker_stats, cadvisor) succeeded, 0 otherwise."},
	{Name: ExporterSourceErrorsTotal, Type: Counter, Source: SourceExporter, Labels: []string{LabelSource},
		Help: "Failed requests to a source (docker, docker_stats, cadvisor)."},
	{Name: ExporterEventsTotal, Type: Counter, Source: SourceExporter, Labels: []string{LabelAction},
		Help: "Docker container events applied, by action."},
	{Name: ExporterEventsDroppedTotal, Type: Counter, Source: SourceExporter,
		Help: "Docker events read while the exporter's event queue was full; each one ends the event stream and forces a resync, which lists every container again and replays the events since the last one applied."},
	{Name: ExporterIdentityCollisionsTotal, Type: Counter, Source: SourceExporter,
		Help: "Containers left out of a scrape because another one carried the same name, compose project and service; the exporter keeps one container per identity, so anything but 0 is a bug to report."},
	// client_golang's version collector writes this metric; a test of
	// cmd/gateway-exporter checks that it matches.
	{Name: ExporterBuildInfo, Type: Gauge, Source: SourceExporter, Labels: []string{"branch", "goarch", "goos", "goversion", "revision", "tags", "version"},
		Help: "A metric with a constant '1' value labeled by version, revision, branch, goversion from which gateway_exporter was built, and the goos and goarch for the build."},

	{Name: CAdvisorContainerMemoryWorkingSet, Type: Gauge, Source: SourceCAdvisor,
		Help: "cAdvisor: current working set of the container in bytes."},
	{Name: CAdvisorContainerMemoryUsage, Type: Gauge, Source: SourceCAdvisor,
		Help: "cAdvisor: current memory usage in bytes, including all memory regardless of when it was accessed."},
	{Name: CAdvisorContainerSpecMemoryLimit, Type: Gauge, Source: SourceCAdvisor,
		Help: "cAdvisor: memory limit for the container (0 when unlimited)."},
	{Name: CAdvisorContainerOOMEventsTotal, Type: Counter, Source: SourceCAdvisor,
		Help: "cAdvisor: count of out-of-memory events observed for the container."},
	{Name: CAdvisorContainerLastSeen, Type: Gauge, Source: SourceCAdvisor,
		Help: "cAdvisor: last time the container was seen by the exporter."},
	{Name: CAdvisorMachineMemoryBytes, Type: Gauge, Source: SourceCAdvisor,
		Help: "cAdvisor: amount of memory installed on the machine."},
}

var byName = func() map[string]Metric {
	m := make(map[string]Metric, len(metrics))
	for _, x := range metrics {
		m[x.Name] = x
	}
	return m
}()

// Lookup returns the catalog entry for a metric name.
func Lookup(name string) (Metric, bool) {
	m, ok := byName[name]
	return m, ok
}

// MustLookup returns the catalog entry for a name the code itself uses; an
// unknown name is a programming error.
func MustLookup(name string) Metric {
	m, ok := byName[name]
	if !ok {
		panic("catalog: unknown metric " + name)
	}
	return m
}

// All returns every catalogued metric sorted by name.
func All() []Metric {
	out := append([]Metric(nil), metrics...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// BySource returns the catalogued metrics of one source sorted by name.
func BySource(s Source) []Metric {
	var out []Metric
	for _, m := range All() {
		if m.Source == s {
			out = append(out, m)
		}
	}
	return out
}
