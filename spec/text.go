package spec

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
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
	w := textWalk{report: report}
	if path != "" {
		w.path = FieldPath{path}
	}
	w.walk(v)
}

// textWalk keeps the path to the value it looks at as its parts, written
// out only for a problem: a valid spec of 1,000 services has hundreds of
// thousands of strings and no problem.
type textWalk struct {
	path   FieldPath
	report func(field, problem string)
}

// MapKey is a map key in a FieldPath.
type MapKey string

// FieldPath locates a value inside a spec or a written file: field names
// (string), indexes (int) and map keys (MapKey), printed as
// services[0].alerts[2].labels["team"].
type FieldPath []any

func (fp FieldPath) String() string {
	var b strings.Builder
	for _, p := range fp {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		case MapKey:
			fmt.Fprintf(&b, "[%q]", string(p))
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		}
	}
	return b.String()
}

func (w *textWalk) field() string { return w.path.String() }

func (w *textWalk) walk(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if p := textProblem(v.String()); p != "" {
			w.report(w.field(), p)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			w.walk(v.Elem())
		}
	case reflect.Struct:
		for i, name := range fieldNames(v.Type()) {
			if name == "" {
				continue
			}
			w.path = append(w.path, name)
			w.walk(v.Field(i))
			w.path = w.path[:len(w.path)-1]
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			w.path = append(w.path, i)
			w.walk(v.Index(i))
			w.path = w.path[:len(w.path)-1]
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return // no spec map has other keys
		}
		if v.Type().Elem().Kind() == reflect.String && !anyTextProblem(v) {
			return // labels, most often: nothing to sort or report
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			w.path = append(w.path, MapKey(k.String()))
			if p := textProblem(k.String()); p != "" {
				w.report(w.field()+" (the key)", p)
			}
			w.walk(v.MapIndex(k))
			w.path = w.path[:len(w.path)-1]
		}
	}
}

// anyTextProblem tells whether a map of strings holds a key or value with
// a textProblem.
func anyTextProblem(m reflect.Value) bool {
	for it := m.MapRange(); it.Next(); {
		if textProblem(it.Key().String()) != "" || textProblem(it.Value().String()) != "" {
			return true
		}
	}
	return false
}

// unreadable tells the characters YAML 1.1 readers refuse that
// encoding/json leaves unescaped.
func unreadable(r rune) bool {
	return r >= 0x7f && r <= 0x9f || r == 0xfffe || r == 0xffff
}

// fieldNames are a struct type's field names as errors name them, "" for
// a field the walk skips (unexported, or an interface: an expression).
func fieldNames(t reflect.Type) []string {
	if n, ok := names.Load(t); ok {
		return n.([]string)
	}
	n := make([]string, t.NumField())
	for i := range n {
		if f := t.Field(i); f.IsExported() && f.Type.Kind() != reflect.Interface {
			n[i] = snake(f.Name)
		}
	}
	names.Store(t, n)
	return n
}

var names sync.Map // reflect.Type -> []string

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
//   - DEL, the C1 controls and U+FFFE/U+FFFF: YAML 1.1 readers (yaml v2,
//     which sigs.k8s.io/yaml writes Kubernetes manifests through, from
//     JSON that holds them unescaped) refuse them ("control characters
//     are not allowed").
//   - A leading tab in a text of several lines: yaml.v3 writes it as a
//     literal block without an indentation indicator, which no YAML parser
//     reads ("found a tab character where an indentation space is
//     expected"); the build would refuse the file it wrote.
func textProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "not valid UTF-8: rule files, Alertmanager's and Prometheus' configuration and dashboards hold text"
	case strings.ContainsFunc(s, unreadable):
		return "holds a character YAML 1.1 readers refuse (DEL, U+0080 to U+009F, U+FFFE or U+FFFF): sigs.k8s.io/yaml cannot write it into a Kubernetes manifest"
	case strings.HasPrefix(s, "\t") && strings.ContainsAny(s, "\n"):
		return "a text of several lines may not start with a tab: YAML writers emit it as a block no YAML parser reads; start it with a space or a character"
	}
	return ""
}
