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
			if a.Expr == nil || !spec.SelectsJob(a.Expr, job) || !readsExporter(a.Expr) {
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

// alt is one kind of series an expression may return: its label names, and
// whether it holds the job's targets, gateway-exporter's series, and the
// key they were joined on.
type alt struct {
	labels                labelSet
	unknown               bool // labels not known: matches any join
	scalar                bool
	fromJob, fromExporter bool
	key                   []string
}

// inference finds the kinds of series each subexpression returns, for one
// kind of target of the job: a small abstract evaluation of PromQL over
// label names, not values.
type inference struct {
	job      string
	target   labelSet
	exporter string
	targets  map[string][]labelSet
}

func (in inference) eval(e parser.Expr) []alt {
	switch n := e.(type) {
	case *parser.ParenExpr:
		return in.eval(n.Expr)
	case *parser.StepInvariantExpr:
		return in.eval(n.Expr)
	case *parser.UnaryExpr:
		return in.eval(n.Expr)
	case *parser.MatrixSelector:
		return in.eval(n.VectorSelector)
	case *parser.SubqueryExpr:
		return in.eval(n.Expr)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return []alt{{scalar: true}}
	case *parser.VectorSelector:
		return []alt{in.selector(n)}
	case *parser.AggregateExpr:
		return in.aggregate(n)
	case *parser.Call:
		return in.call(n)
	case *parser.BinaryExpr:
		return in.binary(n)
	}
	return []alt{{unknown: true}}
}

// selector: the job's series carry its target's labels; gateway-exporter's
// its target's and the catalog's; any other metric is not known here.
func (in inference) selector(vs *parser.VectorSelector) alt {
	for _, m := range vs.LabelMatchers {
		if m.Name == model.JobLabel && m.Type == labels.MatchEqual && m.Value == in.job {
			return alt{labels: clone(in.target), fromJob: true}
		}
	}
	if m, ok := catalog.Lookup(vs.Name); ok && m.Source == catalog.SourceExporter && len(in.targets[in.exporter]) > 0 {
		set := clone(in.targets[in.exporter][0])
		for _, l := range m.AllLabels() {
			set[l] = true
		}
		return alt{labels: set, fromExporter: true}
	}
	return alt{unknown: true}
}

func (in inference) aggregate(n *parser.AggregateExpr) []alt {
	out := in.eval(n.Expr)
	switch n.Op {
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
		return out
	}
	for i, a := range out {
		if a.unknown || a.scalar {
			continue
		}
		kept := labelSet{}
		for l := range a.labels {
			if slices.Contains(n.Grouping, l) != n.Without {
				kept[l] = true
			}
		}
		out[i].labels = kept
	}
	return out
}

func (in inference) call(n *parser.Call) []alt {
	var vector []alt
	for _, arg := range n.Args {
		if a := in.eval(arg); len(a) > 0 && !a[0].scalar {
			vector = a
			break
		}
	}
	if vector == nil {
		return []alt{{scalar: true}}
	}
	switch n.Func.Name {
	case "label_replace", "label_join":
		dst, ok := n.Args[1].(*parser.StringLiteral)
		if !ok {
			return vector
		}
		// label_replace with an empty replacement removes the label.
		empty := false
		if r, ok := n.Args[2].(*parser.StringLiteral); ok && n.Func.Name == "label_replace" && r.Val == "" {
			empty = true
		}
		for i := range vector {
			if vector[i].labels == nil {
				continue
			}
			vector[i].labels = clone(vector[i].labels)
			if empty {
				delete(vector[i].labels, dst.Val)
			} else {
				vector[i].labels[dst.Val] = true
			}
		}
	case "absent", "absent_over_time":
		return []alt{{unknown: true}}
	}
	return vector
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
			if !matches(a, b, vm) {
				continue
			}
			r := a
			if vm != nil && vm.Card == parser.CardOneToMany {
				r = b
			}
			r.fromJob, r.fromExporter = a.fromJob || b.fromJob, a.fromExporter || b.fromExporter
			r.key = slices.Concat(a.key, b.key)
			if (a.fromJob && b.fromExporter) || (a.fromExporter && b.fromJob) {
				r.key = joinKey(a, vm)
			}
			out = append(out, r.result(a, b, vm))
		}
	}
	return out
}

// result gives r the labels Prometheus gives a matched pair: the matching
// labels only for one-to-one with on, else its side's plus the included
// labels of the other.
func (r alt) result(a, b alt, vm *parser.VectorMatching) alt {
	if r.unknown || vm == nil {
		return r
	}
	out := clone(r.labels)
	switch vm.Card {
	case parser.CardOneToOne:
		if vm.On {
			out = labelSet{}
			for _, l := range vm.MatchingLabels {
				if a.labels[l] || a.unknown {
					out[l] = true
				}
			}
		}
	case parser.CardManyToOne, parser.CardOneToMany:
		other := b
		if vm.Card == parser.CardOneToMany {
			other = a
		}
		for _, l := range vm.Include {
			if other.labels[l] || other.unknown {
				out[l] = true
			}
		}
	}
	r.labels = out
	return r
}

// matches reports whether series of kinds a and b can match: each label
// the match compares is present on both sides or on neither.
func matches(a, b alt, vm *parser.VectorMatching) bool {
	if a.unknown || b.unknown {
		return true
	}
	compared := map[string]bool{}
	if vm != nil && vm.On {
		for _, l := range vm.MatchingLabels {
			compared[l] = true
		}
	} else {
		for l := range a.labels {
			compared[l] = true
		}
		for l := range b.labels {
			compared[l] = true
		}
		if vm != nil {
			for _, l := range vm.MatchingLabels {
				delete(compared, l)
			}
		}
		delete(compared, model.MetricNameLabel)
	}
	for l := range compared {
		if a.labels[l] != b.labels[l] {
			return false
		}
	}
	return true
}

// joinKey is the labels a join of the job's series compares.
func joinKey(a alt, vm *parser.VectorMatching) []string {
	if vm != nil && vm.On {
		return slices.Sorted(slices.Values(vm.MatchingLabels))
	}
	var out []string
	for l := range a.labels {
		if vm == nil || !slices.Contains(vm.MatchingLabels, l) {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// readsExporter reports whether e selects any of gateway-exporter's series.
func readsExporter(e parser.Expr) bool {
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			if m, ok := catalog.Lookup(vs.Name); ok && m.Source == catalog.SourceExporter {
				found = true
			}
		}
		return nil
	})
	return found
}

func clone(l labelSet) labelSet {
	out := make(labelSet, len(l))
	for k := range l {
		out[k] = true
	}
	return out
}
