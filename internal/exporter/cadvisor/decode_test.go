package cadvisor

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	v2 "github.com/google/cadvisor/info/v2"

	"github.com/sre-tools/promgen/internal/exporter/memory"
)

// reference decodes an answer the straightforward way, into cadvisor's own
// info/v2 types with encoding/json: what decode must agree with.
func reference(body []byte) (map[string]memory.Stats, error) {
	var infos map[string]v2.ContainerInfo
	if err := json.Unmarshal(body, &infos); err != nil {
		return nil, err
	}
	out := map[string]memory.Stats{}
	for _, info := range infos {
		id := dockerID(info.Spec.Namespace, info.Spec.Aliases)
		if id == "" || len(info.Stats) == 0 {
			continue
		}
		last := info.Stats[len(info.Stats)-1]
		if last == nil || last.Memory == nil {
			continue
		}
		st := memory.Stats{WorkingSet: last.Memory.WorkingSet, Usage: last.Memory.Usage}
		if info.Spec.HasMemory && info.Spec.Memory.Limit < unlimited {
			st.Limit = info.Spec.Memory.Limit
		}
		out[id] = st
	}
	return out, nil
}

// decodeSeeds are answers decode must read as encoding/json reads them into
// cadvisor's types: a stand-in's real answer, and JSON a cAdvisor does not
// write but JSON allows.
func decodeSeeds(t testing.TB) []string {
	web, db := id("web"), id("db")
	return []string{
		string(answer(t, fleet(3))),
		`{}`, `null`, ` { } `,
		// whitespace everywhere JSON allows it
		fmt.Sprintf("\n{ \"/docker/%s\" :\t{ \"spec\" : { \"aliases\" : [ \"web\" , \"%s\" ] , \"namespace\" : \"docker\" , \"has_memory\" : true , \"memory\" : { \"limit\" : 100 } } , \"stats\" : [ { \"memory\" : { \"usage\" : 60 , \"working_set\" : 50 } } ] } }\r\n", web, web),
		// escapes in keys and values, which cAdvisor never writes
		fmt.Sprintf(`{"/docker/\u0077eb": {"sp\u0065c": {"aliases": ["w\"eb", "%s"], "namespace": "d\u006fcker", "has_memory": true, "memory": {"limit": 100}}, "stats": [{"memory": {"usage": 60, "working_set": 50}}]}}`, web),
		// escaped quotes and backslashes in skipped strings
		fmt.Sprintf(`{"x": {"spec": {"image": "a\\\"b\\\\", "labels": {"k\\\\": "v\\\"}"}, "aliases": ["db", "%s"], "namespace": "docker"}, "stats": [{"memory": {"usage": 1, "working_set": 1}}]}}`, db),
		// nulls where objects, arrays, numbers and booleans go
		fmt.Sprintf(`{"a": {"spec": {"aliases": ["web", "%s"], "namespace": "docker", "has_memory": null, "memory": null}, "stats": [null, {"memory": {"usage": null, "working_set": 5}}]}}`, web),
		fmt.Sprintf(`{"a": {"spec": {"aliases": ["web", "%s"], "namespace": "docker"}, "stats": [{"memory": {"usage": 1, "working_set": 1}}, null]}}`, web),
		fmt.Sprintf(`{"a": {"spec": {"aliases": [null, "%s"], "namespace": null}, "stats": [{"memory": {"usage": 1}}]}}`, web),
		fmt.Sprintf(`{"a": {"spec": {"aliases": ["web", "%s"], "namespace": "docker"}, "stats": [{"memory": {"usage": 1}}, {"memory": null}]}}`, web),
		fmt.Sprintf(`{"a": {"spec": null, "stats": null}, "b": {"spec": {"aliases": ["db", "%s"], "namespace": "docker", "has_memory": false, "memory": {"limit": 7}}, "stats": [{"memory": {}}]}}`, db),
		// names in any case, as encoding/json matches them; the same
		// cgroup twice, the last replacing the first
		fmt.Sprintf(`{"a": {"spec": {"aliases": ["db", "%s"], "namespace": "docker"}, "stats": [{"memory": {"usage": 9}}]}, "a": {"SPEC": {"Aliases": ["web", "%s"], "nameſpace": "docker", "HAS_MEMORY": true, "Memory": {"LIMIT": 100}}, "Stats": [{"MEMORY": {"Usage": 1, "WORKING_SET": 2}}]}}`, db, web),
		// numbers, booleans and nesting in skipped values
		fmt.Sprintf(`{"a": {"spec": {"aliases": ["web", "%s"], "namespace": "docker", "x": [1, -2.5e+3, true, false, null, {"y": [[], {}]}]}, "stats": [{"cpu": {"usage": {"per_cpu_usage": [1, 2, 3]}}, "memory": {"usage": 18446744073709551615, "working_set": 0}}]}}`, web),
		// not a Docker container's ID
		`{"a": {"spec": {"aliases": ["web", "WEB"], "namespace": "docker"}, "stats": [{"memory": {"usage": 1, "working_set": 1}}]}}`,
		`{"a": {"spec": {"aliases": [], "namespace": "docker"}, "stats": [{"memory": {"usage": 1, "working_set": 1}}]}}`,
	}
}

// TestDecodeAgreesWithEncodingJSON holds decode to what encoding/json reads
// into cadvisor's types, on a real answer and on JSON that only JSON's
// grammar allows.
func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	for i, body := range decodeSeeds(t) {
		t.Run(fmt.Sprint("seed ", i), func(t *testing.T) {
			want, err := reference([]byte(body))
			if err != nil {
				t.Fatalf("reference: %v\n%s", err, body)
			}
			got, err := decode([]byte(body))
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, body)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decode = %v\nencoding/json reads %v\n%s", got, want, body)
			}
		})
	}
}

// TestDecodeRejects lists answers decode must reject, each with what
// encoding/json says of it.
func TestDecodeRejects(t *testing.T) {
	web := id("web")
	for _, tt := range []struct {
		name, body, wantMsg string
	}{
		{"an empty body is rejected", ``, "unexpected end of JSON input"},
		{"an HTML page is rejected", `<html>`, `invalid character '<'`},
		{"a top-level array is rejected", `[]`, `cannot unmarshal array`},
		{"a body cut short is rejected", `{"a": {"spec": {"labels": {"x": "y"`, "unexpected end of JSON input"},
		{"mismatched brackets in an unread value are rejected", `{"a": {"spec": {"labels": {"x": [1}}}}`, `invalid character '}'`},
		{"trailing data is rejected", `{} {}`, `after top-level value`},
		{"a negative usage is rejected", fmt.Sprintf(`{"a": {"spec": {"aliases": ["web", "%s"], "namespace": "docker"}, "stats": [{"memory": {"usage": -1}}]}}`, web), "cannot unmarshal number -1"},
		{"a fractional limit is rejected", `{"a": {"spec": {"memory": {"limit": 1.5}}}}`, "cannot unmarshal number 1.5"},
		{"a usage beyond 64 bits is rejected", `{"a": {"stats": [{"memory": {"usage": 18446744073709551616}}]}}`, "cannot unmarshal number 18446744073709551616"},
		{"a string where a number goes is rejected", `{"a": {"stats": [{"memory": {"usage": "1"}}]}}`, `cannot unmarshal string`},
		{"a number where the namespace goes is rejected", `{"a": {"spec": {"namespace": 1}}}`, `cannot unmarshal number into Go struct field`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decode([]byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("decode(%q) = %v, %v; want an error containing %q", tt.body, got, err, tt.wantMsg)
			}
		})
	}
}

// FuzzDecode checks, for any input encoding/json reads into cadvisor's
// types, that decode's five fields read the same: their JSON names and
// types are cadvisor's. decode may accept input cadvisor's types reject (a
// type error in a field it does not read).
// go test runs the seeds; go test -fuzz FuzzDecode explores further.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decode(body)
		want, refErr := reference(body)
		if refErr != nil {
			return
		}
		if err != nil {
			t.Fatalf("decode failed where encoding/json did not: %v\n%q", err, body)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decode = %v\nencoding/json reads %v\n%q", got, want, body)
		}
	})
}
