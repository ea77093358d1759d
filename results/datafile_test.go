package results

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
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

// TestDataFile: a large data file holds exactly the bytes written, in
// writes of every size, whatever its length modulo the buffer and the
// disk's block (written direct where this system allows it).
func TestDataFile(t *testing.T) {
	const bufSize = 64 << 10
	r := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	for _, size := range []int{0, 1, 4095, 4096, 4097, bufSize, bufSize + 1, 3*bufSize + 4096, 5*bufSize + 12345} {
		name := filepath.Join(dir, "f")
		f, w, err := createDataFile(name, bufSize, true)
		if err != nil {
			t.Fatal(err)
		}
		direct := false
		if d, ok := w.(*directWriter); ok {
			direct = d.direct
		}
		if runtime.GOOS == "linux" && size == 0 {
			if direct {
				t.Logf("%s: written with O_DIRECT", dir)
			} else {
				t.Logf("%s: no O_DIRECT here: written through the page cache", dir)
			}
		}
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(r.Uint32())
		}
		for rest := want; len(rest) > 0; {
			n := min(len(rest), 1+r.IntN(3*bufSize/2))
			if m, err := w.Write(rest[:n]); err != nil || m != n {
				t.Fatalf("size %d: write of %d: %d, %v", size, n, m, err)
			}
			rest = rest[n:]
		}
		if direct && !w.(*directWriter).direct {
			t.Fatalf("size %d: a direct write was refused (misaligned?): the rest went through the page cache", size)
		}
		if err := w.Flush(); err != nil {
			t.Fatalf("size %d: flush: %v", size, err)
		}
		f.Close()
		got, err := os.ReadFile(name) // through the page cache, as readers do
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("size %d: the file holds %d bytes, not those written", size, len(got))
		}
	}
}
