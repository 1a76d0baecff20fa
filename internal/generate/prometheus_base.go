package generate

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/spec"
)

// withBase merges promgen's configuration, ours, into the team's own
// Prometheus configuration file (spec.Prometheus.Base): the base keeps its
// global settings, remote storage, storage, tracing, alert relabelling and
// scrape jobs; promgen adds its rule files, Alertmanagers and jobs. What
// would make the two disagree is refused, naming the base file's line:
//   - a global interval other than the spec's (the rules' tests and "for"
//     durations assume the spec's);
//   - Alertmanagers in the base (promgen scrapes the spec's for its
//     self-alerts: name them in the spec);
//   - a job name promgen uses;
//   - an inline secret (generated files are committed: use the *_file
//     form).
func withBase(s spec.Spec, ours *config.Config) (*config.Config, error) {
	p := s.Prometheus.WithDefaults()
	path := s.Prometheus.Base
	fail := func(line int, format string, args ...any) error {
		where := path
		if line > 0 {
			where = fmt.Sprintf("%s:%d", path, line)
		}
		return fmt.Errorf("prometheus base %s: %s", where, fmt.Sprintf(format, args...))
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("prometheus base: %w", err)
	}
	// Prometheus' loader first, on the file as written, so that its errors
	// name the file's own lines.
	if _, err := config.Load(string(src), slog.New(slog.DiscardHandler)); err != nil {
		return nil, fail(0, "Prometheus' config loader rejects it: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fail(0, "%v", err)
	}
	root := &yaml.Node{Kind: yaml.MappingNode}
	if len(doc.Content) > 0 && doc.Content[0].Kind == yaml.MappingNode {
		root = doc.Content[0]
	}
	if n := value(root, "alerting", "alertmanagers"); n != nil {
		return nil, fail(n.Line, "alerting.alertmanagers: name the Alertmanagers in the spec (Prometheus.Alertmanagers), which promgen also scrapes for its self-alerts")
	}
	// The base's jobs inherit the spec's intervals, as they would in a
	// file of promgen's, so the spec's go into its global section before
	// Prometheus' loader fills in each job's.
	global := value(root, "global")
	if global == nil {
		root.Content = append(root.Content, scalar("global"), &yaml.Node{Kind: yaml.MappingNode})
		global = root.Content[len(root.Content)-1]
	}
	for _, iv := range []struct {
		key  string
		spec time.Duration
		name string
	}{
		{"scrape_interval", p.ScrapeInterval, "ScrapeInterval"},
		{"scrape_timeout", p.ScrapeTimeout, "ScrapeTimeout"},
		{"evaluation_interval", p.EvaluationInterval, "EvaluationInterval"},
	} {
		n := value(global, iv.key)
		if n == nil {
			global.Content = append(global.Content, scalar(iv.key), scalar(model.Duration(iv.spec).String()))
			continue
		}
		if d, err := model.ParseDuration(n.Value); err != nil || time.Duration(d) != iv.spec {
			return nil, fail(n.Line, "global.%s is %s, the spec's is %s: the rules' tests assume the spec's; set it there (Prometheus.%s)",
				iv.key, n.Value, model.Duration(iv.spec), iv.name)
		}
	}
	injected, err := yaml.Marshal(root)
	if err != nil {
		return nil, fail(0, "%v", err)
	}
	base, err := config.Load(string(injected), slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, fail(0, "Prometheus' config loader rejects it: %v", err)
	}
	// The loader expands $VARIABLES in external labels; the file keeps
	// them for the Prometheus that loads it.
	if n := value(root, "global", "external_labels"); n != nil {
		var raw map[string]string
		if err := n.Decode(&raw); err != nil {
			return nil, fail(n.Line, "global.external_labels: %v", err)
		}
		base.GlobalConfig.ExternalLabels = labels.FromMap(raw)
	}

	ownJobs := promgenJobs(s, ours)
	jobs := value(root, "scrape_configs")
	for i, sc := range base.ScrapeConfigs {
		if what, ok := ownJobs[sc.JobName]; ok {
			line := 0
			if jobs != nil && i < len(jobs.Content) {
				line = jobs.Content[i].Line
			}
			return nil, fail(line, "job %q is also promgen's job for %s: rename the base's", sc.JobName, what)
		}
	}
	merged := base
	merged.GlobalConfig.ScrapeInterval = ours.GlobalConfig.ScrapeInterval
	merged.GlobalConfig.ScrapeTimeout = ours.GlobalConfig.ScrapeTimeout
	merged.GlobalConfig.EvaluationInterval = ours.GlobalConfig.EvaluationInterval
	merged.AlertingConfig.AlertmanagerConfigs = ours.AlertingConfig.AlertmanagerConfigs
	merged.RuleFiles = append(merged.RuleFiles, ours.RuleFiles...)
	merged.ScrapeConfigs = append(merged.ScrapeConfigs, ours.ScrapeConfigs...)
	// The loader's defaults of sections the base leaves out would be
	// written out, and would then override Prometheus' flags and
	// environment (GOGC, the retention flags): leave them out, as
	// promgen's own file does.
	if value(root, "storage") == nil {
		merged.StorageConfig = config.StorageConfig{}
	}
	if value(root, "runtime") == nil {
		merged.Runtime = config.RuntimeConfig{}
	}
	return merged, nil
}

// checkBaseSecrets refuses a merged file holding an inline secret, which
// Prometheus' types write as "<secret>": generated files are committed.
func checkBaseSecrets(s spec.Spec, b []byte) error {
	if i := bytes.Index(b, []byte("<secret>")); i >= 0 {
		line := bytes.Count(b[:i], []byte("\n")) + 1
		field := strings.TrimSpace(string(b[bytes.LastIndexByte(b[:i], '\n')+1 : i]))
		return fmt.Errorf("prometheus base %s: an inline secret (%s in the merged file's line %d): generated files are committed; use the *_file form (password_file, credentials_file, ...)",
			s.Prometheus.Base, strings.TrimSuffix(field, ":"), line)
	}
	return nil
}

// promgenJobs names what each of promgen's jobs is for, for the error on a
// base job of the same name.
func promgenJobs(s spec.Spec, ours *config.Config) map[string]string {
	svcJob := map[string]string{}
	for _, svc := range s.Services {
		svcJob[svc.JobName()] = svc.Name
	}
	out := map[string]string{}
	for _, sc := range ours.ScrapeConfigs {
		job, _, _ := strings.Cut(sc.JobName, "@")
		if svc, ok := svcJob[job]; ok {
			out[sc.JobName] = fmt.Sprintf("service %q", svc)
		} else {
			out[sc.JobName] = "the alerting pipeline"
		}
	}
	return out
}

// value returns the node at keys in nested mappings, or nil.
func value(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }
