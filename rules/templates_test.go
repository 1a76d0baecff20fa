package rules_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/rules"
	"github.com/sre-tools/promgen/spec"
)

// annotationQuery finds the query pipelines of an annotation template: a
// fixed query, or a query printf fills with the alert's label values.
var annotationQuery = regexp.MustCompile("{{ (?:with|range) (?:query `([^`]*)`|printf `([^`]*)`((?: \\$labels\\.[a-zA-Z_]+)+) \\| query) }}")

// TestAnnotationQueriesAreTheirTreesPrinted holds every annotation query of
// the runbook's alerts, on Docker and on Kubernetes, to the text the PromQL
// printer makes of it once the alert's label values are filled in: a query
// glued from text (matchers in another order, other spacing) fails here.
func TestAnnotationQueriesAreTheirTreesPrinted(t *testing.T) {
	svc := spec.Service{Name: "api", Container: spec.RunbookContainer("http://localhost:8080/health"), Scrape: spec.Scrape{Port: 8080}}
	alerts := append(rules.Runbook(svc, rules.Production), rules.KubernetesRunbook(&spec.Kubernetes{}, svc, rules.Production)...)
	found := 0
	for _, a := range alerts {
		texts := []string{a.Summary, a.Description}
		for _, v := range a.Annotations {
			texts = append(texts, v)
		}
		for _, text := range texts {
			for _, m := range annotationQuery.FindAllStringSubmatch(text, -1) {
				found++
				q := m[1]
				if m[2] != "" {
					// printf's verbs: each %q a label value, %% a percent sign.
					n := len(strings.Fields(m[3]))
					if got := strings.Count(strings.ReplaceAll(m[2], "%%", ""), "%q"); got != n {
						t.Errorf("%s: printf `%s` has %d %%q for %d label values", a.Name, m[2], got, n)
						continue
					}
					q = strings.ReplaceAll(strings.ReplaceAll(m[2], "%q", strconv.Quote("value")), "%%", "%")
				}
				e, err := parser.NewParser(parser.Options{}).ParseExpr(q)
				if err != nil {
					t.Errorf("%s: annotation query %s: %v", a.Name, q, err)
					continue
				}
				if printed := e.String(); printed != q {
					t.Errorf("%s: annotation query\n  %s\nis not as the printer prints it:\n  %s", a.Name, q, printed)
				}
			}
		}
	}
	if found < 20 {
		t.Fatalf("found only %d annotation queries: the pattern is broken", found)
	}
}
