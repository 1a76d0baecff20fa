package generate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	"go.yaml.in/yaml/v3"

	"github.com/sre-tools/promgen/spec"
)

// readBack checks that content, the encoding of want, reads back as want
// through load, the loader of the file it will be written to: a build
// never writes a file its reader refuses or reads as something else.
// Before a file is written, its bytes, not the values they were made
// from, are what Prometheus, Alertmanager or promtool will read.
func readBack[T any](path string, want T, content []byte, load func([]byte) (T, error)) error {
	got, err := load(content)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if d := difference(reflect.ValueOf(want), reflect.ValueOf(got), ""); d != "" {
		return fmt.Errorf("%s: reads back as something else: %s", path, d)
	}
	return nil
}

// strictly decodes a YAML file into a T as its loaders do: unknown fields
// are errors, and so is a second document.
func strictly[T any](content []byte) (T, error) {
	var v T
	dec := yaml.NewDecoder(bytes.NewReader(content))
	dec.KnownFields(true)
	if err := dec.Decode(&v); err != nil {
		return v, fmt.Errorf("does not read back: %w", err)
	}
	var second any
	if err := dec.Decode(&second); !errors.Is(err, io.EOF) {
		return v, fmt.Errorf("does not read back: a second document")
	}
	return v, nil
}

// asPromtool decodes a promtool test file as promtool does: yaml v2,
// strictly (cmd/promtool's unittest.go).
func asPromtool(content []byte) (testFile, error) {
	var f testFile
	if err := yamlv2.UnmarshalStrict(content, &f); err != nil {
		return f, fmt.Errorf("promtool would not read it: %w", err)
	}
	return f, nil
}

// marshalRead is marshal, and readBack of the bytes through a strict
// decoding into v's own type.
func marshalRead[T any](path string, v T) ([]byte, error) {
	b, err := marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := readBack(path, v, b, strictly[T]); err != nil {
		return nil, err
	}
	return b, nil
}

// difference says where got departs from want, "" when they agree. A nil
// map or slice agrees with an empty one: omitempty writes neither.
func difference(want, got reflect.Value, path string) string {
	d := differ{}
	if path != "" {
		d.path = spec.FieldPath{path}
	}
	return d.diff(want, got)
}

// differ keeps the path to the values it compares as its parts, written
// out only for a difference: a build compares millions of values and
// finds none.
type differ struct {
	path spec.FieldPath
}

func (d *differ) at() string { return d.path.String() }

func (d *differ) push(p any) { d.path = append(d.path, p) }
func (d *differ) pop()       { d.path = d.path[:len(d.path)-1] }

func (d *differ) diff(want, got reflect.Value) string {
	if want.Kind() != got.Kind() {
		return fmt.Sprintf("%s: wrote a %s, read a %s", d.at(), want.Kind(), got.Kind())
	}
	switch want.Kind() {
	case reflect.Pointer, reflect.Interface:
		if want.IsNil() || got.IsNil() {
			if want.IsNil() != got.IsNil() {
				return fmt.Sprintf("%s: wrote %v, read %v", d.at(), show(want), show(got))
			}
			return ""
		}
		return d.diff(want.Elem(), got.Elem())
	case reflect.Struct:
		t := want.Type()
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			d.push(fieldName(t.Field(i)))
			r := d.diff(want.Field(i), got.Field(i))
			d.pop()
			if r != "" {
				return r
			}
		}
		return ""
	case reflect.Slice, reflect.Array:
		if want.Len() != got.Len() {
			return fmt.Sprintf("%s: wrote %d items, read %d", d.at(), want.Len(), got.Len())
		}
		for i := range want.Len() {
			d.push(i)
			r := d.diff(want.Index(i), got.Index(i))
			d.pop()
			if r != "" {
				return r
			}
		}
		return ""
	case reflect.Map:
		if got.Len() != want.Len() {
			return fmt.Sprintf("%s: wrote %d entries, read %d", d.at(), want.Len(), got.Len())
		}
		// Unsorted first: a build compares many maps and finds no
		// difference; sorted, for the same first difference every time,
		// only when there is one.
		for it := want.MapRange(); it.Next(); {
			if d.entry(it.Key(), it.Value(), got) != "" {
				keys := want.MapKeys()
				slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(keyString(a), keyString(b)) })
				for _, k := range keys {
					if r := d.entry(k, want.MapIndex(k), got); r != "" {
						return r
					}
				}
			}
		}
		return ""
	case reflect.Float32, reflect.Float64:
		if w, g := want.Float(), got.Float(); w == g || w != w && g != g {
			return ""
		}
		return fmt.Sprintf("%s: wrote %v, read %v", d.at(), want, got)
	default:
		if want.Equal(got) {
			return ""
		}
		return fmt.Sprintf("%s: wrote %s, read %s", d.at(), show(want), show(got))
	}
}

// entry compares want's entry k, v with got's.
func (d *differ) entry(k, v, got reflect.Value) string {
	d.push(spec.MapKey(keyString(k)))
	defer d.pop()
	g := got.MapIndex(k)
	if !g.IsValid() {
		return fmt.Sprintf("%s: wrote it, read none", d.at())
	}
	return d.diff(v, g)
}

func keyString(k reflect.Value) string {
	if k.Kind() == reflect.String {
		return k.String()
	}
	return fmt.Sprint(k)
}

func show(v reflect.Value) string {
	if v.Kind() == reflect.String {
		return fmt.Sprintf("%q", v.String())
	}
	return fmt.Sprint(v)
}

// fieldName is a field's YAML key (or JSON key, for Kubernetes' types,
// which sigs.k8s.io/yaml writes through JSON), as an error names it.
func fieldName(f reflect.StructField) string {
	for _, tag := range []string{"yaml", "json"} {
		if n, _, _ := strings.Cut(f.Tag.Get(tag), ","); n != "" && n != "-" {
			return n
		}
	}
	return f.Name
}

// marshalTests is marshal for a promtool test file, read back as promtool
// reads it.
func marshalTests(path string, f testFile) ([]byte, error) {
	b, err := marshal(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := readBack(path, f, b, asPromtool); err != nil {
		return nil, err
	}
	return b, nil
}
