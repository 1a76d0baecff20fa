package rules

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/spec"
)

// platform is a target the runbook's alerts are written over: where a
// service runs (compose on Docker, read through gateway-exporter; a
// Deployment on Kubernetes, read through kube-state-metrics and the
// kubelet) and which series carry each of the runbook's signals there.
// Every alert builder is written once over it, so a fix to an alert lands
// on every platform, and a new platform is a new implementation, never an
// edit inside a builder.
//
// Its methods come in three kinds: selectors of a signal, as PromQL trees;
// annotation queries on the alert's own container (matchers of ofAlert);
// and test fixtures, the raw series the platform publishes in a situation,
// from which the builders' shared scenarios are written. Each platform
// lists an alert's scenarios in its order, the shared ones and those only
// it has (a compose one-off, a namespace beside the service's).
type platform interface {
	// profile is the timing profile the alerts are built in.
	profile() Profile

	// memoryAbove selects the containers whose working set is above
	// threshold of their memory limit, labelled name among their identity.
	memoryAbove(threshold float64) parser.Expr
	// memoryLimit queries the alert's container's memory limit in bytes.
	memoryLimit() parser.Expr
	// alerted is the labels an alert on container n of the service carries.
	alerted(n int) map[string]string
	// memory is container n's working set at ratio of limit bytes, for
	// the segments' length, and its limit for as long.
	memory(n int, limit float64, ratio ...spec.Segment) []spec.Series
	// memoryTests lists a memory alert's scenarios: c's shared ones and
	// the platform's own.
	memoryTests(c memoryCase) []spec.Test

	// crashLooping selects the containers restarted three times within
	// window (or held back from restarting), labelled name.
	crashLooping(window time.Duration) parser.Expr
	// restarted says, of the container name, that it was restarted times
	// within window, in the platform's words.
	restarted(name, times string, window time.Duration) string
	// restartCount, lastExitCode and lastReason query the alert's own
	// container; lastReason as a reason word (catalog.Reason*).
	restartCount() parser.Expr
	lastExitCode() parser.Expr
	lastReason() parser.Expr
	// restarts is container n's restart count.
	restarts(n int, segs ...spec.Segment) spec.Series
	// lastExit is what the platform publishes of container n's last exit
	// with code, for reason, for dur.
	lastExit(n, code int, reason string, dur time.Duration) []spec.Series
	// crashLoopTests lists the crash loop's scenarios.
	crashLoopTests(c crashCase) []spec.Test

	// serviceDownAlerts selects what Prometheus records of the service's
	// ServiceDown in metric (ALERTS or ALERTS_FOR_STATE), with extra.
	serviceDownAlerts(metric string, extra ...*labels.Matcher) *parser.VectorSelector
	// oomKilled selects the containers the kernel OOM-killed within
	// window, labelled name and exit_code.
	oomKilled(window time.Duration) parser.Expr
	// oomTests lists the OOM kill's scenarios of a.
	oomTests(a spec.Alert, window time.Duration) []spec.Test

	// unhealthy selects the containers that run without serving, as the
	// platform's health signal says, labelled name.
	unhealthy() parser.Expr
	// unhealthyWords is ContainerUnhealthy's description after forDur.
	unhealthyWords(forDur time.Duration) string
	// unhealthyTests lists ContainerUnhealthy's scenarios of a.
	unhealthyTests(a spec.Alert) []spec.Test

	// serviceDown selects the service while it cannot serve, labelled by
	// the service alone, whatever its replicas do.
	serviceDown() parser.Expr
	// whyDown is the opening of ServiceDown's description: what the
	// platform sees of the outage.
	whyDown() string
	// terminations selects the last termination of each of the service's
	// containers since diagnosisLead before since, labelled reason (in
	// catalog.Reason's words) and exit_code, valued its time.
	terminations(since parser.Expr) parser.Expr
	// termination renders the query last's termination for ServiceDown's
	// summary (what follows "is down") or description.
	termination(last parser.Expr, summary bool) string
	// serviceRestarts queries the service's restart count, peakMemory its
	// highest working set within window as a share of the limit.
	serviceRestarts() parser.Expr
	peakMemory(window time.Duration) parser.Expr
	// impact is ServiceDown's impact annotations for an outage since the
	// time since yields; none where the platform records no ServedRate.
	impact(since parser.Expr) map[string]string
	// serviceDownTests lists ServiceDown's scenarios of a.
	serviceDownTests(a spec.Alert) []spec.Test
}
