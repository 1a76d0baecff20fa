package catalog

// The series the Kubernetes target's alerts read: kube-state-metrics' view
// of pods, containers and Deployments, and the kubelet's cAdvisor for the
// working set (CAdvisorContainerMemoryWorkingSet, the same name as on a
// Docker host, with Kubernetes' namespace, pod and container labels).

// SourceKubeStateMetrics is kube-state-metrics (checked against v2.x).
const SourceKubeStateMetrics Source = "kube-state-metrics"

// Labels of the Kubernetes series, as kube-state-metrics and the kubelet's
// cAdvisor name them.
const (
	LabelNamespace  = "namespace"
	LabelPod        = "pod"
	LabelContainer  = "container"
	LabelDeployment = "deployment"
	LabelResource   = "resource"
	LabelUnit       = "unit"
	LabelCondition  = "condition"
	LabelPhase      = "phase"
	LabelUID        = "uid"
	LabelNode       = "node"
)

// KubeNameChars are the characters Kubernetes draws the generated parts of
// names from (k8s.io/apimachinery/pkg/util/rand: no vowels, no 0, 1 or 3).
// A Deployment's pod is <deployment>-<pod-template hash>-<suffix>, the hash
// 1 to 10 of these and the suffix 5; a Job's pod is <job>-<suffix>. Matching
// the generated parts by these characters keeps a Job named
// <deployment>-migrate (a Helm hook, the service's image and container)
// out of the Deployment's pods: "migrate" has vowels.
const KubeNameChars = "bcdfghjklmnpqrstvwxz2456789"

// KubePodLabels identify a container of a pod in kube-state-metrics and
// cAdvisor series.
var KubePodLabels = []string{LabelNamespace, LabelPod, LabelContainer}

// Termination and waiting reasons kube-state-metrics reports, as the
// kubelet names them.
const (
	KubeReasonOOMKilled        = "OOMKilled"
	KubeReasonError            = "Error"
	KubeReasonCompleted        = "Completed"
	KubeReasonCrashLoopBackOff = "CrashLoopBackOff"
)

// Pod phases kube-state-metrics reports in kube_pod_status_phase. A pod in
// a terminal phase (evicted, or its containers done) never serves again
// and stays listed until it is garbage-collected.
const (
	KubePhasePending   = "Pending"
	KubePhaseRunning   = "Running"
	KubePhaseSucceeded = "Succeeded"
	KubePhaseFailed    = "Failed"
	KubePhaseUnknown   = "Unknown"
)

// KubePhases are every pod phase, in kube-state-metrics' order.
var KubePhases = []string{KubePhasePending, KubePhaseRunning, KubePhaseSucceeded, KubePhaseFailed, KubePhaseUnknown}

// Metric names of kube-state-metrics the Kubernetes alerts read.
const (
	KubePodContainerLastTerminatedReason    = "kube_pod_container_status_last_terminated_reason"
	KubePodContainerLastTerminatedExitCode  = "kube_pod_container_status_last_terminated_exitcode"
	KubePodContainerLastTerminatedTimestamp = "kube_pod_container_status_last_terminated_timestamp"
	KubePodContainerRestartsTotal           = "kube_pod_container_status_restarts_total"
	KubePodContainerWaitingReason           = "kube_pod_container_status_waiting_reason"
	KubePodContainerResourceLimits          = "kube_pod_container_resource_limits"
	KubeDeploymentReplicasAvailable         = "kube_deployment_status_replicas_available"
	KubeDeploymentSpecReplicas              = "kube_deployment_spec_replicas"
	KubePodStatusReady                      = "kube_pod_status_ready"
	KubePodStatusPhase                      = "kube_pod_status_phase"
)

var kubernetesMetrics = []Metric{
	{Name: KubePodContainerLastTerminatedReason, Type: Gauge, Source: SourceKubeStateMetrics, Labels: []string{LabelNamespace, LabelPod, LabelUID, LabelContainer, LabelReason},
		Help: "Describes the last reason the container was in terminated state (1 for the reason); gone when the pod is deleted."},
	{Name: KubePodContainerLastTerminatedExitCode, Type: Gauge, Source: SourceKubeStateMetrics, Labels: []string{LabelNamespace, LabelPod, LabelUID, LabelContainer},
		Help: "Describes the exit code for the last container in terminated state."},
	{Name: KubePodContainerLastTerminatedTimestamp, Type: Gauge, Source: SourceKubeStateMetrics, Labels: []string{LabelNamespace, LabelPod, LabelUID, LabelContainer},
		Help: "Last terminated time for a pod container in unix timestamp."},
	{Name: KubePodContainerRestartsTotal, Type: Counter, Source: SourceKubeStateMetrics, Labels: []string{LabelNamespace, LabelPod, LabelUID, LabelContainer},
		Help: "The number of container restarts per container."},
	{Name: KubePodContainerWaitingReason, Type: Gauge, Source: SourceKubeStateMetrics, Labels: []string{LabelNamespace, LabelPod, LabelUID, LabelContainer, LabelReason},
		Help: "Describes the reason the container is currently in waiting state, e.g. CrashLoopBackOff."},
	{Name: KubePodContainerResourceLimits, Type: Gauge, Source: SourceKubeStateMetrics, Labels: []string{LabelNamespace, LabelPod, LabelUID, LabelContainer, LabelNode, LabelResource, LabelUnit},
		Help: "The number of requested limit resource by a container; resource=\"memory\" is in bytes."},
	{Name: KubeDeploymentReplicasAvailable, Type: Gauge, Source: SourceKubeStateMetrics, Labels: []string{LabelNamespace, LabelDeployment},
		Help: "The number of available replicas per deployment."},
	{Name: KubeDeploymentSpecReplicas, Type: Gauge, Source: SourceKubeStateMetrics, Labels: []string{LabelNamespace, LabelDeployment},
		Help: "Number of desired pods for a deployment."},
	{Name: KubePodStatusReady, Type: Gauge, Source: SourceKubeStateMetrics, Labels: []string{LabelNamespace, LabelPod, LabelUID, LabelCondition},
		Help: "Describes whether the pod is ready to serve requests (1 for the condition true, false or unknown)."},
	{Name: KubePodStatusPhase, Type: Gauge, Source: SourceKubeStateMetrics, Labels: []string{LabelNamespace, LabelPod, LabelUID, LabelPhase},
		Help: "The pods current phase (1 for the phase Pending, Running, Succeeded, Failed or Unknown)."},
}

func init() {
	metrics = append(metrics, kubernetesMetrics...)
	for _, m := range kubernetesMetrics {
		byName[m.Name] = m
	}
}
