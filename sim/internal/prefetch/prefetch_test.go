package prefetch

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestLineNeverFaults: a prefetch of nil, or of lines past the end of
// what is allocated, does not fault and changes nothing.
func TestLineNeverFaults(t *testing.T) {
	x := [2]int64{1, 2}
	Line(nil)
	Lines(nil, 4)
	Line(unsafe.Pointer(&x))
	Lines(unsafe.Pointer(&x), 1000) // 64 KB from x on
	Lines(unsafe.Pointer(&x), 0)
	Lines(unsafe.Pointer(&x), -1)
	if x != [2]int64{1, 2} {
		t.Fatal("a prefetch changed memory")
	}
}

// A walk over scattered 64-byte records of a table far larger than the
// caches, as the engine's walks over running jobs are: each record is a
// miss. Reading ahead with a plain load against a prefetch, eight records
// ahead.
type record struct {
	v int64
	_ [56]byte
}

func walkSetup() ([]record, []int32) {
	recs := make([]record, 1<<20) // 64 MB
	r := rand.New(rand.NewPCG(1, 2))
	idx := make([]int32, 1<<16)
	for i := range idx {
		idx[i] = int32(r.IntN(len(recs)))
		recs[idx[i]].v = int64(i)
	}
	return recs, idx
}

const ahead = 8

var sink int64

// work stands for what the engine does with each record: a few hundred
// dependent instructions, more than a core's reorder buffer holds, so that
// a plain loop cannot reach the next record's miss on its own.
func work(v int64) int64 {
	for range 100 {
		v = v*6364136223846793005 + 1442695040888963407
	}
	return v
}

func BenchmarkWalk(b *testing.B) {
	recs, idx := walkSetup()
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			var s int64
			for _, i := range idx {
				s += work(recs[i].v)
			}
			sink = s
		}
	})
	b.Run("load-ahead", func(b *testing.B) {
		for b.Loop() {
			var s, touched int64
			for k, i := range idx {
				if k+ahead < len(idx) {
					touched += recs[idx[k+ahead]].v
				}
				s += work(recs[i].v)
			}
			sink = s + touched&0
		}
	})
	b.Run("prefetch", func(b *testing.B) {
		for b.Loop() {
			var s int64
			for k, i := range idx {
				if k+ahead < len(idx) {
					Line(unsafe.Pointer(&recs[idx[k+ahead]]))
				}
				s += work(recs[i].v)
			}
			sink = s
		}
	})
}
