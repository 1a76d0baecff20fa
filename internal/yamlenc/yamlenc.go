// Package yamlenc writes YAML byte for byte as gopkg.in/yaml.v3's Encoder
// (with SetIndent) does, for the values promgen renders: structs with yaml
// tags, maps with string keys, slices, scalars and Marshalers. It exists for
// speed: yaml.v3 queues, analyses and copies every scalar through its libyaml
// port, which made it the largest cost of a large build. Its rules here are
// yaml.v3's own (encode.go, emitterc.go, resolve.go, sorter.go), restricted
// to block style with best width unlimited, as yaml.v3 writes by default.
//
// Anything outside that subset (yaml.Node, time.Time, flow or tagged
// values, invalid UTF-8, line breaks other than \n, control characters,
// keys that are not plain strings) returns ErrUnsupported, so a caller can
// hand the value to yaml.v3 instead: the output is then still yaml.v3's.
package yamlenc

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	goyaml "go.yaml.in/yaml/v3"
	"gopkg.in/yaml.v3"
)

// ErrUnsupported reports a value this package does not write; yaml.v3 does.
var ErrUnsupported = errors.New("yamlenc: value outside the supported subset")

// Marshal appends v's YAML document to dst, as a yaml.v3 Encoder with
// SetIndent(indent) would write it (indent 0 is yaml.v3's default, 4).
func Marshal(dst []byte, v any, indent int) (out []byte, err error) {
	if indent == 0 {
		indent = 4
	}
	if indent < 2 || indent > 9 {
		indent = 2
	}
	// The document is written to a pooled encoder's buffer and appended to
	// dst once its size is known: growing dst as it is written allocates
	// it several times over, and a large build's YAML is much of what it
	// allocates.
	e := encoders.Get().(*encoder)
	*e = encoder{out: e.out[:0], kvs: e.kvs[:0], copies: e.copies, indents: e.indents[:0], best: indent, indent: -1, whitespace: true, indention: true}
	defer func() {
		// A panic is a path this port does not cover (reflection on an
		// unexported field, say): yaml.v3 decides what it writes.
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%w: %v", ErrUnsupported, r)
		}
		// Drop the caller's values, and keep the space they took.
		clear(e.kvs[:cap(e.kvs)])
		for _, cp := range e.copies {
			for i := range cp.used { // Slice(0, used).Clear() would allocate
				cp.keys.Index(i).SetZero()
				cp.values.Index(i).SetZero()
			}
			cp.used = 0
		}
		encoders.Put(e)
	}()
	rv := reflect.ValueOf(v)
	if err := e.marshal(rv, context{root: true}); err != nil {
		return nil, err
	}
	// Document end: yaml.v3 closes the last line.
	e.writeIndent()
	return append(dst, e.out...), nil
}

var encoders = sync.Pool{New: func() any { return new(encoder) }}

// context is where a node is written: what yaml.v3's emitter keeps in its
// state stack and context flags.
type context struct {
	root      bool // the document's node
	seqItem   bool // an item of a block sequence
	simpleKey bool // a mapping key
	inFlow    bool // an item of a flow sequence
}

type encoder struct {
	out []byte
	// kvs is a stack of the entries of the mappings being written, each
	// mapping's on top of its parent's, so that they allocate nothing once
	// the stack has grown.
	kvs []keyValue
	// copies holds, per map type, the keys and values of the document's
	// maps of that type, copied out of them (MapIter's Key and Value
	// allocate each copy).
	copies map[reflect.Type]*mapCopies
	// flow is yaml.v3's flow flag: set by a struct field tagged flow, it
	// lasts until a collection takes it, even past that field.
	flow       bool
	best       int
	indent     int
	indents    []int
	whitespace bool
	indention  bool
}

var (
	marshalerType     = reflect.TypeFor[interface{ MarshalYAML() (any, error) }]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	isZeroerType      = reflect.TypeFor[interface{ IsZero() bool }]()
	durationType      = reflect.TypeFor[time.Duration]()
)

func (e *encoder) marshal(in reflect.Value, c context) error {
	// yaml.v3 looks at an interface's dynamic value.
	for in.IsValid() && in.Kind() == reflect.Interface && !in.IsNil() {
		in = in.Elem()
		if in.Kind() == reflect.Pointer && in.IsNil() && (in.Type().Implements(marshalerType) || in.Type().Implements(textMarshalerType)) {
			return fmt.Errorf("%w: a nil pointer Marshaler in an interface", ErrUnsupported) // yaml.v3 calls its method on the nil pointer
		}
	}
	if !in.IsValid() || (in.Kind() == reflect.Pointer || in.Kind() == reflect.Interface) && in.IsNil() {
		return e.plain("null", c)
	}
	switch handlingOf(in.Type()) {
	case handleUnsupported:
		return fmt.Errorf("%w: a yaml.Node or time.Time", ErrUnsupported)
	case handleDuration:
		return e.str(time.Duration(in.Int()).String(), c)
	case handleMarshaler:
		v, err := methods(in).(interface{ MarshalYAML() (any, error) }).MarshalYAML()
		if err != nil {
			return err
		}
		if v == nil {
			return e.plain("null", c)
		}
		return e.marshal(reflect.ValueOf(v), c)
	case handleTextMarshaler:
		text, err := methods(in).(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return err
		}
		return e.str(string(text), c)
	}
	switch in.Kind() {
	case reflect.Pointer:
		return e.marshal(in.Elem(), c)
	case reflect.Map:
		return e.mapv(in, c)
	case reflect.Struct:
		return e.structv(in, c)
	case reflect.Slice, reflect.Array:
		return e.slicev(in, c)
	case reflect.String:
		return e.str(in.String(), c)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return e.plain(strconv.FormatInt(in.Int(), 10), c)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return e.plain(strconv.FormatUint(in.Uint(), 10), c)
	case reflect.Float32, reflect.Float64:
		precision := 64
		if in.Kind() == reflect.Float32 {
			precision = 32
		}
		s := strconv.FormatFloat(in.Float(), 'g', -1, precision)
		switch s {
		case "+Inf":
			s = ".inf"
		case "-Inf":
			s = "-.inf"
		case "NaN":
			s = ".nan"
		}
		return e.plain(s, c)
	case reflect.Bool:
		return e.plain(strconv.FormatBool(in.Bool()), c)
	}
	return fmt.Errorf("%w: a value of kind %s", ErrUnsupported, in.Kind())
}

// methods is in as an interface value to call a method of in's type on:
// in's address when it has one (a pointer's method set holds the
// value's), as Interface copies a value that is no pointer into an
// allocation of its own.
func methods(in reflect.Value) any {
	if in.Kind() != reflect.Pointer && in.CanAddr() {
		return in.Addr().Interface()
	}
	return in.Interface()
}

// handling is how yaml.v3's marshal treats a type before its kind: the
// cases of its type switch, in its order.
type handling uint8

const (
	handleKind handling = iota
	handleUnsupported
	handleDuration
	handleMarshaler
	handleTextMarshaler
)

var handlings sync.Map // reflect.Type -> handling

// Nodes (either yaml.v3's) carry comments and styles, and times a format,
// that this package leaves to yaml.v3. All three are structs.
var unsupportedTypes = []reflect.Type{reflect.TypeFor[yaml.Node](), reflect.TypeFor[goyaml.Node](), reflect.TypeFor[time.Time]()}

func handlingOf(t reflect.Type) handling {
	switch k := t.Kind(); {
	case k == reflect.Struct && slices.Contains(unsupportedTypes, t) || k == reflect.Pointer && slices.Contains(unsupportedTypes, t.Elem()):
		return handleUnsupported
	case t.NumMethod() == 0:
		// No Marshaler nor Duration: most values' types, spared the
		// look-up below.
		return handleKind
	}
	if h, ok := handlings.Load(t); ok {
		return h.(handling)
	}
	h := handleKind
	switch {
	case t == durationType:
		h = handleDuration
	case t.Implements(marshalerType):
		h = handleMarshaler
	case t.Implements(textMarshalerType):
		h = handleTextMarshaler
	}
	handlings.Store(t, h)
	return h
}

type keyValue struct {
	key string
	// style is key's when it was known beforehand, a struct field's.
	style *keyStyle
	value reflect.Value
	// setFlow: the value resets yaml.v3's flow flag to flow, as a struct
	// field or inlined map entry does; a map entry leaves it as it is.
	setFlow, flow bool
}

func (e *encoder) mapv(in reflect.Value, c context) error {
	t := in.Type()
	if t.Key().Kind() != reflect.String {
		return fmt.Errorf("%w: map keys of kind %s", ErrUnsupported, t.Key().Kind())
	}
	if t.Key().Implements(marshalerType) || t.Key().Implements(textMarshalerType) {
		return fmt.Errorf("%w: a map key that marshals itself", ErrUnsupported)
	}
	base := len(e.kvs)
	e.pushEntries(in, false)
	slices.SortFunc(e.kvs[base:], compareKeys)
	return e.mapping(base, c)
}

// mapCopies are slices of a map type's keys and values, filled from
// the start by each map of the document in turn.
type mapCopies struct {
	keys, values reflect.Value
	used         int
}

// pushEntries pushes a map's entries onto e.kvs, unsorted.
func (e *encoder) pushEntries(m reflect.Value, setFlow bool) {
	n := m.Len()
	if n == 0 {
		return
	}
	t := m.Type()
	cp := e.copies[t]
	if cp == nil || cp.used+n > cp.keys.Len() {
		// Larger slices; the entries on e.kvs keep the ones they are in.
		size := max(n, 16)
		if cp != nil {
			size = max(n, 2*cp.keys.Len())
		}
		cp = &mapCopies{keys: reflect.MakeSlice(reflect.SliceOf(t.Key()), size, size), values: reflect.MakeSlice(reflect.SliceOf(t.Elem()), size, size)}
		if e.copies == nil {
			e.copies = map[reflect.Type]*mapCopies{}
		}
		e.copies[t] = cp
	}
	iter := m.MapRange()
	for ; iter.Next(); cp.used++ {
		k, v := cp.keys.Index(cp.used), cp.values.Index(cp.used)
		k.SetIterKey(iter)
		v.SetIterValue(iter)
		e.kvs = append(e.kvs, keyValue{key: k.String(), value: v, setFlow: setFlow})
	}
}

func (e *encoder) structv(in reflect.Value, c context) error {
	info, err := structInfoOf(in.Type())
	if err != nil {
		return err
	}
	base := len(e.kvs)
	for i := range info.fields {
		f := &info.fields[i]
		var v reflect.Value
		if f.inline == nil {
			v = in.Field(f.num)
		} else {
			v = fieldByIndex(in, f.inline)
			if !v.IsValid() {
				continue
			}
		}
		if f.omitEmpty && isZero(v) {
			continue
		}
		e.kvs = append(e.kvs, keyValue{key: f.key, style: &f.keyStyle, value: v, setFlow: true, flow: f.flow})
	}
	if info.inlineMap >= 0 {
		m := in.Field(info.inlineMap)
		if kt := m.Type().Key(); (kt.Implements(marshalerType) || kt.Implements(textMarshalerType)) && m.Len() > 0 {
			return fmt.Errorf("%w: an inline map key that marshals itself", ErrUnsupported)
		}
		extra := len(e.kvs)
		e.pushEntries(m, true)
		for _, kv := range e.kvs[extra:] {
			if _, found := info.keys[kv.key]; found {
				return fmt.Errorf("%w: an inline map key that is also a field", ErrUnsupported) // yaml.v3 panics
			}
		}
		slices.SortFunc(e.kvs[extra:], compareKeys)
	}
	return e.mapping(base, c)
}

func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for _, num := range index {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}
			}
			v = v.Elem()
		}
		v = v.Field(num)
	}
	return v
}

// mapping writes the entries on e.kvs from base as a block mapping, or {}
// when there are none (yaml.v3 writes an empty collection in flow style),
// and pops them.
func (e *encoder) mapping(base int, c context) error {
	end := len(e.kvs)
	flow := e.flow
	e.flow = false
	if end == base {
		return e.emptyFlow("{", "}", c)
	}
	if flow || c.inFlow {
		return fmt.Errorf("%w: a mapping in flow style", ErrUnsupported)
	}
	if c.simpleKey {
		return fmt.Errorf("%w: a collection as a map key", ErrUnsupported)
	}
	e.increaseIndent(false, c.seqItem)
	for i := base; i < end; i++ {
		// The entries of the values written here go above end, and may
		// move the stack: kv is a copy.
		kv := e.kvs[i]
		e.writeIndent()
		ks := kv.style
		if ks == nil {
			k, err := styleOfKey(kv.key)
			if err != nil {
				return err
			}
			ks = &k
		}
		if err := e.scalar(kv.key, ks.a, ks.style, context{simpleKey: true}); err != nil {
			return err
		}
		e.writeIndicator(":", false, false, false)
		if kv.setFlow {
			e.flow = kv.flow
		}
		if err := e.marshal(kv.value, context{}); err != nil {
			return err
		}
	}
	e.kvs = e.kvs[:base]
	e.popIndent()
	return nil
}

// keyStyle is how a mapping key is written: its analysis and style.
type keyStyle struct {
	a     analysis
	style scalarStyle
}

// styleOfKey is k's keyStyle; keys that are not simple keys (multi-line
// or over 128 bytes) yaml.v3 writes as "? key", left to it.
func styleOfKey(k string) (keyStyle, error) {
	if len(k) > 128 || strings.ContainsRune(k, '\n') {
		return keyStyle{}, fmt.Errorf("%w: a key of %d bytes or on several lines", ErrUnsupported, len(k))
	}
	a, style, err := styleOf(k, false)
	return keyStyle{a, style}, err
}

func (e *encoder) slicev(in reflect.Value, c context) error {
	n := in.Len()
	flow := e.flow
	e.flow = false
	if c.inFlow {
		return fmt.Errorf("%w: a sequence in a flow sequence", ErrUnsupported)
	}
	if n == 0 {
		return e.emptyFlow("[", "]", c)
	}
	if flow {
		// yaml_emitter_emit_flow_sequence_item, with unlimited width.
		e.writeIndicator("[", true, true, false)
		e.increaseIndent(true, c.seqItem)
		for i := range n {
			if i > 0 {
				e.writeIndicator(",", false, false, false)
			}
			if err := e.marshal(in.Index(i), context{inFlow: true}); err != nil {
				return err
			}
		}
		e.popIndent()
		e.writeIndicator("]", false, false, false)
		return nil
	}
	if c.simpleKey {
		return fmt.Errorf("%w: a sequence as a map key", ErrUnsupported)
	}
	e.increaseIndent(false, c.seqItem)
	for i := range n {
		e.writeIndent()
		e.writeIndicator("-", true, false, true)
		if err := e.marshal(in.Index(i), context{seqItem: true}); err != nil {
			return err
		}
	}
	e.popIndent()
	return nil
}

func (e *encoder) emptyFlow(open, close string, c context) error {
	if c.simpleKey {
		return fmt.Errorf("%w: a collection as a map key", ErrUnsupported)
	}
	e.writeIndicator(open, true, true, false)
	e.writeIndicator(close, false, false, false)
	return nil
}

// str writes a string as yaml.v3's stringv does.
func (e *encoder) str(s string, c context) error {
	a, style, err := styleOf(s, e.flow)
	if err != nil {
		return err
	}
	return e.scalar(s, a, style, c)
}

// styleOf is s's analysis and the style yaml.v3's stringv asks for it:
// plain unless it would read back as another type, a literal block when it
// has line breaks (double-quoted under the flow flag).
func styleOf(s string, flow bool) (analysis, scalarStyle, error) {
	a, ok := analyze(s)
	if !ok {
		// yaml.v3 writes invalid UTF-8 as !!binary.
		return a, 0, fmt.Errorf("%w: invalid UTF-8 or the characters of %q", ErrUnsupported, s)
	}
	style := styleDouble
	switch {
	case a.multiline && flow:
		style = styleDouble
	case a.multiline:
		style = styleLiteral
	case resolvesToString(s) && !isBase60Float(s) && !isOldBool(s):
		style = stylePlain
	}
	return a, style, nil
}

// plain writes a scalar that is no string (null, a number, a bool), as
// yaml.v3 does, plain.
func (e *encoder) plain(s string, c context) error {
	a, _ := analyze(s) // printable ASCII
	return e.scalar(s, a, stylePlain, c)
}

type scalarStyle int

const (
	stylePlain scalarStyle = iota
	styleSingle
	styleDouble
	styleLiteral
)

// scalar writes a scalar, of analysis a, in the requested style, or the
// next one that can hold it, as yaml_emitter_select_scalar_style does.
func (e *encoder) scalar(s string, a analysis, style scalarStyle, c context) error {
	if c.root {
		// A root scalar brings document end markers this port leaves out.
		return fmt.Errorf("%w: a root scalar", ErrUnsupported)
	}
	if c.simpleKey && a.multiline {
		style = styleDouble
	}
	if style == stylePlain {
		if !c.inFlow && !a.blockPlainAllowed || c.inFlow && !a.flowPlainAllowed || len(s) == 0 && (c.simpleKey || c.inFlow) {
			style = styleSingle
		}
	}
	if style == styleSingle && !a.singleQuotedAllowed {
		style = styleDouble
	}
	if style == styleLiteral && (!a.blockAllowed || c.simpleKey || c.inFlow) {
		style = styleDouble
	}
	// yaml_emitter_emit_scalar indents for the scalar's continuation lines.
	e.increaseIndent(true, c.seqItem)
	switch style {
	case stylePlain:
		if len(s) > 0 && !e.whitespace {
			e.put(' ')
		}
		e.write(s)
		if len(s) > 0 {
			e.whitespace = false
		}
		e.indention = false
	case styleSingle:
		if a.multiline {
			return fmt.Errorf("%w: a multi-line single-quoted scalar", ErrUnsupported)
		}
		e.writeIndicator("'", true, false, false)
		rest := s
		for i := strings.IndexByte(rest, '\''); i >= 0; i = strings.IndexByte(rest, '\'') {
			e.write(rest[:i+1])
			e.put('\'') // doubled
			rest = rest[i+1:]
		}
		e.write(rest)
		e.writeIndicator("'", false, false, false)
		e.whitespace = false
		e.indention = false
	case styleDouble:
		e.writeIndicator(`"`, true, false, false)
		start := 0
		for i := 0; i < len(s); i++ {
			if esc := doubleEscapes[s[i]]; esc != "" {
				e.write(s[start:i])
				e.write(esc)
				start = i + 1
			}
		}
		e.write(s[start:])
		e.writeIndicator(`"`, false, false, false)
		e.whitespace = false
		e.indention = false
	case styleLiteral:
		e.writeIndicator("|", true, false, false)
		if s[0] == ' ' || s[0] == '\n' {
			e.writeIndicator(string(rune('0'+e.best)), false, false, false)
		}
		switch {
		case s[len(s)-1] != '\n':
			e.writeIndicator("-", false, false, false)
		case len(s) == 1 || s[len(s)-2] == '\n':
			e.writeIndicator("+", false, false, false)
		}
		e.whitespace = true
		for rest := s; rest != ""; {
			line, after, found := strings.Cut(rest, "\n")
			if line != "" {
				e.writeIndent()
				e.write(line)
				e.indention = false
			}
			if found {
				e.putBreak()
			}
			rest = after
		}
	}
	e.popIndent()
	return nil
}

// analysis is what yaml_emitter_analyze_scalar finds of a scalar, for the
// characters this port writes.
type analysis struct {
	multiline           bool
	flowPlainAllowed    bool
	blockPlainAllowed   bool
	singleQuotedAllowed bool
	blockAllowed        bool
}

// analyze ports yaml_emitter_analyze_scalar (unicode on).
// It refuses invalid UTF-8 and the characters whose writing this port
// leaves to yaml.v3: control characters but tab and \n, \r, NEL, the
// Unicode line and paragraph separators, a byte order mark, and the
// non-characters yaml.v3 escapes.
func analyze(s string) (analysis, bool) {
	if len(s) == 0 {
		return analysis{blockPlainAllowed: true, singleQuotedAllowed: true}, true
	}
	var flowIndicators, blockIndicators, lineBreaks, tabs, leadingSpace, leadingBreak, trailingSpace, trailingBreak, breakSpace, spaceBreak, previousSpace, previousBreak bool
	if (s[0] == '-' || s[0] == '.') && (strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...")) {
		blockIndicators, flowIndicators = true, true
	}
	precededByWhitespace := true
	for i := 0; i < len(s); {
		b := s[i]
		if i > 0 && quiet[b] {
			// A run of them leaves the state as any one of them does.
			for i++; i < len(s) && quiet[s[i]]; i++ {
			}
			previousSpace, previousBreak, precededByWhitespace = false, false, false
			continue
		}
		r, w := rune(b), 1
		if b >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(s[i:])
		}
		if !printable(r) || r == utf8.RuneError && w == 1 {
			return analysis{}, false
		}
		followedByWhitespace := i+w >= len(s) || s[i+w] == ' ' || s[i+w] == '\t'
		if i == 0 {
			switch b {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				blockIndicators, flowIndicators = true, true
			case '?', ':':
				flowIndicators = true
				if followedByWhitespace {
					blockIndicators = true
				}
			case '-':
				if followedByWhitespace {
					blockIndicators, flowIndicators = true, true
				}
			}
		} else {
			switch b {
			case ',', '?', '[', ']', '{', '}':
				flowIndicators = true
			case ':':
				flowIndicators = true
				if followedByWhitespace {
					blockIndicators = true
				}
			case '#':
				if precededByWhitespace {
					blockIndicators, flowIndicators = true, true
				}
			}
		}
		if b == '\t' {
			tabs = true
		}
		switch b {
		case ' ':
			if i == 0 {
				leadingSpace = true
			}
			if i+1 == len(s) {
				trailingSpace = true
			}
			if previousBreak {
				breakSpace = true
			}
			previousSpace, previousBreak = true, false
		case '\n':
			lineBreaks = true
			if i == 0 {
				leadingBreak = true
			}
			if i+1 == len(s) {
				trailingBreak = true
			}
			if previousSpace {
				spaceBreak = true
			}
			previousSpace, previousBreak = false, true
		default:
			previousSpace, previousBreak = false, false
		}
		precededByWhitespace = b == ' ' || b == '\t' || b == '\n'
		i += w
	}
	a := analysis{multiline: lineBreaks, flowPlainAllowed: true, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: true}
	if leadingSpace || leadingBreak || trailingSpace || trailingBreak || breakSpace || spaceBreak || tabs || lineBreaks {
		a.flowPlainAllowed, a.blockPlainAllowed = false, false
	}
	if trailingSpace || spaceBreak {
		a.blockAllowed = false
	}
	if breakSpace || spaceBreak || tabs {
		a.singleQuotedAllowed = false
	}
	if flowIndicators {
		a.flowPlainAllowed = false
	}
	if blockIndicators {
		a.blockPlainAllowed = false
	}
	return a, true
}

// quiet: printable ASCII that, past a scalar's first character, is no
// indicator, space or break, so changes nothing analyze looks at but
// precededByWhitespace, previousSpace and previousBreak, which it clears.
var quiet = func() (t [256]bool) {
	for b := 0x21; b < 0x7F; b++ {
		t[b] = true
	}
	for _, b := range ",?[]{}:#" {
		t[b] = false
	}
	return t
}()

// printable is what this port writes as it is: yaml.v3's is_printable
// (tab and \n aside, which it handles) without \r, NEL, LS, PS and BOM.
func printable(r rune) bool {
	switch {
	case r == '\t' || r == '\n':
		return true
	case r < 0x20 || r == 0x7F:
		return false
	case r < 0x7F:
		return true
	case r < 0xA0 || r == 0x2028 || r == 0x2029 || r == 0xFEFF:
		return false
	case r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	}
	// Beyond the Basic Multilingual Plane yaml.v3 escapes.
	return false
}

// doubleEscapes are the escapes of the characters this port writes
// escaped in a double-quoted scalar; it refuses the others yaml.v3 escapes.
var doubleEscapes = [256]string{'\n': `\n`, '\t': `\t`, '"': `\"`, '\\': `\\`}

// The emitter's primitives, as yaml.v3 has them, but for its column,
// which only writeIndent reads: it reads it off the output.

func (e *encoder) put(b byte) {
	e.out = append(e.out, b)
}

func (e *encoder) write(s string) {
	e.out = append(e.out, s...)
}

func (e *encoder) putBreak() {
	e.out = append(e.out, '\n')
	e.indention = true
}

func (e *encoder) writeIndent() {
	indent := max(e.indent, 0)
	column := e.column(indent)
	if !e.indention || column > indent || column == indent && !e.whitespace {
		e.putBreak()
		column = 0
	}
	for ; column < indent; column++ {
		e.put(' ')
	}
	e.whitespace = true
}

// column is the output's column, in characters, if it is at most limit,
// else limit+1: counting back to the line's start, at most limit+1
// characters, costs less than counting every character written.
func (e *encoder) column(limit int) int {
	n := 0
	for i := len(e.out) - 1; i >= 0 && n <= limit && e.out[i] != '\n'; i-- {
		if e.out[i]&0xC0 != 0x80 {
			n++
		}
	}
	return n
}

func (e *encoder) writeIndicator(indicator string, needWhitespace, isWhitespace, isIndention bool) {
	if needWhitespace && !e.whitespace {
		e.put(' ')
	}
	e.write(indicator)
	e.whitespace = isWhitespace
	e.indention = e.indention && isIndention
}

// increaseIndent is yaml_emitter_increase_indent: inside a sequence item
// the first indent only skips the "- ".
func (e *encoder) increaseIndent(flow, seqItem bool) {
	e.indents = append(e.indents, e.indent)
	switch {
	case e.indent < 0 && flow:
		e.indent = e.best
	case e.indent < 0:
		e.indent = 0
	case seqItem:
		e.indent += 2
	default:
		e.indent = e.best * ((e.indent + e.best) / e.best)
	}
}

func (e *encoder) popIndent() {
	e.indent = e.indents[len(e.indents)-1]
	e.indents = e.indents[:len(e.indents)-1]
}

// Struct fields, as yaml.v3's getStructInfo reads their tags.

type fieldInfo struct {
	key       string
	keyStyle  keyStyle
	num       int
	omitEmpty bool
	flow      bool
	inline    []int
}

type structInfo struct {
	fields    []fieldInfo
	keys      map[string]bool
	inlineMap int
}

var structInfos sync.Map // reflect.Type -> *structInfo, or error

func structInfoOf(t reflect.Type) (*structInfo, error) {
	if v, ok := structInfos.Load(t); ok {
		if err, ok := v.(error); ok {
			return nil, err
		}
		return v.(*structInfo), nil
	}
	info, err := readStruct(t)
	if err != nil {
		structInfos.Store(t, err)
		return nil, err
	}
	structInfos.Store(t, info)
	return info, nil
}

var unmarshalerType = reflect.TypeFor[interface{ UnmarshalYAML(any) error }]()

func readStruct(t reflect.Type) (*structInfo, error) {
	info := &structInfo{keys: map[string]bool{}, inlineMap: -1}
	for i := range t.NumField() {
		field := t.Field(i)
		if field.PkgPath != "" && !field.Anonymous {
			continue
		}
		tag := field.Tag.Get("yaml")
		if tag == "" && !strings.Contains(string(field.Tag), ":") {
			tag = string(field.Tag)
		}
		if tag == "-" {
			continue
		}
		f := fieldInfo{num: i}
		inline := false
		if parts := strings.Split(tag, ","); len(parts) > 1 {
			for _, flag := range parts[1:] {
				switch flag {
				case "omitempty":
					f.omitEmpty = true
				case "inline":
					inline = true
				case "flow":
					f.flow = true
				default: // a flag yaml.v3 rejects
					return nil, fmt.Errorf("%w: the tag %q of %s", ErrUnsupported, tag, t)
				}
			}
			tag = parts[0]
		}
		if inline {
			switch field.Type.Kind() {
			case reflect.Map:
				if info.inlineMap >= 0 || field.Type.Key().Kind() != reflect.String {
					return nil, fmt.Errorf("%w: the inline map of %s", ErrUnsupported, t)
				}
				info.inlineMap = i
			case reflect.Struct, reflect.Pointer:
				ft := field.Type
				for ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				// yaml.v3 leaves out inlined structs that unmarshal
				// themselves when it encodes; rare enough to leave to it.
				if ft.Kind() != reflect.Struct || reflect.PointerTo(ft).Implements(unmarshalerType) {
					return nil, fmt.Errorf("%w: the inline field %s of %s", ErrUnsupported, field.Name, t)
				}
				inner, err := structInfoOf(ft)
				if err != nil {
					return nil, err
				}
				if inner.inlineMap >= 0 {
					return nil, fmt.Errorf("%w: the inline map inlined into %s", ErrUnsupported, t)
				}
				for _, fi := range inner.fields {
					if info.keys[fi.key] {
						return nil, fmt.Errorf("%w: the duplicate key %q in %s", ErrUnsupported, fi.key, t)
					}
					if fi.inline == nil {
						fi.inline = []int{i, fi.num}
					} else {
						fi.inline = append([]int{i}, fi.inline...)
					}
					info.keys[fi.key] = true
					info.fields = append(info.fields, fi)
				}
			default:
				return nil, fmt.Errorf("%w: the inline field %s of %s", ErrUnsupported, field.Name, t)
			}
			continue
		}
		f.key = tag
		if f.key == "" {
			f.key = strings.ToLower(field.Name)
		}
		if info.keys[f.key] {
			return nil, fmt.Errorf("%w: the duplicate key %q in %s", ErrUnsupported, f.key, t)
		}
		var err error
		if f.keyStyle, err = styleOfKey(f.key); err != nil {
			return nil, err
		}
		info.keys[f.key] = true
		info.fields = append(info.fields, f)
	}
	return info, nil
}

// isZero is yaml.v3's test for omitempty.
func isZero(v reflect.Value) bool {
	kind := v.Kind()
	if kind == reflect.Interface {
		if v.IsNil() {
			return true
		}
		// yaml.v3 asks the dynamic value, even a nil pointer.
		if d := v.Elem(); d.Type().Implements(isZeroerType) {
			return d.Interface().(interface{ IsZero() bool }).IsZero()
		}
		return false
	}
	if v.Type().Implements(isZeroerType) {
		if (kind == reflect.Pointer || kind == reflect.Interface) && v.IsNil() {
			return true
		}
		return methods(v).(interface{ IsZero() bool }).IsZero()
	}
	switch kind {
	case reflect.String:
		return v.Len() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Struct:
		t := v.Type()
		for i := v.NumField() - 1; i >= 0; i-- {
			if t.Field(i).PkgPath != "" {
				continue
			}
			if !isZero(v.Field(i)) {
				return false
			}
		}
		return true
	}
	return false
}

// compareKeys orders entries by keyLess for slices.SortFunc, whose
// pdqsort is sort.Sort's (both are generated from one template): it
// compares the same pairs in the same order, so keys end in yaml.v3's order
// even where keyLess is no strict order.
func compareKeys(a, b keyValue) int {
	if keyLess(a.key, b.key) {
		return -1
	}
	return 1
}

// keyLess is yaml.v3's order of string map keys: runs of digits compare
// as numbers, letters before other characters.
func keyLess(a, b string) bool {
	// yaml.v3 compares runes; ASCII keys, the common case, spare decoding.
	if isASCII(a) && isASCII(b) {
		return charsLess([]byte(a), []byte(b))
	}
	return charsLess([]rune(a), []rune(b))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// charsLess is keyLess on a key's characters.
func charsLess[C byte | rune](ar, br []C) bool {
	digits := false
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			digits = unicode.IsDigit(rune(ar[i]))
			continue
		}
		al := unicode.IsLetter(rune(ar[i]))
		bl := unicode.IsLetter(rune(br[i]))
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			if digits {
				return al
			}
			return bl
		}
		var ai, bi int
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(rune(ar[j])); j-- {
				if ar[j] != '0' {
					an = 1
					bn = 1
					break
				}
			}
		}
		for ai = i; ai < len(ar) && unicode.IsDigit(rune(ar[ai])); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for bi = i; bi < len(br) && unicode.IsDigit(rune(br[bi])); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}

// Plain scalars that would read back as something else, as yaml.v3's
// resolve decides.

var resolveTable = func() (t [256]byte) {
	t['+'], t['-'] = 'S', 'S'
	for _, c := range "0123456789" {
		t[c] = 'D'
	}
	for _, c := range "yYnNtTfFoO~" {
		t[c] = 'M'
	}
	t['.'] = '.'
	return t
}()

var resolveNotString = map[string]bool{
	"true": true, "True": true, "TRUE": true,
	"false": true, "False": true, "FALSE": true,
	"": true, "~": true, "null": true, "Null": true, "NULL": true,
	".nan": true, ".NaN": true, ".NAN": true,
	".inf": true, ".Inf": true, ".INF": true,
	"+.inf": true, "+.Inf": true, "+.INF": true,
	"-.inf": true, "-.Inf": true, "-.INF": true,
	"<<": true,
}

var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// resolvesToString reports whether s, written plain, reads back as a string.
func resolvesToString(in string) bool {
	hint := byte('N')
	if in != "" {
		hint = resolveTable[in[0]]
	}
	if hint == 0 {
		return true
	}
	if resolveNotString[in] {
		return false
	}
	switch hint {
	case '.':
		if !mayBeNumber(in) {
			return true
		}
		_, err := strconv.ParseFloat(in, 64)
		return err != nil
	case 'D', 'S':
		if isTimestamp(in) {
			return false
		}
		plain := strings.ReplaceAll(in, "_", "")
		if !mayBeNumber(plain) {
			return true
		}
		if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return false
		}
		if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return false
		}
		if yamlStyleFloat.MatchString(plain) {
			if _, err := strconv.ParseFloat(plain, 64); err == nil {
				return false
			}
		}
		switch {
		case strings.HasPrefix(plain, "0b"):
			if parses(plain[2:], 2) {
				return false
			}
		case strings.HasPrefix(plain, "-0b"):
			if _, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
				return false
			}
		}
		switch {
		case strings.HasPrefix(plain, "0o"):
			if parses(plain[2:], 8) {
				return false
			}
		case strings.HasPrefix(plain, "-0o"):
			if _, err := strconv.ParseInt("-"+plain[3:], 8, 64); err == nil {
				return false
			}
		}
	}
	return true
}

// mayBeNumber is false for a string none of strconv's parsers below
// accepts, which they would report with an allocated error: a byte that is
// no digit, '.', '_', hex digit, exponent, letter of "inf", "infinity" or
// "nan", or base prefix right after a leading 0 ("1x23" is a test's
// series), or a sign other than at the start or after a letter (an
// exponent's, or a base prefix's, as in "0b-1").
func mayBeNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case numberByte[c]:
		case c == 'x' || c == 'X' || c == 'o' || c == 'O':
			if i == 0 || s[i-1] != '0' || i > 2 || i == 2 && s[0] != '+' && s[0] != '-' {
				return false
			}
		case c == '+' || c == '-':
			if i > 0 && !isLetter(s[i-1]) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

var numberByte = func() (t [256]bool) {
	for _, c := range "0123456789._abcdefABCDEFpPiInNtTyY" {
		t[c] = true
	}
	return t
}()

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func parses(s string, base int) bool {
	if _, err := strconv.ParseInt(s, base, 64); err == nil {
		return true
	}
	_, err := strconv.ParseUint(s, base, 64)
	return err == nil
}

var timestampFormats = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

func isTimestamp(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			break
		}
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return false
	}
	for _, f := range timestampFormats {
		if _, err := time.Parse(f, s); err == nil {
			return true
		}
	}
	return false
}

var base60float = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`)

// isBase60Float: YAML 1.1 sexagesimals, which yaml.v3 quotes.
func isBase60Float(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if !(c == '+' || c == '-' || c >= '0' && c <= '9') || strings.IndexByte(s, ':') < 0 {
		return false
	}
	return base60float.MatchString(s)
}

// isOldBool: YAML 1.1 booleans, which yaml.v3 quotes.
func isOldBool(s string) bool {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
		"n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return true
	}
	return false
}
