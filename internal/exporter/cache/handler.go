package cache

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// item is one container's rendered series as a scrape sees them.
type item struct {
	key     identity
	text    *[numFamilies][]byte
	live    bool
	started time.Time
}

// snapshot returns the rendered series of every container a scrape
// publishes, sorted by name. The read lock is held just long enough to take
// the list: rendered values are replaced, never modified.
//
// The cache keeps one container per identity; should two ever share one, a
// scrape with both would repeat their series and Prometheus would reject
// it. The live, most recently started one is published and the other
// counted as a collision.
func (c *Cache) snapshot() []item {
	c.mu.RLock()
	now := c.opts.Now()
	items := make([]item, 0, len(c.entries))
	for _, e := range c.entries {
		if !c.expired(e, now) {
			items = append(items, item{key: e.key, text: &e.text.text, live: e.live, started: e.c.StartedAt})
		}
	}
	c.mu.RUnlock()
	slices.SortFunc(items, func(a, b item) int {
		return cmp.Or(cmp.Compare(a.key.name, b.key.name), cmp.Compare(a.key.project, b.key.project), cmp.Compare(a.key.service, b.key.service),
			-cmp.Compare(bool01(a.live), bool01(b.live)), b.started.Compare(a.started))
	})
	kept := items[:0]
	for _, it := range items {
		if len(kept) > 0 && it.key == kept[len(kept)-1].key {
			c.collisions.Add(1)
			continue
		}
		kept = append(kept, it)
	}
	return kept
}

// WriteText writes every container's series in the text exposition format,
// family by family, containers sorted by name. It copies rendered bytes
// only.
func (c *Cache) WriteText(w io.Writer) error {
	items := c.snapshot()
	for f := range numFamilies {
		header := false
		for _, it := range items {
			if len(it.text[f]) == 0 {
				continue
			}
			if !header {
				if _, err := w.Write(c.descs.container[f].header); err != nil {
					return err
				}
				header = true
			}
			if _, err := w.Write(it.text[f]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Handler serves a scrape: the metrics g gathers (the exporter's own, Go
// and process metrics), encoded by expfmt, followed by the cached container
// series. It speaks the text format only (docs/exporter.md says why not
// OpenMetrics), gzipped when the scraper's Accept-Encoding prefers it
// (negotiateEncoding). A gzipped scrape reuses the compressed form of every
// family no container changed since the previous scrape (gzipCache).
func (c *Cache) Handler(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	z := &gzipCache{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body depends on Accept-Encoding, so a cache between the
		// exporter and the scraper must key on it.
		w.Header().Add("Vary", "Accept-Encoding")
		coding := negotiateEncoding(r.Header)
		if coding == codingRefused {
			http.Error(w, "accept-encoding refuses both gzip and identity", http.StatusNotAcceptable)
			return
		}
		fams, err := g.Gather()
		if err != nil {
			log.Error("gather failed", "err", err)
			http.Error(w, "gather: "+err.Error(), http.StatusInternalServerError)
			return
		}
		// The exporter's own metrics are a few kilobytes, encoded apart so
		// that the gzipped answer can compress them as one piece.
		var own bytes.Buffer
		enc := expfmt.NewEncoder(&own, format)
		for _, f := range fams {
			if err := enc.Encode(f); err != nil {
				log.Error("encode failed", "family", f.GetName(), "err", err)
				http.Error(w, "encode: "+err.Error(), http.StatusInternalServerError)
				return
			}
		}
		w.Header().Set("Content-Type", string(format))
		if coding == codingGzip {
			w.Header().Set("Content-Encoding", "gzip")
			if err := z.write(w, own.Bytes(), c); err != nil {
				log.Debug("scrape aborted", "err", err)
			}
			return
		}
		bw := bufio.NewWriterSize(w, 64<<10)
		bw.Write(own.Bytes())
		if err := c.WriteText(bw); err != nil {
			log.Debug("scrape aborted", "err", err)
			return
		}
		bw.Flush()
	})
}

// gzipCache keeps each container family compressed, so that a gzipped
// scrape compresses only the families that changed since the last one.
//
// A gzip member may hold any sequence of deflate blocks, and a deflate
// stream flushed with a sync flush ends on a byte boundary with no final
// block, so independently compressed pieces can be laid end to end: the
// gzip header, the exporter's own metrics, one piece per family, an empty
// final block, and the CRC-32 and length of the whole, the CRC combined
// from each piece's. Each family's piece starts without a dictionary, which
// costs nothing measurable on families of hundreds of kilobytes, and pays
// for itself on the next scrape: a memory refresh changes 3 or 4 families of
// 13, a quiet interval none.
type gzipCache struct {
	mu   sync.Mutex
	fw   *flate.Writer
	fams [numFamilies]piece
}

// piece is one compressed part of the body and what it was built from.
type piece struct {
	// parts are the rendered slices the piece holds, in order. Rendered
	// bytes are never modified, so the same slices (same array, same
	// length) mean the same bytes, and holding them keeps their arrays
	// from being reused for anything else.
	parts [][]byte
	z     []byte // raw deflate, ending in a sync flush; never modified
	crc   uint32 // of the uncompressed bytes
	n     int64  // uncompressed length
}

// gzipHeader is a gzip member header: no name, no time, unknown OS (RFC 1952).
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255}

// finalBlock is an empty stored deflate block with the final bit set.
var finalBlock = []byte{1, 0, 0, 0xff, 0xff}

// write sends own and c's container families as one gzip member.
func (z *gzipCache) write(w io.Writer, own []byte, c *Cache) error {
	pieces, err := z.pieces(own, c.snapshot(), c)
	if err != nil {
		return err
	}
	var crc uint32
	var n int64
	for _, p := range pieces {
		crc = crc32Combine(crc, p.crc, p.n)
		n += p.n
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], crc)
	binary.LittleEndian.PutUint32(trailer[4:], uint32(n)) // ISIZE is the length mod 2^32
	if _, err := w.Write(gzipHeader); err != nil {
		return err
	}
	for _, p := range pieces {
		if _, err := w.Write(p.z); err != nil {
			return err
		}
	}
	if _, err := w.Write(finalBlock); err != nil {
		return err
	}
	_, err = w.Write(trailer[:])
	return err
}

// pieces returns the compressed pieces of a body: own, then each container
// family in exposition order, compressing only the families whose rendered
// slices differ from the previous call's. Only the compression happens
// under z.mu; the caller writes the returned pieces, which are never
// modified, without it.
func (z *gzipCache) pieces(own []byte, items []item, c *Cache) ([]piece, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.fw == nil {
		fw, err := flate.NewWriter(nil, flate.BestSpeed)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		z.fw = fw
	}
	out := make([]piece, 0, 1+numFamilies)
	p, err := z.compress(nil, [][]byte{own})
	if err != nil {
		return nil, err
	}
	out = append(out, p)
	for f := range numFamilies {
		if !z.fams[f].holds(items, f) {
			var parts [][]byte
			for _, it := range items {
				if b := it.text[f]; len(b) > 0 {
					parts = append(parts, b)
				}
			}
			p, err := z.compress(c.descs.container[f].header, parts)
			if err != nil {
				return nil, err
			}
			z.fams[f] = p
		}
		if z.fams[f].n > 0 {
			out = append(out, z.fams[f])
		}
	}
	return out, nil
}

// holds reports whether p was built from family f of items, comparing the
// rendered slices themselves, not their bytes.
func (p *piece) holds(items []item, f int) bool {
	if p.z == nil {
		return false
	}
	k := 0
	for _, it := range items {
		b := it.text[f]
		if len(b) == 0 {
			continue
		}
		if k == len(p.parts) || len(p.parts[k]) != len(b) || &p.parts[k][0] != &b[0] {
			return false
		}
		k++
	}
	return k == len(p.parts)
}

// compress deflates header and parts, the header only if there are parts,
// into a new piece ending in a sync flush. Callers hold z.mu.
func (z *gzipCache) compress(header []byte, parts [][]byte) (piece, error) {
	var buf bytes.Buffer
	z.fw.Reset(&buf)
	p := piece{parts: parts}
	add := func(b []byte) error {
		if _, err := z.fw.Write(b); err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		p.crc = crc32.Update(p.crc, crc32.IEEETable, b)
		p.n += int64(len(b))
		return nil
	}
	if len(parts) > 0 && len(header) > 0 {
		if err := add(header); err != nil {
			return piece{}, err
		}
	}
	for _, b := range parts {
		if err := add(b); err != nil {
			return piece{}, err
		}
	}
	if err := z.fw.Flush(); err != nil {
		return piece{}, fmt.Errorf("gzip: %w", err)
	}
	p.z = buf.Bytes()
	return p, nil
}
