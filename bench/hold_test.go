package bench

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"testing"

	"neosim/sim"
)

// The hold model (Vaucher and Duval 1975; Jones 1986): the queue holds n
// pending events; each step pops the earliest and pushes one at
// now + Exp(1). It measures the event queue alone, at a steady size.
//
// Both implementations draw the same pre-generated increments, so the RNG's
// cost is the same and small in both.

var pendingSizes = []int{1_000, 100_000, 1_000_000}

const incs = 1 << 20

func increments() []sim.Time {
	r := rand.New(rand.NewPCG(1, 2))
	d := make([]sim.Time, incs)
	for i := range d {
		d[i] = sim.Time(r.ExpFloat64()*1e6) + 1 // mean one simulated second
	}
	return d
}

// BenchmarkHold is neosim's engine queue: a monotone radix heap of value
// events with (time, kind, sequence) order.
func BenchmarkHold(b *testing.B) {
	inc := increments()
	for _, n := range pendingSizes {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			var q sim.EventQueue
			for i := 0; i < n; i++ {
				q.Push(sim.Event{At: inc[i%incs], Ref: int32(i)}, sim.KindJobEnd)
			}
			i := 0
			step := func() {
				e, _ := q.Pop()
				e.At += inc[i&(incs-1)]
				q.Push(e, sim.KindJobEnd)
				i++
			}
			// Warm up until the buckets have grown to their steady size.
			for range 4 * n {
				step()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				step()
			}
		})
	}
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

// BenchmarkHoldBaseline is the same hold model written as typical Go:
// container/heap over pointer events with closures.
func BenchmarkHoldBaseline(b *testing.B) {
	inc := increments()
	for _, n := range pendingSizes {
		b.Run(fmt.Sprintf("pending=%d", n), func(b *testing.B) {
			h := &typicalHeap{}
			var seq uint64
			var fired int
			for i := 0; i < n; i++ {
				seq++
				heap.Push(h, &typicalEvent{at: float64(inc[i%incs]) / 1e6, seq: seq, fn: func() { fired++ }})
			}
			i := 0
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				e := heap.Pop(h).(*typicalEvent)
				e.fn()
				seq++
				now := e.at
				heap.Push(h, &typicalEvent{at: now + float64(inc[i&(incs-1)])/1e6, seq: seq, fn: func() { fired++ }})
				i++
			}
		})
	}
}
