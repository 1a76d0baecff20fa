package generate

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/spec"
)

// ScenarioFile renders scenarios (input series and queries; no alert
// expectations, which promtool compares annotation by annotation) as a
// promtool unit-test file over ruleFiles, rules evaluated every interval.
// The scenario suite (test/scenarios) runs it against generated rule files
// with the same series notation the builders' own tests use.
func ScenarioFile(ruleFiles []string, interval time.Duration, tests []spec.Test) ([]byte, error) {
	f := testFile{RuleFiles: ruleFiles, EvaluationInterval: model.Duration(interval)}
	for _, t := range tests {
		if t.Interval == 0 {
			t.Interval = interval
		}
		f.Tests = append(f.Tests, testGroupOf("scenario", t))
	}
	b, err := yaml.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("scenario file: %w", err)
	}
	return b, nil
}
