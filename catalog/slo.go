package catalog

import (
	"time"

	"github.com/prometheus/common/model"
)

// Series promgen records for service level objectives and the incident's
// impact (rules.SLOs), level:metric:operations. Each carries the service
// label; the objectives' carry slo too.
const (
	RecordUpMax           = "service:up:max"
	RecordRequestsRate    = "service:requests:rate5m"
	RecordBudgetRemaining = "service:error_budget:remaining"
	// RecordRequestsRateServed is the request rate of the last time the
	// service answered, held through an outage: the traffic it loses.
	RecordRequestsRateServed = "service:requests:rate_served"
	LabelSLO                 = "slo"
)

// RecordErrorRatio names an objective's error ratio over a window.
func RecordErrorRatio(w time.Duration) string {
	return "service:sli_errors:ratio_rate" + model.Duration(w).String()
}

// RecordEventsRate names an objective's events per second over window w,
// summed over the service: its requests, or its histogram's observations.
// The long windows' ratios are sums over time of it and RecordErrorsRate,
// which read one series each rather than every raw counter.
func RecordEventsRate(w time.Duration) string {
	return "service:sli_events:rate" + model.Duration(w).String()
}

// RecordErrorsRate names an objective's bad events per second over window w.
func RecordErrorsRate(w time.Duration) string {
	return "service:sli_errors:rate" + model.Duration(w).String()
}

// RecordDowntime names the seconds a service was down within window w.
func RecordDowntime(w time.Duration) string {
	return "service:downtime:seconds_" + model.Duration(w).String()
}

// RecordRequestsLost names the requests a service's downtime within w cost.
func RecordRequestsLost(w time.Duration) string {
	return "service:requests_lost:estimate_" + model.Duration(w).String()
}

// RecordBudgetSpent names the share of an objective's budget spent in w.
func RecordBudgetSpent(w time.Duration) string {
	return "service:error_budget:spent_ratio_" + model.Duration(w).String()
}
