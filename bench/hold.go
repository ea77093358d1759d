package bench

import (
	"container/heap"
	"math/rand/v2"
	"time"

	"neosim/sim"
)

// The hold model (Vaucher and Duval 1975; Jones 1986): the queue holds n
// pending events; each step pops the earliest and pushes one at
// now + Exp(1). It measures the event queue alone, at a steady size.
// BenchmarkHold and BenchmarkHoldBaseline (hold_test.go) and `neosim bench
// suite` (MeasureHold) run it.
//
// Both implementations draw the same pre-generated increments, so the RNG's
// cost is the same and small in both.

// holdIncs is the number of pre-generated increments (a power of two).
const holdIncs = 1 << 20

// HoldIncrements returns the increments the hold model draws from: Exp(1)
// simulated seconds, from a fixed seed.
func HoldIncrements() []sim.Time {
	r := rand.New(rand.NewPCG(1, 2))
	d := make([]sim.Time, holdIncs)
	for i := range d {
		d[i] = sim.Time(r.ExpFloat64()*1e6) + 1 // mean one simulated second
	}
	return d
}

// Hold is the hold model on neosim's engine queue: a monotone radix heap of
// value events with (time, kind, sequence) order.
type Hold struct {
	q   sim.EventQueue
	inc []sim.Time
	i   int
}

// NewHold fills a queue with pending events and warms it up until its
// buckets have grown to their steady size.
func NewHold(pending int, inc []sim.Time) *Hold {
	h := &Hold{inc: inc}
	for i := 0; i < pending; i++ {
		h.q.Push(sim.Event{At: inc[i%len(inc)], Ref: int32(i)}, sim.KindJobEnd)
	}
	for range 4 * pending {
		h.Step()
	}
	return h
}

// Step pops the earliest event and pushes it again a random increment
// later.
func (h *Hold) Step() {
	e, _ := h.q.Pop()
	e.At += h.inc[h.i&(holdIncs-1)]
	h.q.Push(e, sim.KindJobEnd)
	h.i++
}

// typicalEvent is how most Go simulators write an event: a heap-allocated
// struct with a float time and a closure to run.
type typicalEvent struct {
	at  float64
	seq uint64
	fn  func()
}

type typicalHeap []*typicalEvent

func (h typicalHeap) Len() int { return len(h) }
func (h typicalHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h typicalHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *typicalHeap) Push(x any)   { *h = append(*h, x.(*typicalEvent)) }
func (h *typicalHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return x
}

// HoldBaseline is the same hold model written as typical Go:
// container/heap over pointer events with closures.
type HoldBaseline struct {
	h     typicalHeap
	seq   uint64
	fired int
	inc   []sim.Time
	i     int
}

// NewHoldBaseline fills a container/heap with pending events.
func NewHoldBaseline(pending int, inc []sim.Time) *HoldBaseline {
	b := &HoldBaseline{inc: inc}
	for i := 0; i < pending; i++ {
		b.seq++
		heap.Push(&b.h, &typicalEvent{at: float64(inc[i%len(inc)]) / 1e6, seq: b.seq, fn: b.fire})
	}
	return b
}

func (b *HoldBaseline) fire() { b.fired++ }

// Step pops the earliest event, runs its closure and pushes a new one a
// random increment later.
func (b *HoldBaseline) Step() {
	e := heap.Pop(&b.h).(*typicalEvent)
	e.fn()
	b.seq++
	now := e.at
	heap.Push(&b.h, &typicalEvent{at: now + float64(b.inc[b.i&(holdIncs-1)])/1e6, seq: b.seq, fn: func() { b.fired++ }})
	b.i++
}

// HoldResult is one hold measurement: wall nanoseconds per event (a pop
// and a push) of neosim's queue and of the container/heap baseline, at a
// number of pending events.
type HoldResult struct {
	Pending            int
	NsPerEvent         float64
	BaselineNsPerEvent float64
}

// Speedup is how many times faster neosim's queue is than the baseline.
func (r HoldResult) Speedup() float64 { return r.BaselineNsPerEvent / r.NsPerEvent }

// MeasureHold runs steps steps of each queue at pending events, best of
// rounds rounds (the machine may be shared: the best round is the least
// disturbed).
func MeasureHold(pending, steps, rounds int) HoldResult {
	inc := HoldIncrements()
	r := HoldResult{Pending: pending}
	best := func(step func()) float64 {
		b := time.Duration(1<<63 - 1)
		for range max(rounds, 1) {
			t0 := time.Now()
			for range steps {
				step()
			}
			b = min(b, time.Since(t0))
		}
		return float64(b.Nanoseconds()) / float64(steps)
	}
	r.NsPerEvent = best(NewHold(pending, inc).Step)
	r.BaselineNsPerEvent = best(NewHoldBaseline(pending, inc).Step)
	return r
}
