package results

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestWritebackFile: the bytes reach the file unchanged, and every
// writebackEvery bytes the range written since the last hint is hinted,
// each byte once, in order.
func TestWritebackFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type span struct{ off, n int64 }
	var hints []span
	w := newWritebackFile(f)
	w.hint = func(_ *os.File, off, n int64) { hints = append(hints, span{off, n}) }
	chunk := bytes.Repeat([]byte("0123456789abcdef"), (3<<20)/16) // 3 MB: not a divisor of writebackEvery
	var want bytes.Buffer
	for range 40 { // 120 MB: three hints
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		want.Write(chunk)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("file holds %d bytes, not the %d written", len(got), want.Len())
	}
	if len(hints) != 3 {
		t.Fatalf("%d hints for %d bytes, want 3: %v", len(hints), want.Len(), hints)
	}
	var next int64
	for _, h := range hints {
		if h.off != next || h.n < writebackEvery || h.n >= writebackEvery+int64(len(chunk)) {
			t.Errorf("hint %+v: want a range from %d of %d to %d bytes", h, next, writebackEvery, writebackEvery+len(chunk)-1)
		}
		next = h.off + h.n
	}
	// The real hint on this OS must not fail or disturb the file.
	startWriteback(f, 0, int64(want.Len()))
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}
