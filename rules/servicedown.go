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
// labels reason and exit_code. Which termination is decided by the data,
// in three steps joined by "or on(job, instance, host, name)":
//   - a target that carries a container name (discovered with
//     docker_sd_configs) takes the diagnosis of that container on that host,
//     joined on (host, name);
//   - a target without one (a static target) takes the most recent
//     termination of any replica of the service, joined on compose_service;
//     the diagnosis side drops its name label, so a discovered target can
//     never match here and borrow another replica's termination;
//   - every other down target pages bare: no exporter data, the exporter
//     down, or a discovered container with no recent termination.
//
// Each diagnosis side holds one series per join key (topk by the key, over
// exporter series deduplicated by container and host), so two replicas,
// two hosts with the same container name, or an exporter scraped twice
// never make the join many-to-many, which would drop the whole evaluation.
// The fallbacks match on (job, instance, host, name), not on (job,
// instance) alone: containers on two hosts' default bridges share their
// addresses, and one must not hide the other's page.
//
// Restart count and peak memory change from one evaluation to the next, so
// they go into the description, never into labels (that would reset for);
// they are the container's own when the target names it.
//
// It keeps firing for as long as its for after the target answers again: a
// crash-looping service that answers one scrape between two crashes must not
// resolve the page and page again a minute later.
func ServiceDown(svc spec.Service, p Profile) spec.Alert {
	job, name := svc.JobName(), svc.Name
	sel := func(metric string) *parser.VectorSelector { return containers(svc, metric) }
	up := spec.Filter(spec.Metric(catalog.Up, spec.Eq("job", job)), spec.OpEq, 0)
	down := spec.SetLabel(up, catalog.LabelComposeService, name)
	onHost := containerOnHost
	recent := spec.Max(spec.Binary(spec.OpGt, sel(catalog.ContainerLastTerminationTimestamp),
		spec.Sub(spec.Call("time"), spec.Num(p.D(diagnosisWindow).Seconds()))), onHost...)
	// Valued at the termination's time, so topk keeps the most recent.
	terminations := spec.Join(sel(catalog.ContainerLastTerminationInfo), recent, onHost, nil)
	diagnosis := []string{catalog.LabelExitCode, catalog.LabelReason}
	exactKey := []string{catalog.LabelHost, catalog.LabelName}
	exact := spec.Join(up, spec.TopK(1, terminations, exactKey...), exactKey, diagnosis)
	perService := spec.Join(down,
		spec.SetLabel(spec.TopK(1, terminations, catalog.LabelComposeService), catalog.LabelName, ""),
		[]string{catalog.LabelComposeService, catalog.LabelName}, diagnosis)
	fallback := []string{"job", "instance", catalog.LabelHost, catalog.LabelName}

	// The queries take the container from the page when it names one, else
	// compose_service; a project, when the spec names one, is fixed.
	scope := catalog.LabelComposeService + "=%q"
	if svc.ComposeProject != "" {
		scope += fmt.Sprintf(",%s=%q", catalog.LabelComposeProject, svc.ComposeProject)
	}
	one := catalog.LabelName + "=%q," + catalog.LabelHost + "=%q"
	window := promDuration(p.D(10 * time.Minute))
	peak := fmt.Sprintf("max(max_over_time(%s{%%s}[%s]))", catalog.ContainerMemoryUsageRatio, window)
	restarts := fmt.Sprintf("max(%s{%%s})", catalog.ContainerRestartsTotal)
	idLabels := []string{catalog.LabelName, catalog.LabelHost}
	either := func(query, pipe string) string {
		return "{{ if $labels." + catalog.LabelName + " }}" +
			queriedBy(fmt.Sprintf(query, one), idLabels, pipe, "", "unknown") + "{{ else }}" +
			queried(fmt.Sprintf(query, scope), catalog.LabelComposeService, pipe, "", "unknown") + "{{ end }}"
	}

	a := spec.Alert{
		Name:          "ServiceDown",
		Expr:          spec.Or(spec.Or(exact, perService, fallback...), down, fallback...),
		For:           p.D(time.Minute),
		KeepFiringFor: p.D(time.Minute),
		Severity:      spec.Critical,
		Summary:       "{{ $labels.job }} is down{{ if $labels.reason }} ({{ $labels.reason }}, exit code {{ $labels.exit_code }}){{ end }}",
		Description: "Prometheus cannot scrape {{ $labels.instance }} of job {{ $labels.job }}. " +
			"Last termination: {{ if $labels.reason }}exit code {{ $labels.exit_code }} ({{ $labels.reason }}){{ else }}none recorded by gateway-exporter{{ end }}. " +
			"Restarts: " + either(restarts, "") + ". " +
			"Peak memory: " + either(peak, "humanizePercentage") + " of the limit.",
	}
	a.Tests = serviceDownTests(svc, p, a)
	return a
}

// serviceDownTests prove each way ServiceDown finds, or does without, its
// diagnosis.
func serviceDownTests(svc spec.Service, p Profile, a spec.Alert) []spec.Test {
	job, name := svc.JobName(), svc.Name
	step, f := p.step(), a.For
	healthyFor, downFor := p.D(time.Minute), p.D(5*time.Minute)
	total := healthyFor + downFor
	upDown := []spec.Segment{hold(1, healthyFor), hold(0, downFor)}
	gw, gw2 := discovered(svc, 1, testHost), discovered(svc, 2, testHost)
	page := func(t map[string]string, diag ...string) map[string]string {
		return merge(t, append([]string{catalog.LabelComposeService, name}, diag...)...)
	}
	at := func(d time.Duration) float64 { return d.Seconds() }
	// Exporter series of replica n on host, over d.
	info := func(n int, host, code, reason string, d time.Duration) spec.Series {
		return series(catalog.ContainerLastTerminationInfo, onHost(svc, n, host, catalog.LabelExitCode, code, catalog.LabelReason, reason), hold(1, d))
	}
	when := func(n int, host string, t, d time.Duration) spec.Series {
		return series(catalog.ContainerLastTerminationTimestamp, onHost(svc, n, host), hold(at(t), d))
	}
	restartCount := func(n int, host string, v float64, d time.Duration) spec.Series {
		return series(catalog.ContainerRestartsTotal, onHost(svc, n, host), hold(v, d))
	}
	ratioThenDead := func(n int, v float64) spec.Series {
		return series(catalog.ContainerMemoryUsageRatio, onHost(svc, n, testHost), hold(v, healthyFor), stale(downFor))
	}
	summary := func(reason, code string) string {
		return fmt.Sprintf("%s is down (%s, exit code %s)", job, reason, code)
	}
	bareSummary := job + " is down"
	desc := func(inst, last, restarts, peak string) string {
		return fmt.Sprintf("Prometheus cannot scrape %s of job %s. Last termination: %s. Restarts: %s. Peak memory: %s of the limit.", inst, job, last, restarts, peak)
	}
	bare := func(t map[string]string) spec.Firing {
		return spec.Firing{Labels: page(t), Summary: bareSummary, Description: desc(t["instance"], "none recorded by gateway-exporter", "unknown", "unknown")}
	}
	diagnosed := func(t map[string]string, code, reason, restarts, peak string) spec.Firing {
		return spec.Firing{
			Labels:      page(t, catalog.LabelReason, reason, catalog.LabelExitCode, code),
			Summary:     summary(reason, code),
			Description: desc(t["instance"], fmt.Sprintf("exit code %s (%s)", code, reason), restarts, peak),
		}
	}

	// Two replicas on one host: replica 1 is OOM-killed at 500s and stays
	// down; replica 2 is stopped (exit 143) at 560s and runs again. The
	// most recent termination of the service is replica 2's.
	oomAt, stopAt := p.D(500*time.Second), p.D(560*time.Second)
	downAt := p.D(510 * time.Second) // the first scrape after the kill
	replicasTotal := downAt + downFor

	// Two hosts run a container of the same name at the same bridge
	// address: each page takes its own host's termination.
	a1, b1 := discovered(svc, 1, testHost), discovered(svc, 1, otherTestHost)

	// A static target: no container name, so the service's most recent
	// termination of any replica.
	st := static(svc, "10.0.0.5:"+fmt.Sprint(scrapePort(svc)))

	return []spec.Test{
		{
			Name:     "pages with the OOM diagnosis of the container when gateway-exporter saw it OOM-killed",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, upDown...),
				info(1, testHost, "137", catalog.ReasonOOMKilled, total), when(1, testHost, healthyFor-step, total),
				restartCount(1, testHost, 2, total), ratioThenDead(1, 0.99),
			},
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, diagnosed(gw, "137", catalog.ReasonOOMKilled, "2", "99%")),
			},
		},
		{
			Name:     "pages each replica with its own termination, not the service's most recent one",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, downAt), hold(0, downFor)),
				series(catalog.Up, gw2, hold(1, replicasTotal)),
				info(1, testHost, "137", catalog.ReasonOOMKilled, replicasTotal), when(1, testHost, oomAt, replicasTotal),
				info(2, testHost, "143", catalog.ReasonTerminated, replicasTotal), when(2, testHost, stopAt, replicasTotal),
				restartCount(1, testHost, 3, replicasTotal), restartCount(2, testHost, 1, replicasTotal),
			},
			Expect: []spec.Expect{
				quiet(downAt + f - step),
				fires(downAt+f, diagnosed(gw, "137", catalog.ReasonOOMKilled, "3", "unknown")),
			},
		},
		{
			Name:     "pages each of two hosts' containers of the same name with that host's termination",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, a1, upDown...),
				series(catalog.Up, b1, upDown...),
				info(1, testHost, "137", catalog.ReasonOOMKilled, total), when(1, testHost, healthyFor/3, total),
				info(1, otherTestHost, "143", catalog.ReasonTerminated, total), when(1, otherTestHost, 2*healthyFor/3, total),
				restartCount(1, testHost, 2, total), restartCount(1, otherTestHost, 5, total),
			},
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f,
					diagnosed(a1, "137", catalog.ReasonOOMKilled, "2", "unknown"),
					diagnosed(b1, "143", catalog.ReasonTerminated, "5", "unknown")),
			},
		},
		{
			Name:     "pages the container of one host bare when only another host's container of the same name terminated",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, a1, upDown...),
				series(catalog.Up, b1, upDown...),
				info(1, testHost, "137", catalog.ReasonOOMKilled, total), when(1, testHost, healthyFor/3, total),
			},
			Expect: []spec.Expect{
				fires(healthyFor+f, diagnosed(a1, "137", catalog.ReasonOOMKilled, "unknown", "unknown"), bare(b1)),
			},
		},
		{
			Name:     "pages a static target with the most recent termination of any replica",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, st, upDown...),
				info(1, testHost, "137", catalog.ReasonOOMKilled, total), when(1, testHost, healthyFor/3, total),
				info(2, testHost, "139", catalog.ReasonSegfault, total), when(2, testHost, 2*healthyFor/3, total),
				restartCount(1, testHost, 1, total), restartCount(2, testHost, 4, total),
			},
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, diagnosed(st, "139", catalog.ReasonSegfault, "4", "unknown")),
			},
		},
		{
			Name:     "keeps the diagnosis when two exporters report the same container",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, upDown...),
				series(catalog.ContainerLastTerminationInfo, merge(onHost(svc, 1, testHost, catalog.LabelExitCode, "137", catalog.LabelReason, catalog.ReasonOOMKilled), "instance", "localhost:19818"), hold(1, total)),
				series(catalog.ContainerLastTerminationInfo, merge(onHost(svc, 1, testHost, catalog.LabelExitCode, "137", catalog.LabelReason, catalog.ReasonOOMKilled), "instance", "localhost:19819"), hold(1, total)),
				series(catalog.ContainerLastTerminationTimestamp, merge(onHost(svc, 1, testHost), "instance", "localhost:19818"), hold(at(healthyFor-step), total)),
				series(catalog.ContainerLastTerminationTimestamp, merge(onHost(svc, 1, testHost), "instance", "localhost:19819"), hold(at(healthyFor-step), total)),
			},
			Expect: []spec.Expect{
				fires(healthyFor+f, diagnosed(gw, "137", catalog.ReasonOOMKilled, "unknown", "unknown")),
			},
		},
		{
			Name:     "pages without a diagnosis when gateway-exporter has no data",
			Interval: step,
			Series:   []spec.Series{series(catalog.Up, gw, upDown...), series(catalog.Up, st, upDown...)},
			Expect: []spec.Expect{
				quiet(healthyFor + f - step),
				fires(healthyFor+f, bare(gw), bare(st)),
			},
		},
		{
			Name:     "pages a container without a termination of its own bare, never with another replica's",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, upDown...),
				info(2, testHost, "137", catalog.ReasonOOMKilled, total), when(2, testHost, healthyFor-step, total),
			},
			Expect: []spec.Expect{
				fires(healthyFor+f, bare(gw)),
			},
		},
		{
			Name:     "still pages, without the diagnosis, when gateway-exporter goes down with the service",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, upDown...),
				series(catalog.ContainerLastTerminationInfo, onHost(svc, 1, testHost, catalog.LabelExitCode, "0", catalog.LabelReason, catalog.ReasonCompleted), hold(1, healthyFor), stale(downFor)),
				series(catalog.ContainerLastTerminationTimestamp, onHost(svc, 1, testHost), hold(1, healthyFor), stale(downFor)),
				series(catalog.ContainerRestartsTotal, onHost(svc, 1, testHost), hold(0, healthyFor), stale(downFor)),
			},
			Expect: []spec.Expect{
				fires(healthyFor+f, bare(gw)),
			},
		},
		{
			Name:     "does not blame the page on a termination older than the diagnosis window",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, p.D(diagnosisWindow)+healthyFor), hold(0, downFor)),
				info(1, testHost, "143", catalog.ReasonTerminated, p.D(diagnosisWindow)+total),
				when(1, testHost, step, p.D(diagnosisWindow)+total),
			},
			Expect: []spec.Expect{
				fires(p.D(diagnosisWindow)+healthyFor+f, bare(gw)),
			},
		},
		{
			Name:     "keeps paging through one answered scrape between two crashes, and resolves once the service stays up",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, healthyFor), hold(0, f+step), hold(1, step), hold(0, step), hold(1, downFor)),
			},
			Expect: []spec.Expect{
				fires(healthyFor+f+step, bare(gw)),
				fires(healthyFor+f+3*step, bare(gw)),
				quiet(healthyFor + f + 3*step + a.KeepFiringFor + step),
			},
		},
		{
			Name:     "stays quiet while the service is scraped, whatever its past terminations",
			Interval: step,
			Series: []spec.Series{
				series(catalog.Up, gw, hold(1, total)),
				info(1, testHost, "137", catalog.ReasonOOMKilled, total), when(1, testHost, step, total),
			},
			Expect: []spec.Expect{quiet(healthyFor), quiet(total - step)},
		},
	}
}

// promDuration formats d as a PromQL duration.
func promDuration(d time.Duration) string { return model.Duration(d).String() }
