package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDequeue: removing jobs from the queue in any order (an allocator's
// walk from the front, jobs deep in the queue, abandonments anywhere)
// leaves the others in their order, as removing from a plain slice does.
func TestDequeue(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	e := &Engine{jobs: make([]Job, 4000)}
	var want []JobID
	next := JobID(0)
	for step := 0; len(want) > 0 || int(next) < len(e.jobs); step++ {
		if int(next) < len(e.jobs) && (len(want) == 0 || r.IntN(3) == 0) {
			e.enqueue(next)
			want = append(want, next)
			next++
			continue
		}
		// Mostly a walk's rising indexes from where the last removal was,
		// sometimes anywhere.
		i := min(e.deqAt+r.IntN(3), len(want)-1)
		if r.IntN(4) == 0 {
			i = r.IntN(len(want))
		}
		id := want[i]
		e.dequeue(id)
		want = slices.Delete(want, i, i+1)
		if !slices.Equal(e.queue, want) {
			t.Fatalf("step %d: after removing job %d (index %d) the queue is %v, want %v", step, id, i, e.queue, want)
		}
	}
	if e.queued[0] != int64(len(want)) {
		t.Errorf("%d counted queued, %d in the queue", e.queued[0], len(want))
	}
}
