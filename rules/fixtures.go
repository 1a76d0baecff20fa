package rules

import (
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
	"github.com/sre-tools/promgen/spec/scenario"
)

// Selectors and test fixtures shared by the builders, all derived from the
// service they are given.

// containers selects metric for svc's own containers: by compose service
// and, when the spec names one, compose project; never a `docker compose
// run` one-off of the service, which runs its image and limits but is a
// task, not a replica. The matcher is != "true", not == "false", so that
// series without the label (a hand-written exporter or scrape setup) are
// still the service's.
func containers(svc spec.Service, metric string, extra ...*labels.Matcher) *parser.VectorSelector {
	m := []*labels.Matcher{spec.Eq(catalog.LabelComposeService, svc.Name)}
	if svc.ComposeProject != "" {
		m = append(m, spec.Eq(catalog.LabelComposeProject, svc.ComposeProject))
	}
	m = append(m, spec.Neq(catalog.LabelComposeOneoff, catalog.OneoffTrue))
	return spec.Metric(metric, append(m, extra...)...)
}

// The builders write their scenarios with package scenario's helpers, by
// short names: a builder's tests read as the runbook's situations.
var (
	series        = scenario.Series
	hold          = scenario.Hold
	stale         = scenario.Stale
	quiet         = scenario.Quiet
	fires         = scenario.Fires
	containerName = scenario.ContainerName
	container     = scenario.Container
	oneoff        = scenario.OneOff
	onHost        = scenario.OnHost
	target        = scenario.Target
	replica       = scenario.Replica
	discovered    = scenario.Discovered
	merge         = scenario.Merge
)

const (
	testHost      = scenario.Host
	otherTestHost = scenario.OtherHost
)

// containerOnHost identifies one container across hosts: the exporter's
// identity labels and the host label the scrape configuration adds. Absent
// host labels (a hand-written scrape configuration) match as empty.
var containerOnHost = append([]string{catalog.LabelHost}, catalog.ContainerLabels...)
