package generate

import (
	"strings"
	"testing"

	"github.com/sre-tools/promgen/internal/rulecheck"
)

// TestABadRuleFileFailsTheBuildWithRulefmtsMessage: what rulecheck refuses
// (rulecheck's tests hold it to rulefmt) fails the build, named by path,
// with rulefmt's own message; a valid file passes.
func TestABadRuleFileFailsTheBuildWithRulefmtsMessage(t *testing.T) {
	rc := &rulecheck.Checker{}
	good := "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          summary: '{{ $labels.job }} is down'\n"
	if err := checkRules(rc, "rules/g.rules.yml", []byte(good)); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(good, "$labels.job }}", "$labels.job ", 1)
	err := checkRules(rc, "rules/g.rules.yml", []byte(bad))
	if err == nil {
		t.Fatal("a broken template passed")
	}
	const want = `rules/g.rules.yml: rulefmt rejects the generated rules: [group "g", rule 1, "A": annotation "summary": template: __alert_A:1: function "is" not defined]`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
}
