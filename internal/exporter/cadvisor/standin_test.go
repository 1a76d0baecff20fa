package cadvisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	cmemory "github.com/google/cadvisor/cache/memory"
	v1 "github.com/google/cadvisor/info/v1"
	v2 "github.com/google/cadvisor/info/v2"
)

// standIn stands in for cAdvisor's REST API: no real cAdvisor can run here
// (its command, github.com/google/cadvisor/cmd, is a module of its own that
// the module proxy does not serve, and it needs the host's cgroups and
// Docker socket). It answers the v2.1 stats request the way cAdvisor
// v0.57.0's handler does (cmd/internal/api: handleRequest in handler.go,
// version2_1.HandleRequest and GetRequestOptions in versions.go, copied
// below), from containers held as cadvisor's own v1.ContainerInfo, their
// samples kept in cadvisor's own in-memory stats cache (cache/memory, which
// applies count) and converted with cadvisor's own info/v2 functions, so
// the JSON is what a cAdvisor would send for those containers.
type standIn struct {
	containers []v1.ContainerInfo // Stats are fed to the stats cache

	once  sync.Once
	store *cmemory.InMemoryCache

	mu   sync.Mutex
	opts []v2.RequestOptions // of every stats request answered
}

// requests returns the options of every stats request answered so far.
func (s *standIn) requests() []v2.RequestOptions {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]v2.RequestOptions(nil), s.opts...)
}

// apiRegexp is cAdvisor's: version, request type, the rest.
var apiRegexp = regexp.MustCompile(`/api/([^/]+)/?([^/]+)?(.*)`)

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.once.Do(func() {
		s.store = cmemory.New(time.Hour, nil)
		for i := range s.containers {
			c := &s.containers[i]
			for _, st := range c.Stats {
				if err := s.store.AddStats(c, st); err != nil {
					panic(err)
				}
			}
		}
	})
	// RegisterHandlers: any error is a 500 with its text.
	if err := s.handle(w, r); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// handle is handleRequest narrowed to the one request type served.
func (s *standIn) handle(w http.ResponseWriter, r *http.Request) error {
	m := apiRegexp.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return fmt.Errorf("malformed request %q", r.URL.Path)
	}
	version, requestType := m[1], m[2]
	args := strings.Split(m[3], "/")
	if len(args) > 0 && args[0] == "" {
		args = args[1:]
	}
	if version != "v2.1" || requestType != "stats" {
		return fmt.Errorf("stand-in: serves /api/v2.1/stats only, not %q", r.URL.Path)
	}
	opt, err := getRequestOptions(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.opts = append(s.opts, opt)
	s.mu.Unlock()

	name := path.Join("/", strings.Join(args, "/"))
	conts, err := s.requested(name, opt)
	if err != nil {
		return err
	}
	out := make(map[string]v2.ContainerInfo, len(conts))
	for _, c := range conts {
		if c.Name == "/" {
			continue // cAdvisor serves the root cgroup as machine stats
		}
		stats, err := s.store.RecentStats(c.Name, time.Time{}, time.Time{}, opt.Count)
		if errors.Is(err, cmemory.ErrDataNotFound) {
			continue // as GetRequestedContainersInfo does
		}
		if err != nil {
			return err
		}
		out[c.Name] = v2.ContainerInfo{
			Spec:  v2.ContainerSpecFromV1(&c.Spec, c.Aliases, c.Namespace),
			Stats: v2.ContainerStatsFromV1(c.Name, &c.Spec, stats),
		}
	}
	// writeResult
	b, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("failed to marshall response %+v with error: %s", out, err)
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(b)
	return err
}

// requested is the manager's getRequestedContainers for the docker and
// name id types.
func (s *standIn) requested(name string, opt v2.RequestOptions) ([]*v1.ContainerInfo, error) {
	var out []*v1.ContainerInfo
	switch opt.IdType {
	case v2.TypeDocker:
		if !opt.Recursive {
			return nil, errors.New("stand-in: serves recursive docker requests only")
		}
		if name != "/" {
			return nil, fmt.Errorf("invalid request for %s container %q with subcontainers", opt.IdType, name)
		}
		for i := range s.containers {
			if s.containers[i].Namespace == "docker" {
				out = append(out, &s.containers[i])
			}
		}
	case v2.TypeName:
		matched := path.Join(name, "/")
		for i := range s.containers {
			n := s.containers[i].Name
			if n == name || opt.Recursive && strings.HasPrefix(n, matched) {
				out = append(out, &s.containers[i])
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("unknown container %q", name)
		}
	default:
		return nil, fmt.Errorf("invalid request type %q", opt.IdType)
	}
	return out, nil
}

// getRequestOptions is cAdvisor v0.57.0's GetRequestOptions.
func getRequestOptions(r *http.Request) (v2.RequestOptions, error) {
	supportedTypes := map[string]bool{
		v2.TypeName:   true,
		v2.TypeDocker: true,
		v2.TypePodman: true,
	}
	opt := v2.RequestOptions{
		IdType:    v2.TypeName,
		Count:     64,
		Recursive: false,
	}
	idType := r.URL.Query().Get("type")
	if len(idType) != 0 {
		if !supportedTypes[idType] {
			return opt, fmt.Errorf("unknown 'type' %q", idType)
		}
		opt.IdType = idType
	}
	count := r.URL.Query().Get("count")
	if len(count) != 0 {
		n, err := strconv.Atoi(count)
		if err != nil {
			return opt, fmt.Errorf("failed to parse 'count' option: %v", count)
		}
		if n < -1 {
			return opt, fmt.Errorf("invalid 'count' option: only -1 and larger values allowed, not %d", n)
		}
		opt.Count = n
	}
	if r.URL.Query().Get("recursive") == "true" {
		opt.Recursive = true
	}
	if maxAgeString := r.URL.Query().Get("max_age"); len(maxAgeString) > 0 {
		maxAge, err := time.ParseDuration(maxAgeString)
		if err != nil {
			return opt, fmt.Errorf("failed to parse 'max_age' option: %v", err)
		}
		opt.MaxAge = &maxAge
	}
	return opt, nil
}
