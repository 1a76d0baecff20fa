package lint

import "testing"

func TestRecordName(t *testing.T) {
	strict, err := ParseConfig("lint.yml", []byte("conventions:\n  record_name: '^[a-z_]+:[a-z_]+:[a-z0-9_]+$'\n"))
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, "record-name", []lintCase{
		{
			name: "level:metric:operations names pass, with an empty level or more operations",
			in: `groups:
- name: g
  rules:
  - record: job:http_requests:rate5m
    expr: sum by (job) (rate(http_requests_total[5m]))
  - record: :node_memory_MemAvailable_bytes:sum
    expr: sum(node_memory_MemAvailable_bytes)
  - record: apiserver_request:burnrate1h
    expr: sum(rate(apiserver_request_total[1h]))
`,
		},
		{
			name: "a name without colons is a warning",
			in: `groups:
- name: g
  rules:
  - record: ifNiceName
    expr: sum(up)
`,
			want: []string{`rules.yml:4: warning record-name: record "ifNiceName": name is not of the form level:metric:operations (such as job:http_requests:rate5m): without colons it reads as, and can collide with, a metric a target exposes`},
		},
		{
			name: "the conventions' record_name pattern replaces the default",
			cfg:  Config{Policy: strict},
			in: `groups:
- name: g
  rules:
  - record: job:http_requests:rate5m
    expr: sum by (job) (rate(http_requests_total[5m]))
  - record: apiserver_request:burnrate1h
    expr: sum(rate(apiserver_request_total[1h]))
`,
			want: []string{`rules.yml:6: warning record-name: record "apiserver_request:burnrate1h": name does not match the record name pattern ^[a-z_]+:[a-z_]+:[a-z0-9_]+$`},
		},
	})
}
