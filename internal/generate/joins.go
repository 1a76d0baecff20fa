package generate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/moby"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/scrape"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/analysis"
	"github.com/sre-tools/promgen/spec"
)

// The cross-file check between the rules and prometheus.yml: the labels a
// service's targets carry are those Prometheus' own target labelling gives
// them (scrape.PopulateLabels, relabel_configs included), and the alerts
// that join those targets to gateway-exporter's per-container series must
// be able to match them, by the container's identity when the target has
// one. No single-file linter can know either side.

// labelSet is the label names of one kind of series.
type labelSet map[string]bool

func (l labelSet) names() []string {
	out := make([]string, 0, len(l))
	for n := range l {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// jobTargets returns, per job label, the label sets its targets carry:
// one per static target and one per discovered container, as Prometheus
// labels them. A discovered container is a host-network compose container
// of the job's service, as docker_sd_configs reports it.
func jobTargets(cfg *config.Config, s spec.Spec) (map[string][]labelSet, error) {
	svcOf := map[string]spec.Service{}
	for _, svc := range s.Services {
		svcOf[svc.JobName()] = svc
	}
	out := map[string][]labelSet{}
	for _, sc := range cfg.ScrapeConfigs {
		var discovered []model.LabelSet
		for _, sd := range sc.ServiceDiscoveryConfigs {
			switch sd := sd.(type) {
			case discovery.StaticConfig:
				for _, g := range sd {
					for _, t := range g.Targets {
						discovered = append(discovered, t.Merge(g.Labels))
					}
				}
			case *moby.DockerSDConfig:
				discovered = append(discovered, composeContainer(sd, sc.JobName, svcOf))
			}
		}
		for _, d := range discovered {
			ls, err := scrape.PopulateLabels(labels.NewBuilder(labels.EmptyLabels()), sc, d, nil)
			if err != nil {
				return nil, fmt.Errorf("job %q: target %v: %w", sc.JobName, d, err)
			}
			set := labelSet{}
			ls.Range(func(l labels.Label) {
				if !strings.HasPrefix(l.Name, model.ReservedLabelPrefix) {
					set[l.Name] = true
				}
			})
			job := ls.Get(model.JobLabel)
			out[job] = append(out[job], set)
		}
	}
	return out, nil
}

// composeContainer is the meta labels docker_sd_configs gives a running
// host-network container of the service the job scrapes.
func composeContainer(sd *moby.DockerSDConfig, jobName string, svcOf map[string]spec.Service) model.LabelSet {
	svc := svcOf[strings.SplitN(jobName, "@", 2)[0]]
	project := svc.ComposeProject
	if project == "" {
		project = "project"
	}
	return model.LabelSet{
		model.AddressLabel: model.LabelValue(sd.HostNetworkingHost),
		metaContainerName:  model.LabelValue("/" + project + "-" + svc.Name + "-1"),
		metaNetworkMode:    "host",
		metaNetworkIP:      "",
		dockerMeta(catalog.DockerLabelComposeService): model.LabelValue(svc.Name),
		dockerMeta(catalog.DockerLabelComposeProject): model.LabelValue(project),
		dockerMeta(catalog.DockerLabelComposeOneoff):  "False",
	}
}

// checkTargets reports targets that lack the labels the exporter's series
// are joined on: every discovered container its identity and host, every
// diagnosis source its host, every static target its compose service.
func checkTargets(s spec.Spec, targets map[string][]labelSet) []error {
	var errs []error
	need := func(job, what string, want ...string) {
		for _, t := range targets[job] {
			for _, l := range want {
				if !t[l] {
					errs = append(errs, fmt.Errorf("prometheus.yml: job %q: %s carry no %s label (labels: %s), which the alerts join gateway-exporter's series on",
						job, what, l, strings.Join(t.names(), ", ")))
				}
			}
		}
	}
	for _, svc := range s.Services {
		switch {
		case svc.Scrape.Port != 0:
			need(svc.JobName(), "discovered containers", append([]string{catalog.LabelHost}, catalog.TargetLabels...)...)
		case len(svc.Scrape.Static) > 0:
			need(svc.JobName(), "static targets", catalog.LabelComposeService)
		}
	}
	need(s.Sources.Exporter(), "gateway-exporter's targets", catalog.LabelHost)
	return errs
}

// checkJoins reports alerts that join a service's targets to
// gateway-exporter's series where, for some kind of target the service has,
// no join can ever match (its pages never carry the diagnosis), or where
// the target names its container but the join that matches it does not key
// on that container and its host (its pages may carry another container's
// diagnosis).
func checkJoins(s spec.Spec, targets map[string][]labelSet) []error {
	var errs []error
	for _, svc := range s.Services {
		job := svc.JobName()
		for _, a := range svc.Alerts {
			if a.Expr == nil || !slices.Contains(analysis.Selected(a.Expr, model.JobLabel), job) || !readsExporter(a.Expr) {
				continue
			}
			for _, t := range targets[job] {
				if p := joinProblem(a.Expr, job, t, s, targets); p != "" {
					errs = append(errs, &spec.FieldError{Service: svc.Name, Alert: a.Name, Field: "expr", Problem: p})
				}
			}
		}
	}
	return errs
}

// joinProblem says what is wrong with e's joins for a target of job with
// labels t, or "".
func joinProblem(e parser.Expr, job string, t labelSet, s spec.Spec, targets map[string][]labelSet) string {
	in := inference{job: job, target: t, exporter: s.Sources.Exporter(), targets: targets}
	var joined []alt
	for _, a := range in.eval(e) {
		if a.fromJob && a.fromExporter {
			joined = append(joined, a)
		}
	}
	desc := fmt.Sprintf("job %q's targets (labels %s)", job, strings.Join(t.names(), ", "))
	if len(joined) == 0 {
		return fmt.Sprintf("no join of gateway-exporter's series ever matches %s: its pages never carry the diagnosis", desc)
	}
	if !t[catalog.LabelName] {
		return ""
	}
	for _, a := range joined {
		if !slices.Contains(a.key, catalog.LabelName) || (t[catalog.LabelHost] && !slices.Contains(a.key, catalog.LabelHost)) {
			return fmt.Sprintf("joins gateway-exporter's series to %s on (%s): the targets name their container, so the join must key on %s and %s, or a page may carry another container's diagnosis",
				desc, strings.Join(a.key, ", "), catalog.LabelHost, catalog.LabelName)
		}
	}
	return ""
}

// alt is one kind of series an expression may return: what is known of
// its labels, and whether it holds the job's targets, gateway-exporter's
// series, and the key they were joined on.
type alt struct {
	labels                analysis.Labels
	scalar                bool
	fromJob, fromExporter bool
	key                   []string
}

// inference finds the kinds of series each subexpression returns, for one
// kind of target of the job: analysis.Step's label semantics followed down
// each alternative an "or" offers, with where the series came from.
type inference struct {
	job      string
	target   labelSet
	exporter string
	targets  map[string][]labelSet
}

func (in inference) eval(e parser.Expr) []alt {
	if !isVector(e) {
		return []alt{{scalar: true}}
	}
	switch n := e.(type) {
	case *parser.VectorSelector:
		return []alt{in.selector(n)}
	case *parser.BinaryExpr:
		return in.binary(n)
	}
	// Every other node has at most one vector operand: follow each of its
	// alternatives through the node.
	var operand parser.Expr
	for _, c := range parser.Children(e) {
		if x, ok := c.(parser.Expr); ok && isVector(x) {
			operand = x
			break
		}
	}
	if operand == nil {
		l, _ := analysis.Step(e, in.labelsOf)
		return []alt{{labels: l}}
	}
	var out []alt
	for _, a := range in.eval(operand) {
		a.labels, _ = analysis.Step(e, func(x parser.Expr) (analysis.Labels, bool) {
			if x == operand {
				return a.labels, true
			}
			return in.labelsOf(x)
		})
		if a.labels.Absent {
			// absent()'s series is none of its operand's.
			a = alt{labels: a.labels}
		}
		out = append(out, a)
	}
	return out
}

func isVector(e parser.Expr) bool {
	t := e.Type()
	return t == parser.ValueTypeVector || t == parser.ValueTypeMatrix
}

// labelsOf is the labels of an operand that is not followed, such as a
// scalar or string argument.
func (in inference) labelsOf(e parser.Expr) (analysis.Labels, bool) {
	return analysis.LabelsOf(e, func(vs *parser.VectorSelector) analysis.Labels { return in.selector(vs).labels })
}

// selector: the job's series carry its target's labels; gateway-exporter's
// its target's and the catalog's; any other metric is not known here.
func (in inference) selector(vs *parser.VectorSelector) alt {
	for _, m := range vs.LabelMatchers {
		if m.Name == model.JobLabel && m.Type == labels.MatchEqual && m.Value == in.job {
			return alt{labels: analysis.Exactly("job "+in.job+"'s targets", in.target.names()...), fromJob: true}
		}
	}
	if m, ok := catalog.Lookup(vs.Name); ok && m.Source == catalog.SourceExporter && len(in.targets[in.exporter]) > 0 {
		names := append(in.targets[in.exporter][0].names(), m.AllLabels()...)
		return alt{labels: analysis.Exactly(vs.Name, names...), fromExporter: true}
	}
	return alt{labels: analysis.Unbounded(vs)}
}

func (in inference) binary(n *parser.BinaryExpr) []alt {
	lhs, rhs := in.eval(n.LHS), in.eval(n.RHS)
	switch {
	case len(lhs) > 0 && lhs[0].scalar:
		return rhs
	case len(rhs) > 0 && rhs[0].scalar:
		return lhs
	}
	switch n.Op {
	case parser.LOR:
		return append(lhs, rhs...)
	case parser.LAND, parser.LUNLESS:
		return lhs
	}
	vm := n.VectorMatching
	var out []alt
	for _, a := range lhs {
		for _, b := range rhs {
			if !analysis.CanMatch(a.labels, b.labels, vm) {
				continue
			}
			r := a
			if vm != nil && vm.Card == parser.CardOneToMany {
				r = b
			}
			r.labels, _ = analysis.Step(n, func(x parser.Expr) (analysis.Labels, bool) {
				if x == n.LHS {
					return a.labels, true
				}
				return b.labels, true
			})
			r.fromJob, r.fromExporter = a.fromJob || b.fromJob, a.fromExporter || b.fromExporter
			r.key = slices.Concat(a.key, b.key)
			if (a.fromJob && b.fromExporter) || (a.fromExporter && b.fromJob) {
				r.key = analysis.MatchKey(a.labels, vm)
			}
			out = append(out, r)
		}
	}
	return out
}

// readsExporter reports whether e selects any of gateway-exporter's series.
func readsExporter(e parser.Expr) bool {
	return slices.ContainsFunc(analysis.Selectors(e), func(vs *parser.VectorSelector) bool {
		m, ok := catalog.Lookup(vs.Name)
		return ok && m.Source == catalog.SourceExporter
	})
}
