package generate

import (
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/internal/rulecheck"
)

// TestABadRuleFileFailsTheBuildWithRulefmtsMessage: what rulecheck refuses
// (rulecheck's tests hold it to rulefmt) fails the build, named by path,
// with rulefmt's own message; a valid file passes.
func TestABadRuleFileFailsTheBuildWithRulefmtsMessage(t *testing.T) {
	rc := &rulecheck.Checker{}
	good := "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          summary: '{{ $labels.job }} is down'\n"
	if err := checkRules(rc, "rules/g.rules.yml", decodeRules(t, good), []byte(good)); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(good, "$labels.job }}", "$labels.job ", 1)
	err := checkRules(rc, "rules/g.rules.yml", decodeRules(t, bad), []byte(bad))
	if err == nil {
		t.Fatal("a broken template passed")
	}
	const want = `rules/g.rules.yml: rulefmt rejects the generated rules: [group "g", rule 1, "A": annotation "summary": template: __alert_A:1: function "is" not defined]`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
}

func decodeRules(t *testing.T, content string) rulefmt.RuleGroups {
	t.Helper()
	var rg rulefmt.RuleGroups
	if err := yaml.Unmarshal([]byte(content), &rg); err != nil {
		t.Fatal(err)
	}
	return rg
}

// TestEveryRuleFileDecodesToTheGroupsItWasCheckedAs: the build checks the
// rule groups it encoded, not a decoding of the file (rulecheck's
// ValidEncoding), and lint reads those groups. This decodes every rule file
// the builders write, strictly, as Prometheus does, and holds the result to
// the groups checked: what the build checked is what Prometheus loads.
func TestEveryRuleFileDecodesToTheGroupsItWasCheckedAs(t *testing.T) {
	rc := &rulecheck.Checker{}
	n := 0
	for _, files := range buildEveryKind(t, rc) {
		for _, p := range files.Paths() {
			if !strings.HasSuffix(p, ".rules.yml") {
				continue
			}
			n++
			decoded, ok := (&rulecheck.Checker{}).Valid(files[p])
			if !ok {
				t.Errorf("%s: Prometheus' strict decoding and checks refuse it", p)
				continue
			}
			checked, ok := rc.Valid(files[p])
			if !ok || checked == decoded {
				t.Fatalf("%s: the build's checker did not keep the groups it checked", p)
			}
			if !reflect.DeepEqual(decoded, checked) {
				t.Errorf("%s decodes to other groups than the build checked:\ndecoded %+v\nchecked %+v", p, *decoded, *checked)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d rule files built", n)
	}
	t.Logf("%d rule files decoded", n)
}
