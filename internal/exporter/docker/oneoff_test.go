package docker_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/util/teststorage"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/internal/testenv"
	"github.com/sre-tools/promgen/rules"
	promspec "github.com/sre-tools/promgen/spec"
)

// TestComposeOneoff runs a `docker compose run` task of a service, labelled
// as compose labels it, beside the service's serving container: the
// exporter publishes compose_oneoff "true" for the task and "false" for the
// replica, and when the task sits near its memory limit and is then
// OOM-killed, the service's memory and OOM alerts, evaluated by
// Prometheus' engine over the exporter's own scrape, stay quiet, although
// the scrape shows the task at the limit and OOM-killed under the
// service's name.
func TestComposeOneoff(t *testing.T) {
	cli := testenv.RequireDocker(t)
	testenv.Standin(t, cli)
	e := startExporter(t, exporterOptions{retention: time.Hour, memory: true})

	serving := run(t, cli, spec{oneoff: "False", memory: 64 << 20})
	task := run(t, cli, spec{
		name: serving.name + "-run-0a1b2c", service: serving.name, oneoff: "True",
		faults: []string{"alloc:0.97", "leak:8@8s"}, memory: 64 << 20,
	})
	svc := promspec.Service{Name: serving.name, ComposeProject: project}

	s := e.wait(t, 30*time.Second, "both containers running, each with its compose_oneoff", func(s []string) bool {
		return has(s, serving.series(catalog.ContainerState, "1", "state", "running")) &&
			has(s, task.series(catalog.ContainerState, "1", "state", "running"))
	})
	if got := testenv.Grep(s, `compose_service="`+serving.name+`"`, `compose_oneoff="true"`, `name="`+serving.name+`"`); len(got) > 0 {
		t.Errorf("the serving container is published as a one-off:\n%s", strings.Join(got, "\n"))
	}

	near := func(s []string) bool {
		for _, l := range testenv.Grep(task.mine(s), catalog.ContainerMemoryUsageRatio+"{") {
			if v, err := strconv.ParseFloat(l[strings.LastIndex(l, " ")+1:], 64); err == nil && v > 0.95 {
				return true
			}
		}
		return false
	}
	if s := e.wait(t, 30*time.Second, "the one-off above 95% of its limit", near); near(s) {
		quiet(t, s, svc, rules.CriticalMemoryUsage(svc, rules.Production), catalog.ContainerMemoryUsageRatio)
	}

	oom := task.series(catalog.ContainerLastTerminationInfo, "1", catalog.LabelExitCode, "137", catalog.LabelReason, catalog.ReasonOOMKilled)
	s = e.wait(t, 60*time.Second, "the one-off OOM-killed", func(s []string) bool { return has(s, oom) })
	quiet(t, s, svc, rules.ContainerOOMKilled(svc, rules.Production), catalog.ContainerLastTerminationInfo)
	if !has(s, serving.series(catalog.ContainerState, "1", "state", "running")) {
		t.Errorf("the serving container stopped running:\n%s", strings.Join(serving.mine(s), "\n"))
	}
}

// quiet evaluates alert a's expression (its for aside) over one scrape,
// taken now, and fails if it returns anything, after checking that the
// scrape does hold metric for svc's one-off, which the alert must leave
// out.
func quiet(t *testing.T, scrape []string, svc promspec.Service, a promspec.Alert, metric string) {
	t.Helper()
	st := teststorage.New(t)
	now := time.Now()
	app := st.Appender(context.Background())
	for _, l := range scrape {
		i := strings.LastIndex(l, " ")
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape line %q: %v", l, err)
		}
		ls, err := parser.NewParser(parser.Options{}).ParseMetric(l[:i])
		if err != nil {
			t.Fatalf("scrape line %q: %v", l, err)
		}
		if _, err := app.Append(0, ls, now.UnixMilli(), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	eval := func(expr string) []labels.Labels {
		q, err := engine.NewInstantQuery(context.Background(), st, nil, expr, now)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		defer q.Close()
		v, err := q.Exec(context.Background()).Vector()
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		var out []labels.Labels
		for _, s := range v {
			out = append(out, s.Metric)
		}
		return out
	}
	of := metric + `{` + catalog.LabelComposeService + `="` + svc.Name + `",` + catalog.LabelComposeOneoff + `="` + catalog.OneoffTrue + `"}`
	if len(eval(of)) == 0 {
		t.Fatalf("the scrape holds no %s: the test proves nothing:\n%s", of, strings.Join(scrape, "\n"))
	}
	expr := promspec.PromQL(a.Expr)
	if got := eval(expr); len(got) > 0 {
		t.Errorf("%s of service %s fires for its one-off:\n%s\n%v", a.Name, svc.Name, expr, got)
	}
}
