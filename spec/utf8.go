package spec

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// textFields reports every string of v (a spec value: a struct, and the
// slices, maps and pointers under it) that no generated file can hold as
// it is (textProblem), with its field path from v, e.g.
// "tests[0].series[1].labels[\"job\"]". Expressions are left out: they are
// printed and parsed back, and the PromQL parser refuses invalid UTF-8
// itself.
func textFields(v reflect.Value, path string, report func(field, problem string)) {
	switch v.Kind() {
	case reflect.String:
		if p := textProblem(v.String()); p != "" {
			report(path, p)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			textFields(v.Elem(), path, report)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() || f.Type.Kind() == reflect.Interface {
				continue
			}
			textFields(v.Field(i), join(path, snake(f.Name)), report)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			textFields(v.Index(i), fmt.Sprintf("%s[%d]", path, i), report)
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			name := fmt.Sprintf("%s[%q]", path, fmt.Sprint(k))
			if k.Kind() == reflect.String {
				if p := textProblem(k.String()); p != "" {
					report(name+" (the key)", p)
				}
			}
			textFields(v.MapIndex(k), name, report)
		}
	}
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// snake writes a Go field name as the spec's errors name fields:
// RunbookURL is runbook_url, KeepFiringFor keep_firing_for.
func snake(name string) string {
	var b strings.Builder
	r := []rune(name)
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 && (unicode.IsLower(r[i-1]) || i+1 < len(r) && unicode.IsLower(r[i+1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// textProblem says why no generated file can hold s, "" when one can.
//   - Invalid UTF-8: YAML, JSON and Prometheus' label values are text;
//     yaml.v3 would write it as !!binary, encoding/json as U+FFFD, neither
//     of them the spec's value.
//   - A leading tab in a text of several lines: yaml.v3 writes it as a
//     literal block without an indentation indicator, which no YAML parser
//     reads ("found a tab character where an indentation space is
//     expected"); the build would refuse the file it wrote.
func textProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "not valid UTF-8: rule files, Alertmanager's and Prometheus' configuration and dashboards hold text"
	case strings.HasPrefix(s, "\t") && strings.ContainsAny(s, "\n"):
		return "a text of several lines may not start with a tab: YAML writers emit it as a block no YAML parser reads; start it with a space or a character"
	}
	return ""
}
