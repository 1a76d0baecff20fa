// Package cadvisor reads the memory of every Docker container from cAdvisor's
// v2 API in one recursive request, so the refresher's cost does not grow with
// the number of requests per container.
package cadvisor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	v2 "github.com/google/cadvisor/info/v2"

	"github.com/sre-tools/promgen/internal/exporter/memory"
)

// unlimited is the smallest limit taken to mean "no limit". cAdvisor copies
// the cgroup's limit file: cgroup v1 reports PAGE_COUNTER_MAX pages
// (0x7FFFFFFFFFFFF000 with 4 KiB pages) when none is set, and cAdvisor turns
// cgroup v2's "max" into MaxUint64. Both lie above 2^62 bytes (4 EiB), which
// no machine has, so any limit from there up is a sentinel, not a limit.
const unlimited = 1 << 62

// Source reads container memory from one cAdvisor.
//
// It does not use cadvisor's client/v2: that client calls http.Get on the
// default HTTP client, which takes neither a context nor a timeout, so a hung
// cAdvisor would block the refresher forever and pile up requests. Source
// sends the same request with a deadline, and reads from the answer only
// the five fields of cadvisor's info/v2 types it needs (decode.go).
type Source struct {
	statsURL string
	timeout  time.Duration
	client   *http.Client

	// buf holds the last answer's body: the next read of about the same
	// size reuses it instead of growing a new one from nothing. It is let
	// go when it is far larger than the answer just read, or larger than
	// maxKept (release), so one unusually large answer does not pin its
	// memory for the life of the process.
	mu  sync.Mutex
	buf bytes.Buffer
}

// Bounds of the read buffer kept between reads. A buffer up to keptFloor is
// kept whatever the answer (1,000 containers make about 5 MB, and growing
// one from nothing costs more than holding it); above that, only while it
// is at most twice the answer just read (bytes.Buffer grows by doubling),
// and never above maxKept, about 13,000 containers' answer: past that, a
// fresh buffer each interval costs less than holding one for good.
const (
	keptFloor = 16 << 20
	maxKept   = 64 << 20
)

// maxBody bounds an answer, so that a cAdvisor (or anything else at its
// address) sending without end cannot exhaust memory. 1,000 containers make
// about 5 MB.
const maxBody = 256 << 20

// New returns a Source for the cAdvisor at baseURL (e.g. http://cadvisor:8080,
// with cAdvisor's --url_base_prefix if it has one). Every Read gives up after
// timeout, or earlier if its context's deadline comes first.
func New(baseURL string, timeout time.Duration) (*Source, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("cadvisor url %q: %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cadvisor url %q: want http(s)://host[:port][/prefix]", baseURL)
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("cadvisor timeout %s: must be > 0", timeout)
	}
	// v2.1, not v2.0: v2.0's stats endpoint returns stats without the
	// container spec, so without the limit; v2.1 returns v2.ContainerInfo
	// with both (cadvisor cmd/internal/api/versions.go). type=docker with
	// recursive=true asks for the Docker namespace only, and cAdvisor
	// requires the container name "/" for it; count=1 is the newest sample.
	// These options are all cAdvisor offers to narrow an answer (it has no
	// field selection: cmd/internal/api GetRequestOptions), so every
	// sample still carries CPU, disk, network and filesystem figures unless
	// cAdvisor runs with --disable_metrics.
	u = u.JoinPath("api", "v2.1", "stats")
	u.RawQuery = url.Values{
		"type":      {v2.TypeDocker},
		"recursive": {"true"},
		"count":     {"1"},
	}.Encode()
	return &Source{statsURL: u.String(), timeout: timeout, client: &http.Client{}}, nil
}

// Name is the exporter's source label for cAdvisor.
func (s *Source) Name() string { return "cadvisor" }

// Read returns the newest memory sample of every Docker container cAdvisor
// knows, keyed by full container ID.
func (s *Source) Read(ctx context.Context) (map[string]memory.Stats, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.statsURL, nil)
	if err != nil {
		return nil, fmt.Errorf("cadvisor stats request: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cadvisor stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// cAdvisor answers errors with a plain-text message; a short
		// prefix of it is enough to say what went wrong.
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("cadvisor stats %s: %s: %s", s.statsURL, resp.Status, bytes.TrimSpace(msg))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.release()
	s.buf.Reset()
	if _, err := s.buf.ReadFrom(io.LimitReader(resp.Body, maxBody+1)); err != nil {
		return nil, fmt.Errorf("cadvisor stats %s: read: %w", s.statsURL, err)
	}
	if s.buf.Len() > maxBody {
		return nil, fmt.Errorf("cadvisor stats %s: answer larger than %d bytes", s.statsURL, maxBody)
	}
	stats, err := decode(s.buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("cadvisor stats %s: %w", s.statsURL, err)
	}
	return stats, nil
}

// release lets the read buffer go when it is larger than the answer just
// read calls for (see keptFloor and maxKept); the next read grows a new one.
func (s *Source) release() {
	c := s.buf.Cap()
	if c > maxKept || c > keptFloor && c > 2*s.buf.Len() {
		s.buf = bytes.Buffer{}
	}
}

// isID reports whether s is a full Docker container ID: 64 lower-case hex
// digits.
func isID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
