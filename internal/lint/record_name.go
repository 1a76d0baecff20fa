package lint

import "regexp"

// levelMetricOperations is the shape Prometheus' documentation gives
// recording rule names, level:metric:operations; the level may be empty
// (":node_memory_MemAvailable_bytes:sum") and the operations may hold more
// colons. What matters most is the colon: a name without one reads as an
// exporter's metric and may collide with one.
var levelMetricOperations = regexp.MustCompile(`^[a-zA-Z0-9_]*:[a-zA-Z_][a-zA-Z0-9_]*(:[a-zA-Z0-9_:]*)?$`)

// recordName reports recording rules whose name is not of the form
// level:metric:operations (or the conventions' record_name pattern): such a
// series reads as raw exporter data, hides that it is aggregated, and can
// collide with a metric a target exposes under the same name.
type recordName struct{}

func (recordName) Name() string { return "record-name" }

func (recordName) Check(run *Run) []Problem {
	return run.eachRule(func(f *RuleFile, _ *Group, r *Rule) []Problem {
		if r.Record == "" {
			return nil
		}
		if c := run.policy(f, r).Conventions; c != nil && c.RecordName != nil {
			if c.RecordName.MatchString(r.Record) {
				return nil
			}
			return []Problem{ruleProblem(f, r, r.Line(), SeverityWarning, "name does not match the record name pattern %s", c.RecordName)}
		}
		if levelMetricOperations.MatchString(r.Record) {
			return nil
		}
		return []Problem{ruleProblem(f, r, r.Line(), SeverityWarning, "name is not of the form level:metric:operations (such as job:http_requests:rate5m): without colons it reads as, and can collide with, a metric a target exposes")}
	})
}
