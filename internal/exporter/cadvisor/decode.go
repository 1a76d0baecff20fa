package cadvisor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/sre-tools/promgen/internal/exporter/memory"
)

// decode turns cAdvisor's v2.1 stats answer (a JSON object of
// v2.ContainerInfo by cgroup name) into memory stats by container ID.
// Containers that are not Docker's, or have no memory sample yet (cAdvisor
// lists a container before its first housekeeping), are left out.
//
// It reads five fields of each container, a few dozen bytes out of several
// kilobytes of CPU, disk, network, filesystem and process figures, so it
// walks the JSON and skips every other value by matching brackets and
// strings, instead of decoding cadvisor's types (a full decode of 1,000
// containers allocates 21 MB; even encoding/json into a struct of the five
// fields scans each byte twice through its state machine). Skipped values
// are checked only for balanced brackets and terminated strings; a value
// read must have the type encoding/json requires of its field (an unsigned
// integer for usage, a string for the namespace), and names match as
// encoding/json matches them.
func decode(body []byte) (map[string]memory.Stats, error) {
	d := decoder{b: body}
	// By cgroup name first: a name given twice is replaced, not merged,
	// as encoding/json replaces a map's element.
	byName := map[string]container{}
	err := d.object(func(key []byte) error {
		var c container
		if err := d.container(&c); err != nil {
			return err
		}
		byName[string(key)] = c
		return nil
	})
	if err == nil {
		d.space()
		if d.i < len(d.b) {
			err = d.errorf("unexpected %q after the top-level object", d.b[d.i])
		}
	}
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	out := make(map[string]memory.Stats, len(byName))
	for _, c := range byName {
		id := c.dockerID()
		if id == "" || !c.hasSample {
			continue
		}
		st := memory.Stats{
			// cAdvisor's working set is already usage minus inactive file.
			WorkingSet: c.workingSet,
			Usage:      c.usage,
		}
		if c.hasMemory && c.limit < unlimited {
			st.Limit = c.limit
		}
		out[id] = st
	}
	return out, nil
}

// container holds the fields decode reads from one v2.ContainerInfo.
type container struct {
	aliases   []string
	namespace string
	hasMemory bool
	limit     uint64
	// From the newest sample (the last; cAdvisor sends them oldest first).
	hasSample         bool // the newest sample has memory figures
	usage, workingSet uint64
}

// dockerID returns the full container ID of a Docker container, or "" for
// anything else. cAdvisor keys its answer by cgroup name, which depends on
// the cgroup driver (/docker/<id> or /system.slice/docker-<id>.scope), but
// the aliases its Docker handler sets, [name, id], end with the bare ID
// whatever the driver.
func (c *container) dockerID() string {
	// "docker" is cAdvisor's namespace for containers of its Docker handler.
	if c.namespace != "docker" || len(c.aliases) == 0 {
		return ""
	}
	id := c.aliases[len(c.aliases)-1]
	if !isID(id) {
		return ""
	}
	return id
}

// The JSON names read, as cadvisor's info/v2 and info/v1 types tag them.
var (
	infoFields   = []string{"spec", "stats"}                                // v2.ContainerInfo
	specFields   = []string{"aliases", "namespace", "has_memory", "memory"} // v2.ContainerSpec
	limitFields  = []string{"limit"}                                        // v2.MemorySpec
	sampleFields = []string{"memory"}                                       // v2.ContainerStats
	memFields    = []string{"usage", "working_set"}                         // v1.MemoryStats
)

// container reads one v2.ContainerInfo: {"spec": ..., "stats": [...]}.
func (d *decoder) container(c *container) error {
	return d.fields(infoFields, func(f int) error {
		if f == 0 {
			return d.spec(c)
		}
		return d.array(func() error {
			// Only the last sample counts: each one resets what an
			// earlier one set.
			c.hasSample, c.usage, c.workingSet = false, 0, 0
			return d.fields(sampleFields, func(int) error {
				present, err := d.fieldsOrNull(memFields, func(f int) error {
					if f == 0 {
						return d.uint(&c.usage)
					}
					return d.uint(&c.workingSet)
				})
				c.hasSample = present
				return err
			})
		})
	})
}

// spec reads the fields of a v2.ContainerSpec that name a Docker container
// and give its memory limit.
func (d *decoder) spec(c *container) error {
	return d.fields(specFields, func(f int) error {
		switch f {
		case 0:
			return d.array(func() error {
				s, err := d.string()
				c.aliases = append(c.aliases, s)
				return err
			})
		case 1:
			s, err := d.string()
			c.namespace = s
			return err
		case 2:
			return d.bool(&c.hasMemory)
		}
		return d.fields(limitFields, func(int) error { return d.uint(&c.limit) })
	})
}

// errDuplicate reports a name given twice in one object. JSON leaves the
// meaning of that open (encoding/json merges the two values, its v2
// rejects them); cAdvisor never sends it.
var errDuplicate = errors.New("duplicate name")

// fields reads an object, calling read with the index in names of each name
// it holds, and skipping the values of all others. Names match as
// encoding/json matches a struct's field names: exactly, else ignoring case.
func (d *decoder) fields(names []string, read func(int) error) error {
	_, err := d.fieldsOrNull(names, read)
	return err
}

// fieldsOrNull is fields, reporting whether the value was an object rather
// than null.
func (d *decoder) fieldsOrNull(names []string, read func(int) error) (bool, error) {
	var seen uint
	return d.objectOrNull(func(key []byte) error {
		f := slices.Index(names, string(key))
		if f < 0 {
			f = slices.IndexFunc(names, func(n string) bool { return bytes.EqualFold(key, []byte(n)) })
		}
		if f < 0 {
			return d.skip()
		}
		if seen&(1<<f) != 0 {
			return fmt.Errorf("offset %d: %w %q", d.i, errDuplicate, names[f])
		}
		seen |= 1 << f
		return read(f)
	})
}

// decoder walks one JSON document held in memory.
type decoder struct {
	b []byte
	i int
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", d.i, fmt.Sprintf(format, args...))
}

// space skips JSON whitespace.
func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it.
func (d *decoder) peek() (byte, error) {
	d.space()
	if d.i >= len(d.b) {
		return 0, io.ErrUnexpectedEOF
	}
	return d.b[d.i], nil
}

// expect consumes the next non-space byte, which must be c.
func (d *decoder) expect(c byte) error {
	got, err := d.peek()
	if err != nil {
		return err
	}
	if got != c {
		return d.errorf("want %q, found %q", c, got)
	}
	d.i++
	return nil
}

// literal consumes lit (null, true, false).
func (d *decoder) literal(lit string) bool {
	if bytes.HasPrefix(d.b[d.i:], []byte(lit)) {
		d.i += len(lit)
		return true
	}
	return false
}

// object reads an object, calling field for each key with the decoder at the
// key's value; field must consume that value. null reads as an empty object,
// as encoding/json leaves a struct alone for it.
func (d *decoder) object(field func(key []byte) error) error {
	_, err := d.objectOrNull(field)
	return err
}

// objectOrNull is object, reporting whether the value was an object rather
// than null.
func (d *decoder) objectOrNull(field func(key []byte) error) (bool, error) {
	c, err := d.peek()
	if err != nil {
		return false, err
	}
	if c == 'n' && d.literal("null") {
		return false, nil
	}
	if c != '{' {
		return false, d.errorf("want an object, found %q", c)
	}
	d.i++
	if c, err := d.peek(); err != nil {
		return false, err
	} else if c == '}' {
		d.i++
		return true, nil
	}
	for {
		key, err := d.key()
		if err != nil {
			return false, err
		}
		if err := d.expect(':'); err != nil {
			return false, err
		}
		if err := field(key); err != nil {
			return false, err
		}
		c, err := d.peek()
		if err != nil {
			return false, err
		}
		d.i++
		switch c {
		case ',':
		case '}':
			return true, nil
		default:
			d.i--
			return false, d.errorf("want ',' or '}' in an object, found %q", c)
		}
	}
}

// array reads an array, calling elem with the decoder at each element; elem
// must consume it. null reads as an empty array.
func (d *decoder) array(elem func() error) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	if c == 'n' && d.literal("null") {
		return nil
	}
	if c != '[' {
		return d.errorf("want an array, found %q", c)
	}
	d.i++
	if c, err := d.peek(); err != nil {
		return err
	} else if c == ']' {
		d.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		c, err := d.peek()
		if err != nil {
			return err
		}
		d.i++
		switch c {
		case ',':
		case ']':
			return nil
		default:
			d.i--
			return d.errorf("want ',' or ']' in an array, found %q", c)
		}
	}
}

// string reads a string; null reads as "", as encoding/json leaves a string
// it has just made alone for it.
func (d *decoder) string() (string, error) {
	if c, err := d.peek(); err == nil && c == 'n' && d.literal("null") {
		return "", nil
	}
	s, err := d.key()
	return string(s), err
}

// key reads a string without copying it unless it holds escapes: keys are
// only compared, and cAdvisor's never hold any.
func (d *decoder) key() ([]byte, error) {
	c, err := d.peek()
	if err != nil {
		return nil, err
	}
	if c != '"' {
		return nil, d.errorf("want a string, found %q", c)
	}
	start := d.i
	if err := d.skipString(); err != nil {
		return nil, err
	}
	raw := d.b[start:d.i]
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1], nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("offset %d: %w", start, err)
	}
	return []byte(s), nil
}

// skipString moves past the string that starts at d.i.
func (d *decoder) skipString() error {
	b := d.b
	i := d.i + 1
	for i < len(b) {
		n := bytes.IndexByte(b[i:], '"')
		if n < 0 {
			break
		}
		q := i + n
		// The quote is escaped when an odd number of backslashes precede
		// it; those before i belong to an escaped quote already passed.
		bs := 0
		for j := q - 1; j >= i && b[j] == '\\'; j-- {
			bs++
		}
		i = q + 1
		if bs%2 == 0 {
			d.i = i
			return nil
		}
	}
	d.i = len(b)
	return io.ErrUnexpectedEOF
}

// uint reads a JSON number that must be an unsigned 64-bit integer, as
// encoding/json requires for a uint64 field; null leaves v alone.
func (d *decoder) uint(v *uint64) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	if c == 'n' && d.literal("null") {
		return nil
	}
	start := d.i
	for d.i < len(d.b) && isNumberByte(d.b[d.i]) {
		d.i++
	}
	if start == d.i {
		return d.errorf("want a number, found %q", c)
	}
	n, err := strconv.ParseUint(string(d.b[start:d.i]), 10, 64)
	if err != nil {
		return fmt.Errorf("offset %d: %w", start, err)
	}
	*v = n
	return nil
}

// bool reads true or false; null leaves v alone.
func (d *decoder) bool(v *bool) error {
	if _, err := d.peek(); err != nil {
		return err
	}
	switch {
	case d.literal("true"):
		*v = true
	case d.literal("false"):
		*v = false
	case d.literal("null"):
	default:
		return d.errorf("want true or false, found %q", d.b[d.i])
	}
	return nil
}

// skip moves past one value of any kind without decoding it.
func (d *decoder) skip() error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	switch c {
	case '"':
		return d.skipString()
	case '{', '[':
		return d.skipNested()
	case 't':
		if d.literal("true") {
			return nil
		}
	case 'f':
		if d.literal("false") {
			return nil
		}
	case 'n':
		if d.literal("null") {
			return nil
		}
	default:
		start := d.i
		for d.i < len(d.b) && isNumberByte(d.b[d.i]) {
			d.i++
		}
		if d.i > start {
			return nil
		}
	}
	return d.errorf("want a value, found %q", c)
}

// skipNested moves past the object or array that starts at d.i, jumping over
// strings, and checks only that its brackets match.
func (d *decoder) skipNested() error {
	// Brackets open at most this deep: cadvisor's types nest about six
	// levels, so this bounds the stack without limiting real answers.
	const maxDepth = 64
	var stack [maxDepth]byte
	depth := 0
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch c {
		case '"':
			if err := d.skipString(); err != nil {
				return err
			}
			continue
		case '{', '[':
			if depth == maxDepth {
				return d.errorf("values nested deeper than %d", maxDepth)
			}
			stack[depth] = c + 2 // '{'+2 is '}', '['+2 is ']'
			depth++
		case '}', ']':
			if depth == 0 || stack[depth-1] != c {
				return d.errorf("unexpected %q", c)
			}
			depth--
			if depth == 0 {
				d.i++
				return nil
			}
		}
		d.i++
	}
	return io.ErrUnexpectedEOF
}

// isNumberByte reports whether c can be part of a JSON number.
func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}
