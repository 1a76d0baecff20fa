package catalog

// SourceAlertmanager is Alertmanager's own /metrics (checked against
// v0.28.1, the Alertmanager the stack runs).
const SourceAlertmanager Source = "alertmanager"

// The alerting pipeline's own metrics, which its self-alerts read: Prometheus
// (its /metrics, checked against v3.16.0) evaluating rules and sending
// alerts, and Alertmanager delivering them.
const (
	PrometheusRuleEvaluationFailuresTotal          = "prometheus_rule_evaluation_failures_total"
	PrometheusNotificationsDroppedTotal            = "prometheus_notifications_dropped_total"
	PrometheusNotificationsAlertmanagersDiscovered = "prometheus_notifications_alertmanagers_discovered"
	AlertmanagerNotificationsFailedTotal           = "alertmanager_notifications_failed_total"

	// LabelRuleGroup names a rule group: its file and its name.
	LabelRuleGroup = "rule_group"
	// LabelIntegration names an Alertmanager integration: slack, pagerduty,
	// webhook.
	LabelIntegration = "integration"
)

var selfMonitoringMetrics = []Metric{
	{Name: PrometheusRuleEvaluationFailuresTotal, Type: Counter, Source: SourcePrometheus, Labels: []string{LabelRuleGroup},
		Help: "Prometheus: the number of rule evaluations that failed, by rule group (its own /metrics)."},
	{Name: PrometheusNotificationsDroppedTotal, Type: Counter, Source: SourcePrometheus,
		Help: "Prometheus: alerts dropped due to errors when sending them to Alertmanager (its own /metrics)."},
	{Name: PrometheusNotificationsAlertmanagersDiscovered, Type: Gauge, Source: SourcePrometheus,
		Help: "Prometheus: the number of Alertmanagers discovered and active (its own /metrics)."},
	{Name: AlertmanagerNotificationsFailedTotal, Type: Counter, Source: SourceAlertmanager, Labels: []string{LabelIntegration},
		Help: "Alertmanager: notifications that failed to be delivered, by integration."},
}

func init() {
	metrics = append(metrics, selfMonitoringMetrics...)
	for _, m := range selfMonitoringMetrics {
		byName[m.Name] = m
	}
}
