package sim

import (
	"container/heap"
	"math/rand/v2"
	"sort"
	"testing"
)

// TestQueueTotalOrder pushes random events (many ties in time and kind)
// while popping, and checks the pops come out in (time, kind, push order).
func TestQueueTotalOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var q EventQueue
	var pending []refEvent
	seq := 0
	var now Time
	var popped []refEvent
	for step := 0; step < 20000; step++ {
		if r.IntN(3) > 0 || q.Len() == 0 {
			at := now + Time(r.IntN(5))*Time(1+r.IntN(3)) // ties on purpose
			if r.IntN(10) == 0 {
				at = now + Time(r.Int64N(1<<40))
			}
			if r.IntN(200) == 0 && now < 1<<61 {
				at = now + Time(r.Int64N(1<<61)) // the highest buckets
			}
			k := Kind(r.IntN(int(numKinds)))
			q.Push(Event{At: at, Ref: int32(seq)}, k)
			pending = append(pending, refEvent{at, k, seq})
			seq++
		} else {
			e, ok := q.Pop()
			if !ok {
				t.Fatal("empty queue popped nothing")
			}
			sort.Slice(pending, func(i, j int) bool { return pending[i].before(pending[j]) })
			want := pending[0]
			pending = pending[1:]
			if e.At != want.at || e.Kind() != want.kind || int(e.Ref) != want.seq {
				t.Fatalf("step %d: popped (%d,%v,%d), want (%d,%v,%d)", step, e.At, e.Kind(), e.Ref, want.at, want.kind, want.seq)
			}
			now = e.At
			popped = append(popped, want)
		}
	}
	if q.Len() != len(pending) {
		t.Fatalf("Len %d, pending %d", q.Len(), len(pending))
	}
}

// refEvent is an event as the tests expect it, and refHeap the reference
// the queue is checked against: a binary heap by (time, kind, push order).
type refEvent struct {
	at   Time
	kind Kind
	seq  int
}

// before is the queue's total order: (time, kind, push order).
func (a refEvent) before(b refEvent) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	return a.seq < b.seq
}

type refHeap []refEvent

func (h refHeap) Len() int           { return len(h) }
func (h refHeap) Less(i, j int) bool { return h[i].before(h[j]) }
func (h refHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *refHeap) Push(x any)        { *h = append(*h, x.(refEvent)) }
func (h *refHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// TestQueueAgainstReference interleaves pushes and pops with times at every
// scale the buckets cover (log-uniform distances from 0 to 2^62 µs), bursts
// of hundreds of events at the current instant and at one future instant,
// and checks every pop, PeekTime, NowBefore, Now and Len against a
// reference heap ordered by (time, kind, push order).
func TestQueueAgainstReference(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		var q EventQueue
		var ref refHeap
		seq := 0
		var now Time
		push := func(at Time) {
			k := Kind(r.IntN(int(numKinds)))
			q.Push(Event{At: at, Ref: int32(seq)}, k)
			heap.Push(&ref, refEvent{at, k, seq})
			seq++
		}
		for step := 0; step < 60000; step++ {
			switch c := r.IntN(100); {
			case c < 2: // a burst at now or at one instant ahead
				at := now
				if c == 1 {
					at += Time(r.Int64N(1 << 30))
				}
				for range 50 + r.IntN(400) {
					push(at)
				}
			case c < 50 || len(ref) == 0:
				d := Time(0)
				if b := r.IntN(64); b > 0 {
					d = Time(r.Uint64() >> (64 - b)) // log-uniform: every bucket
				}
				if now+d < now || now+d > 1<<62 {
					d = Time(r.IntN(1000))
				}
				push(now + d)
			default:
				if got, want := q.PeekTime(), ref[0].at; got != want {
					t.Fatalf("seed %d step %d: PeekTime %d, want %d", seed, step, got, want)
				}
				e, ok := q.Pop()
				want := heap.Pop(&ref).(refEvent)
				if !ok || e.At != want.at || e.Kind() != want.kind || int(e.Ref) != want.seq {
					t.Fatalf("seed %d step %d: popped (%d,%v,%d), want (%d,%v,%d)", seed, step, e.At, e.Kind(), e.Ref, want.at, want.kind, want.seq)
				}
				now = e.At
				if q.Now() != now {
					t.Fatalf("seed %d step %d: Now %d, want %d", seed, step, q.Now(), now)
				}
				for k := Kind(0); k <= numKinds; k++ {
					want := len(ref) > 0 && ref[0].at == now && ref[0].kind < k
					if q.NowBefore(k) != want {
						t.Fatalf("seed %d step %d: NowBefore(%v) = %v, want %v", seed, step, k, !want, want)
					}
				}
			}
			if q.Len() != len(ref) {
				t.Fatalf("seed %d step %d: Len %d, want %d", seed, step, q.Len(), len(ref))
			}
		}
		for len(ref) > 0 {
			e, _ := q.Pop()
			want := heap.Pop(&ref).(refEvent)
			if e.At != want.at || e.Kind() != want.kind || int(e.Ref) != want.seq {
				t.Fatalf("seed %d drain: popped (%d,%v,%d), want (%d,%v,%d)", seed, e.At, e.Kind(), e.Ref, want.at, want.kind, want.seq)
			}
		}
		if _, ok := q.Pop(); ok || q.Len() != 0 || q.PeekTime() != Forever {
			t.Fatalf("seed %d: drained queue not empty", seed)
		}
	}
}

// TestQueueZeroValueAndNoAllocs: the zero value is an empty queue at time
// 0, and once its buckets have grown a hold model (pop one, push one) does
// not allocate.
// TestQueuePopBefore drives the queue as the engine does with its sources'
// arrivals kept outside it: each step offers an outside event (t, k) and
// PopBefore must pop the queue's earliest event exactly when that comes
// first, or else move the clock to t, after which events pushed at t itself
// must still come out in order. Offers fall before, at and after the
// earliest pending time, in every bucket's range.
func TestQueuePopBefore(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		var q EventQueue
		var ref refHeap
		seq := 0
		var now Time
		push := func(at Time) {
			k := Kind(r.IntN(int(numKinds)))
			q.Push(Event{At: at, Ref: int32(seq)}, k)
			heap.Push(&ref, refEvent{at, k, seq})
			seq++
		}
		logUniform := func() Time {
			d := Time(0)
			if b := r.IntN(64); b > 0 {
				d = Time(r.Uint64() >> (64 - b))
			}
			if now+d < now || now+d > 1<<62 {
				d = Time(r.IntN(1000))
			}
			return d
		}
		// aligned clears a random number of low bits: the times where a
		// bucket's range starts.
		aligned := func(at Time) Time { b := r.IntN(63); return at >> b << b }
		outside := 0
		for step := 0; step < 60000; step++ {
			if c := r.IntN(100); c < 45 || len(ref) == 0 && c < 90 {
				if c < 3 {
					for range 20 + r.IntN(200) {
						push(now) // a burst at the current instant
					}
				} else if at := aligned(now + logUniform()); c < 15 && at >= now {
					push(at) // the first time of some bucket's range
				} else {
					push(now + logUniform())
				}
				continue
			}
			var at, first Time
			if len(ref) > 0 {
				first = aligned(ref[0].at)
			}
			switch c := r.IntN(10); {
			case c == 0:
				at = Forever
			case c < 4 && len(ref) > 0:
				at = ref[0].at // a tie in time: kinds decide
			case c < 6 && len(ref) > 0 && ref[0].at > now:
				at = now + Time(r.Int64N(int64(ref[0].at-now))) // before the queue's earliest
			case c < 8 && len(ref) > 0 && first >= now:
				at = first // the first time of the earliest's bucket, or before
			default:
				at = now + logUniform()
			}
			k := Kind(r.IntN(int(numKinds)))
			e, ok := q.PopBefore(at, k)
			queued := len(ref) > 0 && (ref[0].at < at || ref[0].at == at && ref[0].kind < k)
			if ok != queued {
				t.Fatalf("seed %d step %d: PopBefore(%d, %v) ok = %v, want %v", seed, step, at, k, ok, queued)
			}
			if ok {
				want := heap.Pop(&ref).(refEvent)
				if e.At != want.at || e.Kind() != want.kind || int(e.Ref) != want.seq {
					t.Fatalf("seed %d step %d: popped (%d,%v,%d), want (%d,%v,%d)", seed, step, e.At, e.Kind(), e.Ref, want.at, want.kind, want.seq)
				}
				now = e.At
			} else if at != Forever {
				now = at // the caller's own event runs at at
				outside++
			} else if len(ref) == 0 {
				break
			}
			if q.Now() != now {
				t.Fatalf("seed %d step %d: Now %d, want %d", seed, step, q.Now(), now)
			}
			for k := Kind(0); k <= numKinds; k++ {
				want := len(ref) > 0 && ref[0].at == now && ref[0].kind < k
				if q.NowBefore(k) != want {
					t.Fatalf("seed %d step %d: NowBefore(%v) = %v, want %v", seed, step, k, !want, want)
				}
			}
			if q.Len() != len(ref) {
				t.Fatalf("seed %d step %d: Len %d, want %d", seed, step, q.Len(), len(ref))
			}
		}
		if outside < 1000 {
			t.Fatalf("seed %d: only %d outside events ran: the offers do not exercise PopBefore", seed, outside)
		}
		for len(ref) > 0 {
			e, _ := q.Pop()
			want := heap.Pop(&ref).(refEvent)
			if e.At != want.at || e.Kind() != want.kind || int(e.Ref) != want.seq {
				t.Fatalf("seed %d drain: popped (%d,%v,%d), want (%d,%v,%d)", seed, e.At, e.Kind(), e.Ref, want.at, want.kind, want.seq)
			}
		}
	}
}

func TestQueueZeroValueAndNoAllocs(t *testing.T) {
	var q EventQueue
	if q.Len() != 0 || q.Now() != 0 || q.PeekTime() != Forever || q.NowBefore(numKinds) {
		t.Fatal("zero value is not an empty queue at time 0")
	}
	if _, ok := q.Pop(); ok {
		t.Fatal("zero value popped an event")
	}
	q.Push(Event{At: 0}, KindSample)
	if e, ok := q.Pop(); !ok || e.At != 0 || e.Kind() != KindSample {
		t.Fatalf("popped %+v, %v", e, ok)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 1000 {
		q.Push(Event{At: Time(r.Int64N(int64(Hour))), Ref: int32(i)}, KindJobEnd)
	}
	step := func() {
		e, _ := q.Pop()
		e.At += Time(r.ExpFloat64()*float64(Minute)) + 1
		q.Push(e, KindJobEnd)
	}
	for range 200000 {
		step()
	}
	if a := testing.AllocsPerRun(10000, step); a != 0 {
		t.Errorf("%v allocations per step", a)
	}
}

func TestPushInThePastPanics(t *testing.T) {
	var q EventQueue
	q.Push(Event{At: 10}, KindArrival)
	q.Pop()
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	q.Push(Event{At: 9}, KindArrival)
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Time
	}{
		{"30d", 30 * Day}, {"12h", 12 * Hour}, {"5m", 5 * Minute}, {"90s", 90 * Second}, {"1d12h", 36 * Hour},
		{"250ms", 250 * Millisecond}, {"2w", 14 * Day}, {"1.5h", 90 * Minute}, {"3600", Hour}, {"0", 0},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "d", "3 parsecs", "-1", "5x"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
	if s := (36*Hour + 90*Second).String(); s != "1d12h1m30s" {
		t.Errorf("String = %q", s)
	}
}
