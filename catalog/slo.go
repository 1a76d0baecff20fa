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
