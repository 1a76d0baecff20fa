package cache

import (
	"slices"
	"strconv"
	"time"

	"github.com/sre-tools/promgen/catalog"
)

// termination is one exit of a container.
type termination struct {
	code    int
	reason  string // one of catalog.Reasons
	time    time.Time
	event   bool // seen as a die event, not only in an inspect
	counted bool // counted in exits_total
	// owner is the entry the exit is counted on once its OOM grace ends:
	// the container's own, or the one that adopted it after a recreate.
	owner *entry
}

// DefaultOOMGrace is the Options.OOMGrace gateway-exporter runs with.
const DefaultOOMGrace = 2 * time.Second

// sameExit is how far apart an inspect's FinishedAt and the die event of
// the same exit can be: Docker stamps them milliseconds apart.
const sameExit = 5 * time.Second

// die records a die event. Its exit is oom_killed when an oom event came
// before it; a 137 without one is held back for OOMGrace, since the oom
// event can also arrive just after the die.
func (c *Cache) die(e *entry, ev Event) {
	code, err := strconv.Atoi(ev.Attributes["exitCode"])
	if err != nil {
		code = -1
	}
	oom := !e.oomAt.IsZero() && !e.oomAt.After(ev.Time)
	if oom {
		e.oomAt = time.Time{}
	}
	hold := code == 137 && !oom && c.opts.OOMGrace > 0
	t := c.terminate(e, termination{code: code, reason: catalog.Reason(code, oom), time: ev.Time, event: true}, !hold)
	if hold && !t.counted {
		t.owner = e
		e.held = append(e.held, t)
		c.opts.AfterFunc(c.opts.OOMGrace, func() { c.settle(t) })
	}
	c.render(e)
}

// oom records an oom event: the cause of a die still held back within
// sameExit of it, else of the next die.
func (c *Cache) oom(e *entry, at time.Time) {
	if !c.lateOOM(e, at) {
		e.oomAt = at
	}
}

// lateOOM makes a held die within sameExit of an oom event oom_killed and
// counts it, reporting whether there was one.
func (c *Cache) lateOOM(e *entry, at time.Time) bool {
	for _, t := range e.held {
		if at.Sub(t.time).Abs() < sameExit {
			t.reason = catalog.ReasonOOMKilled
			c.count(e, t)
			c.render(e)
			return true
		}
	}
	return false
}

// terminate records an exit, counting it if count is set, and returns the
// termination that stands for it. An inspect and a die event of the same
// exit (stamped within sameExit) are one exit: the event confirms what the
// inspect found, and an inspect repeats what an event or an earlier inspect
// said, except that its OOMKilled settles a die still held back. An older
// exit arriving late is counted but does not replace a newer last
// termination.
func (c *Cache) terminate(e *entry, t termination, count bool) *termination {
	if l := e.last; l != nil && !(l.event && t.event) && t.time.Sub(l.time).Abs() < sameExit {
		switch {
		case t.event && !l.event:
			if l.reason != catalog.ReasonOOMKilled {
				l.reason = t.reason
			}
			l.code, l.time, l.event = t.code, t.time, true
			if !l.counted {
				c.count(e, l)
			}
		case !t.event && l.event && !l.counted && t.reason == catalog.ReasonOOMKilled:
			l.reason = t.reason
			c.count(e, l)
		}
		return l
	}
	if count {
		c.count(e, &t)
	}
	if e.last == nil || !t.time.Before(e.last.time) {
		e.last = &t
	}
	return &t
}

// settle counts a die held back for a late oom event that did not come, on
// the entry that holds it now: a container recreated meanwhile has adopted
// it.
func (c *Cache) settle(t *termination) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !t.counted {
		c.count(t.owner, t)
		c.render(t.owner)
	}
}

func (c *Cache) count(e *entry, t *termination) {
	e.exits[slices.Index(catalog.Reasons, t.reason)]++
	t.counted = true
	e.held = slices.DeleteFunc(e.held, func(h *termination) bool { return h == t })
}
