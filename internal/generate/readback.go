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
	if want.Kind() != got.Kind() {
		return fmt.Sprintf("%s: wrote a %s, read a %s", orTop(path), want.Kind(), got.Kind())
	}
	switch want.Kind() {
	case reflect.Pointer, reflect.Interface:
		if want.IsNil() || got.IsNil() {
			if want.IsNil() != got.IsNil() {
				return fmt.Sprintf("%s: wrote %v, read %v", orTop(path), show(want), show(got))
			}
			return ""
		}
		return difference(want.Elem(), got.Elem(), path)
	case reflect.Struct:
		t := want.Type()
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			if d := difference(want.Field(i), got.Field(i), join(path, fieldName(t.Field(i)))); d != "" {
				return d
			}
		}
		return ""
	case reflect.Slice, reflect.Array:
		if want.Len() != got.Len() {
			return fmt.Sprintf("%s: wrote %d items, read %d", orTop(path), want.Len(), got.Len())
		}
		for i := range want.Len() {
			if d := difference(want.Index(i), got.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	case reflect.Map:
		keys := want.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			g := got.MapIndex(k)
			if !g.IsValid() {
				return fmt.Sprintf("%s[%q]: wrote it, read none", path, fmt.Sprint(k))
			}
			if d := difference(want.MapIndex(k), g, fmt.Sprintf("%s[%q]", path, fmt.Sprint(k))); d != "" {
				return d
			}
		}
		if got.Len() != want.Len() {
			return fmt.Sprintf("%s: wrote %d entries, read %d", orTop(path), want.Len(), got.Len())
		}
		return ""
	case reflect.Float32, reflect.Float64:
		if w, g := want.Float(), got.Float(); w == g || w != w && g != g {
			return ""
		}
		return fmt.Sprintf("%s: wrote %v, read %v", orTop(path), want, got)
	default:
		if want.Equal(got) {
			return ""
		}
		return fmt.Sprintf("%s: wrote %s, read %s", orTop(path), show(want), show(got))
	}
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

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

func orTop(path string) string {
	if path == "" {
		return "the file"
	}
	return path
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
