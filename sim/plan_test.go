package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// TestRunningInOrder: RunningIn, which reads runAhead jobs ahead of the one
// it hands over, visits exactly the jobs of the run index's walk, in its
// order, each with its own slot, whether fewer, as many or more jobs run
// than it reads ahead.
func TestRunningInOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, running := range []int{0, 1, runAhead - 1, runAhead, runAhead + 1, 2*runAhead + 3, 500} {
		e := &Engine{jobs: make([]Job, 2000)}
		for _, id := range r.Perm(len(e.jobs))[:running] {
			e.run.started(JobID(id), Segment(r.IntN(int(NumSegments))))
		}
		v := View{e: e}
		for _, segs := range []SegmentSet{AllSegments, Segments(SegSpot), Segments(SegInternal, SegServing)} {
			var want, got []JobID
			e.run.each(segs, false, func(id JobID) { want = append(want, id) })
			v.RunningIn(segs, false, func(id JobID, j *Job) {
				if j != &e.jobs[id] {
					t.Fatalf("job %d handed over with another slot", id)
				}
				got = append(got, id)
			})
			if !slices.Equal(got, want) {
				t.Fatalf("%d running, segments %b: RunningIn visited %v, the index %v", running, segs, got, want)
			}
		}
	}
}

// TestPlacedRecSize: a placement record is a quarter of a cache line, what
// RunningPlaced's cost rests on: a field added to it must not grow it.
func TestPlacedRecSize(t *testing.T) {
	if n := unsafe.Sizeof(placedRec{}); n != 32 {
		t.Errorf("placedRec is %d bytes, want 32", n)
	}
}
