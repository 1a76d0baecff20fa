package rules

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// diagnosisWindow is how recent a termination must be to explain a page; an
// older one would blame today's outage on yesterday's crash.
const diagnosisWindow = time.Hour

// ServiceDown pages when Prometheus cannot scrape the service (the runbook's
// up == 0) and attaches the last termination gateway-exporter saw, as the
// labels reason and exit_code. The join is built so the page survives
// everything that can go wrong with the diagnosis:
//   - the diagnosis side holds one series per compose service (the most
//     recent termination of any replica), so several replicas or several
//     terminations never make the join many-to-many, which would drop the
//     whole evaluation;
//   - "or on(job, instance)" falls back to the bare page when the exporter
//     has no data or is down.
//
// Restart count and peak memory change from one evaluation to the next, so
// they go into the description, never into labels (that would reset for).
//
// It keeps firing for as long as its for after the target answers again: a
// crash-looping service that answers one scrape between two crashes must not
// resolve the page and page again a minute later.
func ServiceDown(svc spec.Service, p Profile) spec.Alert {
	job, name := svc.JobName(), svc.Name
	sel := func(metric string) *parser.VectorSelector { return containers(svc, metric) }
	down := spec.SetLabel(spec.Filter(spec.Metric(catalog.Up, spec.Eq("job", job)), spec.OpEq, 0), catalog.LabelComposeService, name)
	recent := spec.Binary(spec.OpGt, sel(catalog.ContainerLastTerminationTimestamp),
		spec.Sub(spec.Call("time"), spec.Num(p.D(diagnosisWindow).Seconds())))
	latest := spec.TopK(1, spec.Join(sel(catalog.ContainerLastTerminationInfo), recent, catalog.ContainerLabels, nil), catalog.LabelComposeService)
	diagnosed := spec.Join(down, latest, []string{catalog.LabelComposeService}, []string{catalog.LabelExitCode, catalog.LabelReason})

	// The queries take compose_service from the page; a project, when the
	// spec names one, is fixed.
	scope := catalog.LabelComposeService + "=%q"
	if svc.ComposeProject != "" {
		scope += fmt.Sprintf(",%s=%q", catalog.LabelComposeProject, svc.ComposeProject)
	}
	peak := fmt.Sprintf("max(max_over_time(%s{%s}[%s]))", catalog.ContainerMemoryUsageRatio, scope, promDuration(p.D(10*time.Minute)))
	restarts := fmt.Sprintf("max(%s{%s})", catalog.ContainerRestartsTotal, scope)

	a := spec.Alert{
		Name:          "ServiceDown",
		Expr:          spec.Or(diagnosed, down, "job", "instance"),
		For:           p.D(time.Minute),
		KeepFiringFor: p.D(time.Minute),
		Severity:      spec.Critical,
		Summary:       "{{ $labels.job }} is down{{ if $labels.reason }} ({{ $labels.reason }}, exit code {{ $labels.exit_code }}){{ end }}",
		Description: "Prometheus cannot scrape {{ $labels.instance }} of job {{ $labels.job }}. " +
			"Last termination: {{ if $labels.reason }}exit code {{ $labels.exit_code }} ({{ $labels.reason }}){{ else }}none recorded by gateway-exporter{{ end }}. " +
			"Restarts: " + queried(restarts, catalog.LabelComposeService, "", "", "unknown") + ". " +
			"Peak memory: " + queried(peak, catalog.LabelComposeService, "humanizePercentage", "", "unknown") + " of the limit.",
	}

	step, f := p.step(), a.For
	healthyFor, downFor := p.D(time.Minute), p.D(5*time.Minute)
	total := healthyFor + downFor
	upDown := []spec.Segment{hold(1, healthyFor), hold(0, downFor)}
	gw, gw2 := replica(svc, 1), replica(svc, 2)
	inst, inst2 := gw["instance"], gw2["instance"]
	page := func(t map[string]string, diag ...string) map[string]string {
		return merge(t, append([]string{catalog.LabelComposeService, name}, diag...)...)
	}
	at := func(d time.Duration) float64 { return d.Seconds() }
	info := func(n int, code, reason string) spec.Series {
		return series(catalog.ContainerLastTerminationInfo, container(svc, n, catalog.LabelExitCode, code, catalog.LabelReason, reason), hold(1, total))
	}
	when := func(n int, t time.Duration) spec.Series {
		return series(catalog.ContainerLastTerminationTimestamp, container(svc, n), hold(at(t), total))
	}
	restartCount := func(n int, v float64) spec.Series {
		return series(catalog.ContainerRestartsTotal, container(svc, n), hold(v, total))
	}
	ratioThenDead := func(n int, v float64) spec.Series {
		return series(catalog.ContainerMemoryUsageRatio, container(svc, n), hold(v, healthyFor), stale(downFor))
	}
	oomSummary := job + " is down (oom_killed, exit code 137)"
	bareSummary := job + " is down"
	desc := func(inst, last, restarts, peak string) string {
		return fmt.Sprintf("Prometheus cannot scrape %s of job %s. Last termination: %s. Restarts: %s. Peak memory: %s of the limit.", inst, job, last, restarts, peak)
	}

	a.Tests = []spec.Test{
		{
			Name:     "pages with the OOM diagnosis when gateway-exporter saw the container OOM-killed",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, upDown...),
				info(1, "137", catalog.ReasonOOMKilled), when(1, healthyFor-step),
				restartCount(1, 2), ratioThenDead(1, 0.99),
			},
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, spec.Firing{
					Labels:      page(gw, catalog.LabelReason, catalog.ReasonOOMKilled, catalog.LabelExitCode, "137"),
					Summary:     oomSummary,
					Description: desc(inst, "exit code 137 (oom_killed)", "2", "99%"),
				}),
			},
		},
		{
			Name:     "pages without a diagnosis when gateway-exporter has no data",
			Interval: step,
			Series:   []spec.Series{series(catalog.Up, gw, upDown...)},
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, spec.Firing{
					Labels:      page(gw),
					Summary:     bareSummary,
					Description: desc(inst, "none recorded by gateway-exporter", "unknown", "unknown"),
				}),
			},
		},
		{
			Name:     "still pages, without the diagnosis, when gateway-exporter goes down with the service",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, upDown...),
				series(catalog.ContainerLastTerminationInfo, container(svc, 1, catalog.LabelExitCode, "0", catalog.LabelReason, catalog.ReasonCompleted), hold(1, healthyFor), stale(downFor)),
				series(catalog.ContainerLastTerminationTimestamp, container(svc, 1), hold(1, healthyFor), stale(downFor)),
				series(catalog.ContainerRestartsTotal, container(svc, 1), hold(0, healthyFor), stale(downFor)),
			},
			Expect: []spec.Expect{
				fires(healthyFor+f, spec.Firing{
					Labels:      page(gw),
					Summary:     bareSummary,
					Description: desc(inst, "none recorded by gateway-exporter", "unknown", "unknown"),
				}),
			},
		},
		{
			Name:     "pages every replica with the most recent termination when several replicas died differently",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, upDown...),
				series(catalog.Up, gw2, upDown...),
				info(1, "137", catalog.ReasonOOMKilled), when(1, healthyFor/3),
				info(2, "139", catalog.ReasonSegfault), when(2, 2*healthyFor/3),
				restartCount(1, 1), restartCount(2, 4),
			},
			Expect: []spec.Expect{
				fires(healthyFor+f,
					spec.Firing{
						Labels:      page(gw, catalog.LabelReason, catalog.ReasonSegfault, catalog.LabelExitCode, "139"),
						Summary:     job + " is down (segfault, exit code 139)",
						Description: desc(inst, "exit code 139 (segfault)", "4", "unknown"),
					},
					spec.Firing{
						Labels:      page(gw2, catalog.LabelReason, catalog.ReasonSegfault, catalog.LabelExitCode, "139"),
						Summary:     job + " is down (segfault, exit code 139)",
						Description: desc(inst2, "exit code 139 (segfault)", "4", "unknown"),
					}),
			},
		},
		{
			Name:     "does not blame the page on a termination older than the diagnosis window",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, p.D(diagnosisWindow)+healthyFor), hold(0, downFor)),
				series(catalog.ContainerLastTerminationInfo, container(svc, 1, catalog.LabelExitCode, "143", catalog.LabelReason, catalog.ReasonTerminated), hold(1, p.D(diagnosisWindow)+total)),
				series(catalog.ContainerLastTerminationTimestamp, container(svc, 1), hold(at(step), p.D(diagnosisWindow)+total)),
			},
			Expect: []spec.Expect{
				fires(p.D(diagnosisWindow)+healthyFor+f, spec.Firing{
					Labels:      page(gw),
					Summary:     bareSummary,
					Description: desc(inst, "none recorded by gateway-exporter", "unknown", "unknown"),
				}),
			},
		},
		{
			Name:     "keeps paging through one answered scrape between two crashes, and resolves once the service stays up",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, healthyFor), hold(0, f+step), hold(1, step), hold(0, step), hold(1, downFor)),
			},
			Expect: []spec.Expect{
				fires(healthyFor+f+step, spec.Firing{Labels: page(gw), Summary: bareSummary, Description: desc(inst, "none recorded by gateway-exporter", "unknown", "unknown")}),
				fires(healthyFor+f+3*step, spec.Firing{Labels: page(gw), Summary: bareSummary, Description: desc(inst, "none recorded by gateway-exporter", "unknown", "unknown")}),
				quiet(healthyFor + f + 3*step + a.KeepFiringFor + step),
			},
		},
		{
			Name:     "stays quiet while the service is scraped, whatever its past terminations",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, total)),
				info(1, "137", catalog.ReasonOOMKilled), when(1, step),
			},
			Expect: []spec.Expect{quiet(healthyFor), quiet(total - step)},
		},
	}
	return a
}

// promDuration formats d as a PromQL duration.
func promDuration(d time.Duration) string { return model.Duration(d).String() }
