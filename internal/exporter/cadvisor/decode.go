package cadvisor

import (
	"encoding/json"
	"fmt"

	"github.com/sre-tools/promgen/internal/exporter/memory"
)

// info holds the fields read from one of cadvisor's v2.ContainerInfo, under
// the JSON names cadvisor's info/v2 and info/v1 types give them. Decoding
// cadvisor's own types would allocate every CPU, disk, network and process
// figure of every container (21 MB for 1,000 containers); these five fields
// take about 0.7 MB. encoding/json reads 1,000 containers' 4.5 MB answer in
// about 30 ms, once per refresh interval (docs/exporter.md has the profile
// that retired a hand-written scanner saving 25 ms of it).
type info struct {
	Spec struct {
		Aliases   []string `json:"aliases"`
		Namespace string   `json:"namespace"`
		HasMemory bool     `json:"has_memory"`
		Memory    struct {
			Limit uint64 `json:"limit"`
		} `json:"memory"`
	} `json:"spec"`
	// cAdvisor sends samples oldest first; only the newest counts.
	Stats []*struct {
		Memory *struct {
			Usage      uint64 `json:"usage"`
			WorkingSet uint64 `json:"working_set"`
		} `json:"memory"`
	} `json:"stats"`
}

// decode turns cAdvisor's v2.1 stats answer (a JSON object of
// v2.ContainerInfo by cgroup name) into memory stats by container ID.
// Containers that are not Docker's, or have no memory sample yet (cAdvisor
// lists a container before its first housekeeping), are left out.
func decode(body []byte) (map[string]memory.Stats, error) {
	var infos map[string]info
	if err := json.Unmarshal(body, &infos); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	out := make(map[string]memory.Stats, len(infos))
	for _, c := range infos {
		id := dockerID(c.Spec.Namespace, c.Spec.Aliases)
		if id == "" || len(c.Stats) == 0 {
			continue
		}
		last := c.Stats[len(c.Stats)-1]
		if last == nil || last.Memory == nil {
			continue
		}
		st := memory.Stats{
			// cAdvisor's working set is already usage minus inactive file.
			WorkingSet: last.Memory.WorkingSet,
			Usage:      last.Memory.Usage,
		}
		if c.Spec.HasMemory && c.Spec.Memory.Limit < unlimited {
			st.Limit = c.Spec.Memory.Limit
		}
		out[id] = st
	}
	return out, nil
}

// dockerID returns the full container ID of a Docker container, or "" for
// anything else. cAdvisor keys its answer by cgroup name, which depends on
// the cgroup driver (/docker/<id> or /system.slice/docker-<id>.scope), but
// the aliases its Docker handler sets, [name, id], end with the bare ID
// whatever the driver.
func dockerID(namespace string, aliases []string) string {
	// "docker" is cAdvisor's namespace for containers of its Docker handler.
	if namespace != "docker" || len(aliases) == 0 {
		return ""
	}
	id := aliases[len(aliases)-1]
	if !isID(id) {
		return ""
	}
	return id
}
