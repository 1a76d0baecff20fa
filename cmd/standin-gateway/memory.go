package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memoryStats is the process' own cgroup memory, as Docker and cAdvisor see it.
type memoryStats struct {
	limit      uint64 // 0: no limit
	workingSet uint64 // usage minus inactive file cache
}

// noLimit is the smallest cgroup v1 limit taken to mean "unlimited": the
// kernel reports an unlimited v1 cgroup as the page-aligned maximum int64.
const noLimit = 1 << 62

// cgroupMemory reads memory stats from a cgroup v2 (memory.max) or v1
// (memory/memory.limit_in_bytes) hierarchy mounted at root. Inside a
// container Docker mounts the container's own cgroup there.
func cgroupMemory(root string) func() (memoryStats, error) {
	return func() (memoryStats, error) {
		if _, err := os.Stat(filepath.Join(root, "memory.max")); err == nil {
			return readCgroup(root, "memory.max", "memory.current", "inactive_file")
		}
		return readCgroup(filepath.Join(root, "memory"), "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")
	}
}

func readCgroup(dir, limitFile, usageFile, inactiveKey string) (memoryStats, error) {
	var m memoryStats
	limit, err := readValue(filepath.Join(dir, limitFile))
	if err != nil {
		return m, err
	}
	if limit < noLimit {
		m.limit = limit
	}
	usage, err := readValue(filepath.Join(dir, usageFile))
	if err != nil {
		return m, err
	}
	inactive, err := readStat(filepath.Join(dir, "memory.stat"), inactiveKey)
	if err != nil {
		return m, err
	}
	if inactive < usage {
		m.workingSet = usage - inactive
	}
	return m, nil
}

// readValue reads a one-number cgroup file; v2's "max" means no limit.
func readValue(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return noLimit, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

func readStat(path, key string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %s: %w", path, key, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, key)
}
