package spec

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/sre-tools/promgen/internal/analysis"
)

// Host is one Docker daemon whose containers Prometheus discovers, and
// where its gateway-exporter and cAdvisor run. Every target on it carries
// its Name in the host label, as do the exporter's series, so a page joins
// the diagnosis of the container on the same host.
type Host struct {
	// Name is the value of the host label of the host's targets; unique in
	// the spec.
	Name string
	// Address is the Docker daemon's address, as docker_sd_configs' host:
	// unix:///var/run/docker.sock, tcp://node-2:2375 or https://node-2:2376.
	// A daemon behind TLS (dockerd --tlsverify, port 2376) takes https://:
	// docker_sd_configs applies TLS and auth to http(s) addresses only.
	Address string
	// TLS is how Prometheus verifies the daemon and proves itself to it
	// (dockerd --tlsverify wants a client certificate); https:// only.
	TLS *TLS
	// BasicAuth is for a daemon behind an authenticating proxy; https://
	// or http:// only.
	BasicAuth *BasicAuth
}

// TLS is the TLS side of a scrape or discovery: file paths as the
// Prometheus that reads prometheus.yml sees them. There is deliberately no
// insecure_skip_verify: a daemon or exporter that cannot be verified is
// one anyone on the path can impersonate.
type TLS struct {
	// CAFile verifies the server's certificate. Empty: the system's roots.
	CAFile string
	// CertFile and KeyFile are Prometheus' client certificate and its key,
	// for a server that verifies clients; both or neither.
	CertFile, KeyFile string
	// ServerName is the name the server's certificate must hold, when it
	// is not the name Prometheus dials.
	ServerName string
}

// BasicAuth is HTTP basic authentication. The password is only ever read
// from a file where Prometheus runs: the generated files are committed.
type BasicAuth struct {
	// Username is the user name.
	Username string
	// PasswordFile holds the password.
	PasswordFile string
}

// Remote reports whether Prometheus reaches h over the network, where a
// container's bridge IP is out of reach and its published port is not.
func (h Host) Remote() bool {
	u, err := url.Parse(h.Address)
	return err == nil && u.Scheme != "unix" && u.Scheme != "npipe"
}

// DefaultHost is the one local host of a spec that names none.
var DefaultHost = Host{Name: "local", Address: "unix:///var/run/docker.sock"}

// Scrape is how Prometheus scrapes a service: each container found on the
// spec's hosts (Port), or fixed targets (Static) for a Prometheus that
// cannot reach the Docker daemons. The zero Scrape writes no scrape job,
// which a service whose alerts read its job may not have.
type Scrape struct {
	// Port is the port of the metrics endpoint in each container; with
	// host networking, the port on the host. A container labelled
	// prometheus.io/port (catalog.DockerLabelMetricsPort) is scraped at
	// that port instead: host-network replicas each listen on their own.
	Port int
	// Path is the metrics path. Zero: Prometheus' default, /metrics.
	Path string
	// Static are host:port targets, scraped instead of discovering the
	// containers. Their series carry no container name, so the service's
	// page takes the diagnosis of its most recent termination of any
	// replica.
	Static []string
}

// Configured reports whether the service is scraped at all.
func (s Scrape) Configured() bool { return s.Port != 0 || len(s.Static) > 0 }

// Prometheus is the Prometheus that runs a spec's rules: how often it
// scrapes and evaluates, where its Alertmanagers and the diagnosis sources
// listen. Every zero field takes its default.
type Prometheus struct {
	// ScrapeInterval of every job. Default 15s.
	ScrapeInterval time.Duration
	// ScrapeTimeout of every job. Default 10s, at most the interval.
	ScrapeTimeout time.Duration
	// EvaluationInterval of the rule groups that set none. Default 15s.
	EvaluationInterval time.Duration
	// Alertmanagers are host:port targets alerts are sent to. Default
	// localhost:9093.
	Alertmanagers []string
	// ExporterPort is gateway-exporter's port on every host. Default 19818.
	ExporterPort int
	// CAdvisorPort is cAdvisor's port on every host. Default 8080.
	CAdvisorPort int
	// ExporterTLS, when set, scrapes gateway-exporter over https with it,
	// as its --web.config.file's tls_server_config demands; one setting
	// for every host, each exporter's certificate naming its host.
	ExporterTLS *TLS
	// ExporterBasicAuth is the basic auth gateway-exporter's
	// --web.config.file demands (basic_auth_users).
	ExporterBasicAuth *BasicAuth
	// RefreshInterval is how often docker_sd_configs lists each host's
	// containers: a new replica is scraped at most this long after it
	// starts. Default 1m, Prometheus' own.
	RefreshInterval time.Duration
	// Retention is how long Prometheus keeps samples
	// (--storage.tsdb.retention.time): every objective's window must fit
	// in it, or its budget is computed over part of the window. Zero
	// declares none, and nothing is checked; Prometheus' own default is
	// 15 days.
	Retention time.Duration
	// Address is the host:port Prometheus listens at, where it scrapes
	// itself for the alerting pipeline's self-alerts. Default
	// DefaultPrometheusAddress.
	Address string
	// ExternalURL is where people reach this Prometheus (its
	// --web.external-url): the graph link of every alert points there.
	// Default DefaultPrometheusURL.
	ExternalURL string
	// Base is a Prometheus configuration file of the team's own, read
	// where promgen runs: its global settings (external_labels and the
	// like), remote_write and remote_read, storage, alert_relabel_configs
	// and its own scrape jobs are kept, and promgen adds its rule files,
	// Alertmanagers and jobs. Empty: promgen's configuration alone.
	Base string
}

// Defaults of Prometheus.
const (
	DefaultScrapeInterval     = 15 * time.Second
	DefaultScrapeTimeout      = 10 * time.Second
	DefaultEvaluationInterval = 15 * time.Second
	DefaultAlertmanager       = "localhost:9093"
	DefaultExporterPort       = 19818
	DefaultCAdvisorPort       = 8080
	DefaultRefreshInterval    = time.Minute
	DefaultPrometheusURL      = "http://localhost:9090"
	DefaultPrometheusAddress  = "localhost:9090"
)

// WithDefaults returns p with every zero field set to its default.
func (p Prometheus) WithDefaults() Prometheus {
	if p.ScrapeInterval == 0 {
		p.ScrapeInterval = DefaultScrapeInterval
	}
	if p.ScrapeTimeout == 0 {
		p.ScrapeTimeout = min(DefaultScrapeTimeout, p.ScrapeInterval)
	}
	if p.EvaluationInterval == 0 {
		p.EvaluationInterval = DefaultEvaluationInterval
	}
	if len(p.Alertmanagers) == 0 {
		p.Alertmanagers = []string{DefaultAlertmanager}
	}
	if p.ExporterPort == 0 {
		p.ExporterPort = DefaultExporterPort
	}
	if p.CAdvisorPort == 0 {
		p.CAdvisorPort = DefaultCAdvisorPort
	}
	if p.RefreshInterval == 0 {
		p.RefreshInterval = DefaultRefreshInterval
	}
	if p.Address == "" {
		p.Address = DefaultPrometheusAddress
	}
	if p.ExternalURL == "" {
		p.ExternalURL = DefaultPrometheusURL
	}
	return p
}

// HostList returns the spec's hosts: DefaultHost when it names none.
func (s Spec) HostList() []Host {
	if len(s.Hosts) == 0 {
		return []Host{DefaultHost}
	}
	return s.Hosts
}

// Machine returns the host name or IP where Prometheus reaches the
// host-network containers, gateway-exporter and cAdvisor of h: the name in
// a tcp or http(s) address, localhost for a local socket.
func (h Host) Machine() string {
	u, err := url.Parse(h.Address)
	if err != nil || u.Hostname() == "" || u.Scheme == "unix" || u.Scheme == "npipe" {
		return "localhost"
	}
	return u.Hostname()
}

// dockerSchemes are the address schemes docker_sd_configs can reach.
var dockerSchemes = []string{"unix", "tcp", "http", "https"}

// scrape checks the spec's hosts and Prometheus settings and each
// service's scrape settings: a service whose alerts or records read its
// job must be scraped.
func (v *validator) scrape() {
	s := v.spec
	seen := map[string]bool{}
	for i, h := range s.Hosts {
		at := func(field, format string, args ...any) {
			f := fmt.Sprintf("hosts[%d].%s", i, field)
			if h.Name != "" {
				f = fmt.Sprintf("host %q: %s", h.Name, field)
			}
			v.add(FieldError{Field: f, Problem: fmt.Sprintf(format, args...)})
		}
		switch {
		case h.Name == "":
			at("name", "missing")
		case !model.LabelValue(h.Name).IsValid() || strings.ContainsAny(h.Name, "@/ "):
			at("name", "%q is not a host name (no '@', '/' or spaces)", h.Name)
		case seen[h.Name]:
			at("name", "duplicate host")
		}
		seen[h.Name] = true
		u, err := url.Parse(h.Address)
		switch {
		case h.Address == "":
			at("address", "missing: the Docker daemon's address, e.g. unix:///var/run/docker.sock or https://%s:2376", h.Name)
		case err != nil || !slices.Contains(dockerSchemes, u.Scheme) || (u.Scheme != "unix" && u.Hostname() == ""):
			at("address", "%q is not a Docker daemon address (unix://, tcp://, http:// or https://)", h.Address)
		case u.Scheme == "unix" && (h.TLS != nil || h.BasicAuth != nil):
			at("tls", "%q is a local socket: TLS and basic auth are for a daemon reached over the network", h.Address)
		case u.Scheme == "tcp" && (h.TLS != nil || h.BasicAuth != nil):
			at("address", "%q: docker_sd_configs ignores TLS and auth on tcp://; write https://%s", h.Address, u.Host)
		case u.Scheme == "http" && h.TLS != nil:
			at("tls", "set, but %q is plain http://; write https://%s", h.Address, u.Host)
		case u.Port() == "2376" && u.Scheme != "https":
			at("tls", "%q is Docker's TLS port but the address is not https:// with tls set", h.Address)
		}
		v.client(at, h.TLS, h.BasicAuth)
	}
	v.client(func(field, format string, args ...any) {
		v.add(FieldError{Field: "prometheus.exporter_" + field, Problem: fmt.Sprintf(format, args...)})
	}, s.Prometheus.ExporterTLS, s.Prometheus.ExporterBasicAuth)
	p := s.Prometheus
	if p.Retention < 0 {
		v.add(FieldError{Field: "prometheus.retention", Problem: fmt.Sprintf("%s must not be negative", p.Retention)})
	}
	if p.ScrapeInterval < 0 || p.ScrapeTimeout < 0 || p.EvaluationInterval < 0 || p.RefreshInterval < 0 {
		v.add(FieldError{Field: "prometheus", Problem: "intervals and timeout must not be negative"})
	}
	if d := p.WithDefaults(); d.ScrapeTimeout > d.ScrapeInterval {
		v.add(FieldError{Field: "prometheus.scrape_timeout", Problem: fmt.Sprintf("%s exceeds the scrape interval %s", d.ScrapeTimeout, d.ScrapeInterval)})
	}
	for i, a := range p.Alertmanagers {
		if err := hostPort(a); err != nil {
			v.add(FieldError{Field: fmt.Sprintf("prometheus.alertmanagers[%d]", i), Problem: err.Error()})
		}
	}
	for _, port := range []struct {
		field string
		n     int
	}{{"prometheus.exporter_port", p.ExporterPort}, {"prometheus.cadvisor_port", p.CAdvisorPort}} {
		if port.n < 0 || port.n > 65535 {
			v.add(FieldError{Field: port.field, Problem: fmt.Sprintf("%d is not a port", port.n)})
		}
	}
	for i := range s.Services {
		v.serviceScrape(&s.Services[i])
	}
	if s.Sources.WithoutCAdvisor {
		if s.Sources.CAdvisorJob != "" {
			v.add(FieldError{Field: "sources.cadvisor_job", Problem: fmt.Sprintf("%q is set, but without_cadvisor says there is no cAdvisor to scrape", s.Sources.CAdvisorJob)})
		}
		job := s.Sources.CAdvisor()
		v.eachAlert(func(svc *Service, a Alert) {
			if slices.Contains(analysis.Selected(a.Expr, model.JobLabel), job) {
				v.add(v.at(svc, a, "", "expr", "reads job %q, which without_cadvisor leaves unscraped: it would never fire", job))
			}
		})
	}
}

// client checks a TLS and basic auth pair, reporting through at with the
// field names tls.* and basic_auth.*.
func (v *validator) client(at func(field, format string, args ...any), t *TLS, b *BasicAuth) {
	if t != nil {
		switch {
		case t.CertFile != "" && t.KeyFile == "":
			at("tls.key_file", "missing: cert_file %q needs its key", t.CertFile)
		case t.KeyFile != "" && t.CertFile == "":
			at("tls.cert_file", "missing: key_file %q needs its certificate", t.KeyFile)
		case *t == TLS{}:
			at("tls", "empty: set ca_file, or cert_file and key_file")
		}
	}
	if b != nil {
		if b.Username == "" {
			at("basic_auth.username", "missing")
		}
		if b.PasswordFile == "" {
			at("basic_auth.password_file", "missing: the password is read from a file, never written in the spec")
		}
	}
}

func (v *validator) serviceScrape(svc *Service) {
	at := func(field, format string, args ...any) {
		v.add(FieldError{Service: svc.Name, Field: "scrape." + field, Problem: fmt.Sprintf(format, args...)})
	}
	sc := svc.Scrape
	if sc.Port < 0 || sc.Port > 65535 {
		at("port", "%d is not a port", sc.Port)
	}
	if sc.Port != 0 && len(sc.Static) > 0 {
		at("static", "set either a port (Docker discovery) or static targets, not both")
	}
	if sc.Path != "" && !strings.HasPrefix(sc.Path, "/") {
		at("path", "%q must start with /", sc.Path)
	}
	for i, t := range sc.Static {
		if err := hostPort(t); err != nil {
			at(fmt.Sprintf("static[%d]", i), "%v", err)
		}
	}
	if sc.Configured() {
		return
	}
	if reader := readsJob(svc); reader != "" {
		at("port", "neither a port nor static targets, but %s reads job %q: Prometheus must scrape it", reader, svc.JobName())
	}
}

// hostPort checks that t is host:port with a numeric port.
func hostPort(t string) error {
	h, p, err := net.SplitHostPort(t)
	if err != nil || h == "" || strings.Contains(t, "/") {
		return fmt.Errorf("%q is not host:port", t)
	}
	if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
		return fmt.Errorf("%q: %q is not a port", t, p)
	}
	return nil
}

// readsJob names the first alert or record of svc whose expression selects
// series of the service's job, or "" when none does.
func readsJob(svc *Service) string {
	job := svc.JobName()
	for _, a := range svc.Alerts {
		if slices.Contains(analysis.Selected(a.Expr, model.JobLabel), job) {
			return fmt.Sprintf("alert %q", a.Name)
		}
	}
	for _, r := range svc.Records {
		if slices.Contains(analysis.Selected(r.Expr, model.JobLabel), job) {
			return fmt.Sprintf("record %q", r.Name)
		}
	}
	return ""
}
