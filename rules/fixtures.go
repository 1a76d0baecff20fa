package rules

import (
	"fmt"
	"time"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// Test fixtures shared by the alerts' scenarios: one compose project "demo"
// whose containers are named after compose's <project>-<service>-<n>.

const testProject = "demo"

// container returns the identity labels of replica n of svc, plus extra.
func container(svc spec.Service, n int, extra ...string) map[string]string {
	l := map[string]string{
		catalog.LabelName:           fmt.Sprintf("%s-%s-%d", testProject, svc.Name, n),
		catalog.LabelComposeProject: testProject,
		catalog.LabelComposeService: svc.Name,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}

// target returns the labels of an up series of job at instance.
func target(job, instance string) map[string]string {
	return map[string]string{"job": job, "instance": instance}
}

// merge returns a copy of a with b's labels added.
func merge(a map[string]string, b ...string) map[string]string {
	out := make(map[string]string, len(a)+len(b)/2)
	for k, v := range a {
		out[k] = v
	}
	for i := 0; i+1 < len(b); i += 2 {
		out[b[i]] = b[i+1]
	}
	return out
}

// series is a shorthand for an input series.
func series(metric string, labels map[string]string, segs ...spec.Segment) spec.Series {
	return spec.Series{Metric: metric, Labels: labels, Values: segs}
}

// hold is a segment of constant value v for d.
func hold(v float64, d time.Duration) spec.Segment { return spec.Segment{Value: v, For: d} }

// stale ends a series, as when its target stops being scraped, for d.
func stale(d time.Duration) spec.Segment { return spec.Segment{Stale: true, For: d} }

// quiet expects the alert not to fire at t.
func quiet(t time.Duration) spec.Expect { return spec.Expect{At: t} }

// fires expects the given instances at t.
func fires(t time.Duration, f ...spec.Firing) spec.Expect { return spec.Expect{At: t, Firing: f} }
