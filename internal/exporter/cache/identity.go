package cache

import (
	"time"

	"github.com/sre-tools/promgen/catalog"
)

// identity is the label set that names a container's series: its name and
// compose labels, whether it is a one-off included. A container recreated
// under them continues the series of the one it replaces, and the cache
// holds one entry per identity.
type identity struct{ name, project, service, oneoff string }

// identityOf is x's identity, in the order of catalog.ContainerLabels.
func identityOf(x Container) identity {
	return identity{
		name:    x.Name,
		project: x.Labels[LabelComposeProject],
		service: x.Labels[LabelComposeService],
		oneoff:  catalog.Oneoff(x.Labels[LabelComposeOneoff]),
	}
}

// heir is the container that adopted a removed one. Docker can still send
// events of the removed container (a late oom, or replays after a resync)
// and an inspect of it can come back late: they must neither bring it back
// as a second container with the heir's identity nor be lost.
type heir struct {
	id    string
	until time.Time // the removed container's retention end
}

// Holders returns the IDs of the live containers other than x that the
// cache has under x's identity. Docker names are unique, so each of them has
// since been removed or renamed, and its events are not read yet: the source
// inspects them before it records x, so that the cache never holds two
// containers with one identity.
func (c *Cache) Holders(x Container) []string {
	key := identityOf(x)
	c.mu.RLock()
	defer c.mu.RUnlock()
	var ids []string
	for id, e := range c.entries {
		if e.live && e.key == key && id != x.ID {
			ids = append(ids, id)
		}
	}
	return ids
}

// adopt hands a removed container's exit counters, last termination and
// exits in their OOM grace to the container that now carries the same
// identity (one recreated under the same name, live or removed since), so
// its series continue instead of colliding. Callers hold mu.
func (c *Cache) adopt(e *entry) {
	id, ok := c.removed[e.key]
	if !ok || id == e.id {
		return
	}
	old := c.entries[id]
	delete(c.removed, e.key)
	delete(c.entries, id)
	c.adopted[id] = heir{id: e.id, until: old.removed.Add(c.opts.Retention)}
	for i := range e.exits {
		e.exits[i] += old.exits[i]
	}
	if e.last == nil || (old.last != nil && old.last.time.After(e.last.time)) {
		e.last = old.last
	}
	// A die still waiting out its OOM grace is counted here when the
	// grace ends, not on the entry just dropped.
	for _, t := range old.held {
		t.owner = e
	}
	e.held = append(e.held, old.held...)
}

// heir returns the entry that now stands for a removed and adopted
// container, following recreations in a row; nil if there is none.
func (c *Cache) heir(id string) *entry {
	for range len(c.adopted) {
		h, ok := c.adopted[id]
		if !ok {
			return nil
		}
		if e, ok := c.entries[h.id]; ok {
			return e
		}
		id = h.id
	}
	return nil
}

// rename gives an entry the name a rename event carries. The inspect that
// follows the event can come too late, the container gone already, as when
// compose recreates a container (created under a temporary name, renamed
// once the old one is removed) faster than events are read; a container
// found gone that way is removed, but the events read after still tell its
// story, so a removed entry is renamed too. Callers hold mu.
func (c *Cache) rename(e *entry, name string) {
	if e.live {
		e.c.Name, e.key.name = name, name
		c.adopt(e)
		c.render(e)
		return
	}
	if c.removed[e.key] == e.id {
		delete(c.removed, e.key)
	}
	e.c.Name, e.key.name = name, name
	c.remove(e, e.removed)
}

// remove turns an entry into a removed one, keeping its termination for
// the retention time. Callers hold mu.
func (c *Cache) remove(e *entry, at time.Time) {
	e.live, e.removed, e.mem = false, at, nil
	// An older container removed under the same identity, which this one
	// did not adopt (it carried another name then): its series continue.
	c.adopt(e)
	c.removed[e.key] = e.id
	// A resync can list the container that replaced this one before it
	// finds this one gone: the live one takes over at once.
	for _, o := range c.entries {
		if o.live && o.key == e.key {
			c.adopt(o)
			c.render(o)
			return
		}
	}
	c.render(e)
}
