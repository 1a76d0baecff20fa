package cadvisor

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// heapBound is what the test process may hold in use, after a collection,
// once a large answer has been followed by small ones: the small answers,
// the stand-in and the test runtime take a few MiB, so anything near the
// large answer's 200 MB means its buffer was kept.
const heapBound = 64 << 20

// TestLargeAnswerIsNotKept reads one valid 200 MB answer (a cAdvisor
// reporting many containers, or whatever else answers at its address),
// then small ones as usual, and requires the heap in use to fall back under
// heapBound: the read buffer, reused between reads, must not keep the
// largest answer ever read for the life of the process.
func TestLargeAnswerIsNotKept(t *testing.T) {
	if testing.Short() {
		t.Skip("sends a 200 MB answer; skipped under -short")
	}
	// The large answer is a real one's members sent again and again:
	// valid JSON (a name given twice is replaced, as encoding/json does),
	// streamed, so the test itself never holds it.
	big := answer(t, fleet(100))
	members := bytes.TrimSuffix(bytes.TrimPrefix(bytes.TrimSpace(big), []byte("{")), []byte("}"))
	const bigSize = 200 << 20
	repeats := bigSize / (len(members) + 1)
	small := answer(t, fleet(10))

	var reads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if reads.Add(1) > 1 {
			w.Write(small)
			return
		}
		w.Write([]byte("{"))
		for i := range repeats {
			if i > 0 {
				w.Write([]byte(","))
			}
			if _, err := w.Write(members); err != nil {
				return
			}
		}
		w.Write([]byte("}"))
	}))
	defer srv.Close()
	s, err := New(srv.URL, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Read(t.Context())
	if err != nil || len(got) != 100 {
		t.Fatalf("large answer: Read = %d containers, %v", len(got), err)
	}
	t.Logf("large answer: %d MB", (repeats*(len(members)+1)+1)>>20)
	for range 3 {
		got, err := s.Read(t.Context())
		if err != nil || len(got) != 10 {
			t.Fatalf("small answer: Read = %d containers, %v", len(got), err)
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("heap in use after the small answers: %.1f MiB", float64(ms.HeapInuse)/(1<<20))
	if ms.HeapInuse > heapBound {
		t.Errorf("heap in use after a 200 MB answer and three small ones is %.1f MiB, want < %d MiB: the large answer's buffer is kept",
			float64(ms.HeapInuse)/(1<<20), heapBound>>20)
	}
	runtime.KeepAlive(s)
}
