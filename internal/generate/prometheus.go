package generate

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path"
	"slices"
	"strconv"
	"sync"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/discovery/moby"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/util/strutil"

	"github.com/sre-tools/promgen/catalog"
	"github.com/sre-tools/promgen/spec"
)

// prometheusDir is where a target's Prometheus configuration goes.
const prometheusDir = "prometheus"

// renderPrometheus writes a target's prometheus.yml, built from
// Prometheus' own configuration types and loaded back with its own loader.
func renderPrometheus(t Target) (Files, error) {
	p := path.Join(t.Dir, prometheusDir, "prometheus.yml")
	cfg := prometheusConfig(t.Spec)
	ours := promgenJobs(t.Spec, cfg)
	if t.Spec.Prometheus.Base != "" {
		merged, err := withBase(t.Spec, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		cfg = merged
	}
	b, err := marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if err := checkBaseSecrets(t.Spec, b); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	loaded, err := config.Load(string(b), slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, fmt.Errorf("%s: Prometheus' config loader rejects it: %w", p, err)
	}
	// The joins are proven over promgen's own jobs; the base's are the
	// team's.
	loaded.ScrapeConfigs = slices.DeleteFunc(slices.Clone(loaded.ScrapeConfigs), func(sc *config.ScrapeConfig) bool {
		_, own := ours[sc.JobName]
		return !own
	})
	targets, err := jobTargets(loaded, t.Spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if errs := append(checkTargets(t.Spec, targets), checkJoins(t.Spec, targets)...); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return Files{p: b}, nil
}

// prometheusConfig is the spec's Prometheus configuration: the rule files
// promgen writes beside it, its Alertmanagers, a scrape job per service
// (per host, with several hosts), gateway-exporter's and cAdvisor's, and
// Prometheus' own and its Alertmanagers'.
// Every target carries the host label of its host.
func prometheusConfig(s spec.Spec) *config.Config {
	p := s.Prometheus.WithDefaults()
	cfg := &config.Config{
		GlobalConfig: config.GlobalConfig{
			ScrapeInterval:     model.Duration(p.ScrapeInterval),
			ScrapeTimeout:      model.Duration(p.ScrapeTimeout),
			EvaluationInterval: model.Duration(p.EvaluationInterval),
		},
	}
	am := config.DefaultAlertmanagerConfig
	am.ServiceDiscoveryConfigs = discovery.Configs{discovery.StaticConfig{targetGroup(p.Alertmanagers, nil)}}
	cfg.AlertingConfig.AlertmanagerConfigs = config.AlertmanagerConfigs{&am}
	// Relative to this file, as Prometheus and promtool resolve them.
	for _, g := range groups(s) {
		cfg.RuleFiles = append(cfg.RuleFiles, "../rules/"+g.name+".rules.yml")
	}
	hosts := s.HostList()
	for _, svc := range s.Services {
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, serviceJobs(svc, hosts, p.RefreshInterval)...)
	}
	exporter := hostJob(s.Sources.Exporter(), p.ExporterPort, hosts)
	if p.ExporterTLS != nil {
		exporter.Scheme = "https"
	}
	exporter.HTTPClientConfig = httpClient(p.ExporterTLS, p.ExporterBasicAuth)
	cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, exporter)
	if !s.Sources.WithoutCAdvisor {
		cfg.ScrapeConfigs = append(cfg.ScrapeConfigs, hostJob(s.Sources.CAdvisor(), p.CAdvisorPort, hosts))
	}
	// The alerting pipeline itself: Prometheus and its Alertmanagers, whose
	// own metrics the self-alerts read (rules.SelfMonitoring).
	cfg.ScrapeConfigs = append(cfg.ScrapeConfigs,
		scrapeConfig(s.Sources.Prometheus(), "", discovery.Configs{discovery.StaticConfig{targetGroup([]string{p.Address}, nil)}}),
		scrapeConfig(s.Sources.Alertmanager(), "", discovery.Configs{discovery.StaticConfig{targetGroup(p.Alertmanagers, nil)}}))
	return cfg
}

// targetGroup is a static target group.
func targetGroup(targets []string, labels model.LabelSet) *targetgroup.Group {
	g := &targetgroup.Group{Labels: labels}
	for _, t := range targets {
		g.Targets = append(g.Targets, model.LabelSet{model.AddressLabel: model.LabelValue(t)})
	}
	return g
}

// hostJob scrapes a diagnosis source that runs once per host at port.
func hostJob(job string, port int, hosts []spec.Host) *config.ScrapeConfig {
	var static discovery.StaticConfig
	for _, h := range hosts {
		static = append(static, targetGroup([]string{hostPort(h.Machine(), port)}, model.LabelSet{catalog.LabelHost: model.LabelValue(h.Name)}))
	}
	return scrapeConfig(job, "", discovery.Configs{static})
}

// scrapeConfig is a job with Prometheus' defaults, as a hand-written job
// would load.
func scrapeConfig(job, metricsPath string, sd discovery.Configs) *config.ScrapeConfig {
	c := config.DefaultScrapeConfig
	c.JobName, c.ServiceDiscoveryConfigs = job, sd
	if metricsPath != "" {
		c.MetricsPath = metricsPath
	}
	return &c
}

// httpClient is Prometheus' HTTP client with the spec's TLS and basic
// auth; nil for either leaves Prometheus' default.
func httpClient(t *spec.TLS, b *spec.BasicAuth) commoncfg.HTTPClientConfig {
	c := commoncfg.DefaultHTTPClientConfig
	if t != nil {
		c.TLSConfig = commoncfg.TLSConfig{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile, ServerName: t.ServerName}
	}
	if b != nil {
		c.BasicAuth = &commoncfg.BasicAuth{Username: b.Username, PasswordFile: b.PasswordFile}
	}
	return c
}

func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// serviceJobs scrapes a service: its static targets, or each of its
// containers on every host through docker_sd_configs. Relabelling acts on
// a whole job and docker_sd says nothing of the daemon a target came from,
// so with several hosts each host is a job of its own (job_name
// "<job>@<host>") whose job label is set back to the service's job.
func serviceJobs(svc spec.Service, hosts []spec.Host, refresh time.Duration) []*config.ScrapeConfig {
	sc := svc.Scrape
	job := svc.JobName()
	if !sc.Configured() {
		return nil
	}
	if len(sc.Static) > 0 {
		labels := model.LabelSet{catalog.LabelComposeService: model.LabelValue(svc.Name)}
		if svc.ComposeProject != "" {
			labels[catalog.LabelComposeProject] = model.LabelValue(svc.ComposeProject)
		}
		return []*config.ScrapeConfig{scrapeConfig(job, sc.Path, discovery.Configs{discovery.StaticConfig{targetGroup(sc.Static, labels)}})}
	}
	var out []*config.ScrapeConfig
	for _, h := range hosts {
		sd := moby.DefaultDockerSDConfig
		sd.Host = h.Address
		sd.Port = sc.Port
		sd.Filters = containerFilters(svc)
		sd.HostNetworkingHost = h.Machine()
		sd.RefreshInterval = model.Duration(refresh)
		sd.HTTPClientConfig = httpClient(h.TLS, h.BasicAuth)
		c := scrapeConfig(job, sc.Path, discovery.Configs{&sd})
		c.RelabelConfigs = containerRelabels(h, sc.Port)
		if len(hosts) > 1 {
			c.JobName = job + "@" + h.Name
			c.RelabelConfigs = append(c.RelabelConfigs, set(model.JobLabel, job))
		}
		out = append(out, c)
	}
	return out
}

// containerFilters select the service's replicas for docker_sd_configs, in
// every state. Docker lists only running containers unless a status filter
// asks for others, and a container that stopped for good must stay a
// target, whose up of 0 pages ServiceDown, rather than vanish from
// discovery and resolve the page. `docker compose run` tasks are no
// replicas. Values of one filter are ORed, except label's, which all must
// hold.
func containerFilters(svc spec.Service) []moby.Filter {
	ls := []string{catalog.DockerLabelComposeService + "=" + svc.Name, catalog.DockerLabelComposeOneoff + "=False"}
	if svc.ComposeProject != "" {
		ls = append(ls, catalog.DockerLabelComposeProject+"="+svc.ComposeProject)
	}
	return []moby.Filter{{Name: "label", Values: ls}, {Name: "status", Values: catalog.States}}
}

// Meta labels of docker_sd_configs.
const (
	metaDocker         = model.MetaLabelPrefix + "docker_"
	metaContainerName  = metaDocker + "container_name"
	metaNetworkMode    = metaDocker + "container_network_mode"
	metaNetworkIP      = metaDocker + "network_ip"
	metaPortPrivate    = metaDocker + "port_private"
	metaPortPublic     = metaDocker + "port_public"
	metaContainerLabel = metaDocker + "container_label_"
)

// dockerMeta is the meta label docker_sd_configs gives a container label,
// sanitized as docker_sd does.
func dockerMeta(key string) model.LabelName {
	return model.LabelName(metaContainerLabel + strutil.SanitizeLabelName(key))
}

// Scratch labels of the relabelling, dropped with every other __ label
// once it is done.
const (
	tmpMetricsPort = "__tmp_metrics_port"
	tmpPrivatePort = "__tmp_private_port"
)

// containerRelabels make each discovered container one target at port,
// or at the port of its prometheus.io/port label, labelled as
// gateway-exporter labels its series: name (without Docker's leading
// slash), compose_project, compose_service, and host.
//
// docker_sd_configs yields one target per exposed port and network, at the
// container's IP, and for a host-network container one target at the
// host's address without a port; every one is rewritten to its port, and
// the duplicates that leaves are one target to Prometheus. Later rules win.
//
// A remote host's bridge IPs are out of Prometheus' reach, so there a
// container is scraped where Docker publishes its metrics port: the
// target of that port, at its public port on the host's address; the
// targets of its other ports are dropped. A container that has no port
// listed (stopped, or on the host network) keeps its one target.
func containerRelabels(h spec.Host, port int) []*relabel.Config {
	p := strconv.Itoa(port)
	portLabel := dockerMeta(catalog.DockerLabelMetricsPort)
	ip, mode := []model.LabelName{metaNetworkIP}, []model.LabelName{metaNetworkMode}
	rs := []*relabel.Config{
		replace(ip, `([^:]+)`, model.AddressLabel, "${1}:"+p),
		replace(ip, `(.*:.*)`, model.AddressLabel, "[${1}]:"+p),
		replace(append(ip, portLabel), `([^:]+);([0-9]+)`, model.AddressLabel, "${1}:${2}"),
		replace(append(ip, portLabel), `(.*:.*);([0-9]+)`, model.AddressLabel, "[${1}]:${2}"),
	}
	if h.Remote() {
		rs = append(rs,
			set(tmpMetricsPort, p),
			replace([]model.LabelName{portLabel}, `([0-9]+)`, tmpMetricsPort, "${1}"),
			replace([]model.LabelName{metaPortPrivate, tmpMetricsPort}, `;(.*)`, tmpPrivatePort, "${1}"),
			replace([]model.LabelName{metaPortPrivate}, `([0-9]+)`, tmpPrivatePort, "${1}"),
			keepEqual(tmpPrivatePort, tmpMetricsPort),
			replace([]model.LabelName{metaPortPublic}, `([0-9]+)`, model.AddressLabel, net.JoinHostPort(h.Machine(), "${1}")),
		)
	}
	return append(rs,
		replace(mode, `host`, model.AddressLabel, hostPort(h.Machine(), port)),
		replace(append(mode, portLabel), `host;([0-9]+)`, model.AddressLabel, net.JoinHostPort(h.Machine(), "${1}")),
		replace([]model.LabelName{metaContainerName}, `/?(.*)`, catalog.LabelName, "${1}"),
		replace([]model.LabelName{dockerMeta(catalog.DockerLabelComposeProject)}, `(.*)`, catalog.LabelComposeProject, "${1}"),
		replace([]model.LabelName{dockerMeta(catalog.DockerLabelComposeService)}, `(.*)`, catalog.LabelComposeService, "${1}"),
		set(catalog.LabelHost, h.Name),
	)
}

// keepEqual keeps the targets whose source equals target's value.
func keepEqual(source, target model.LabelName) *relabel.Config {
	d := relabel.DefaultRelabelConfig
	return &relabel.Config{Action: relabel.KeepEqual, SourceLabels: model.LabelNames{source}, TargetLabel: string(target),
		Separator: d.Separator, Regex: d.Regex, Replacement: d.Replacement}
}

// replace is a replace action from source to target. What Prometheus
// defaults (the replace action, the regex (.*)) the file leaves out, as a
// person writes it, and Prometheus' loader puts back: the file is shorter
// to read, and to load (each regex of each job is compiled again there).
// Separator and replacement are written whatever their value.
func replace(source []model.LabelName, regex, target, replacement string) *relabel.Config {
	c := &relabel.Config{SourceLabels: source, Separator: ";", TargetLabel: target, Replacement: replacement}
	if def := relabel.DefaultRelabelConfig.Regex; regex == def.String() {
		c.Regex = def // the default's own value, which the YAML encoders omit
	} else {
		c.Regex = compiled(regex)
	}
	return c
}

// regexps holds each relabelling pattern compiled once: every job of a
// build has the same few, and compiling them was much of building the
// configuration. The patterns are this file's constants, so it stays
// small, and a relabel.Regexp is immutable (its *regexp.Regexp is safe for
// concurrent use), so every job, in any build, can share one.
var regexps sync.Map // pattern → relabel.Regexp

func compiled(pattern string) relabel.Regexp {
	re, ok := regexps.Load(pattern)
	if !ok {
		re, _ = regexps.LoadOrStore(pattern, relabel.MustNewRegexp(pattern))
	}
	return re.(relabel.Regexp)
}

// set writes a constant label.
func set(target, value string) *relabel.Config {
	return replace(nil, `(.*)`, target, value)
}
