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

// queueCheck drives an EventQueue beside a reference heap ordered by (time,
// kind, push order) and checks each step against it.
type queueCheck struct {
	t    *testing.T
	seed uint64
	r    *rand.Rand
	q    EventQueue
	ref  refHeap
	seq  int
	now  Time
}

func newQueueCheck(t *testing.T, seed, stream uint64) *queueCheck {
	return &queueCheck{t: t, seed: seed, r: rand.New(rand.NewPCG(seed, stream))}
}

// push pushes an event of a random kind at at on both.
func (c *queueCheck) push(at Time) {
	k := Kind(c.r.IntN(int(numKinds)))
	c.q.Push(Event{At: at, Ref: int32(c.seq)}, k)
	heap.Push(&c.ref, refEvent{at, k, c.seq})
	c.seq++
}

// ahead returns a log-uniform distance from now: times at every scale the
// buckets cover, from 0 to 2^62 µs.
func (c *queueCheck) ahead() Time {
	d := Time(0)
	if b := c.r.IntN(64); b > 0 {
		d = Time(c.r.Uint64() >> (64 - b))
	}
	if c.now+d < c.now || c.now+d > 1<<62 {
		d = Time(c.r.IntN(1000))
	}
	return d
}

// popped checks a popped event against the reference's earliest and
// moves now to it.
func (c *queueCheck) popped(step int, e Event) {
	want := heap.Pop(&c.ref).(refEvent)
	if e.At != want.at || e.Kind() != want.kind || int(e.Ref) != want.seq {
		c.t.Fatalf("seed %d step %d: popped (%d,%v,%d), want (%d,%v,%d)", c.seed, step, e.At, e.Kind(), e.Ref, want.at, want.kind, want.seq)
	}
	c.now = e.At
}

// state checks Now, NowBefore for every kind, and Len.
func (c *queueCheck) state(step int) {
	if c.q.Now() != c.now {
		c.t.Fatalf("seed %d step %d: Now %d, want %d", c.seed, step, c.q.Now(), c.now)
	}
	for k := Kind(0); k <= numKinds; k++ {
		want := len(c.ref) > 0 && c.ref[0].at == c.now && c.ref[0].kind < k
		if c.q.NowBefore(k) != want {
			c.t.Fatalf("seed %d step %d: NowBefore(%v) = %v, want %v", c.seed, step, k, !want, want)
		}
	}
	if c.q.Len() != len(c.ref) {
		c.t.Fatalf("seed %d step %d: Len %d, want %d", c.seed, step, c.q.Len(), len(c.ref))
	}
}

// drain pops everything left and checks the queue ends empty.
func (c *queueCheck) drain() {
	for len(c.ref) > 0 {
		e, _ := c.q.Pop()
		c.popped(-1, e)
	}
	if _, ok := c.q.Pop(); ok || c.q.Len() != 0 || c.q.PeekTime() != Forever {
		c.t.Fatalf("seed %d: drained queue not empty", c.seed)
	}
}

// TestQueueAgainstReference interleaves pushes and pops with times at every
// scale the buckets cover, bursts of hundreds of events at the current
// instant and at one future instant, and checks every pop, PeekTime,
// NowBefore, Now and Len against the reference heap.
func TestQueueAgainstReference(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		c := newQueueCheck(t, seed, 7)
		for step := 0; step < 60000; step++ {
			switch x := c.r.IntN(100); {
			case x < 2: // a burst at now or at one instant ahead
				at := c.now
				if x == 1 {
					at += Time(c.r.Int64N(1 << 30))
				}
				for range 50 + c.r.IntN(400) {
					c.push(at)
				}
			case x < 50 || len(c.ref) == 0:
				c.push(c.now + c.ahead())
			default:
				if got, want := c.q.PeekTime(), c.ref[0].at; got != want {
					t.Fatalf("seed %d step %d: PeekTime %d, want %d", seed, step, got, want)
				}
				e, ok := c.q.Pop()
				if !ok {
					t.Fatalf("seed %d step %d: Pop found nothing", seed, step)
				}
				c.popped(step, e)
			}
			c.state(step)
		}
		c.drain()
	}
}

// TestQueuePopBefore drives the queue as the engine does with its sources'
// arrivals kept outside it: each step offers an outside event (t, k) and
// PopBefore must pop the queue's earliest event exactly when that comes
// first, or else move the clock to t, after which events pushed at t itself
// must still come out in order. Offers fall before, at and after the
// earliest pending time, and at the first time of a bucket's range.
func TestQueuePopBefore(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		c := newQueueCheck(t, seed, 11)
		// aligned clears a random number of low bits: the times where a
		// bucket's range starts.
		aligned := func(at Time) Time { b := c.r.IntN(63); return at >> b << b }
		outside := 0
		for step := 0; step < 60000; step++ {
			if x := c.r.IntN(100); x < 45 || len(c.ref) == 0 && x < 90 {
				if x < 3 {
					for range 20 + c.r.IntN(200) {
						c.push(c.now) // a burst at the current instant
					}
				} else if at := aligned(c.now + c.ahead()); x < 15 && at >= c.now {
					c.push(at)
				} else {
					c.push(c.now + c.ahead())
				}
				continue
			}
			var at, first Time
			if len(c.ref) > 0 {
				first = aligned(c.ref[0].at)
			}
			switch x := c.r.IntN(10); {
			case x == 0:
				at = Forever
			case x < 4 && len(c.ref) > 0:
				at = c.ref[0].at // a tie in time: kinds decide
			case x < 6 && len(c.ref) > 0 && c.ref[0].at > c.now:
				at = c.now + Time(c.r.Int64N(int64(c.ref[0].at-c.now))) // before the queue's earliest
			case x < 8 && len(c.ref) > 0 && first >= c.now:
				at = first // the first time of the earliest's bucket, or before
			default:
				at = c.now + c.ahead()
			}
			k := Kind(c.r.IntN(int(numKinds)))
			e, ok := c.q.PopBefore(at, k)
			queued := len(c.ref) > 0 && (c.ref[0].at < at || c.ref[0].at == at && c.ref[0].kind < k)
			if ok != queued {
				t.Fatalf("seed %d step %d: PopBefore(%d, %v) ok = %v, want %v", seed, step, at, k, ok, queued)
			}
			switch {
			case ok:
				c.popped(step, e)
			case at != Forever:
				c.now = at // the caller's own event runs at at
				outside++
			}
			c.state(step)
		}
		if outside < 1000 {
			t.Fatalf("seed %d: only %d outside events ran: the offers do not exercise PopBefore", seed, outside)
		}
		c.drain()
	}
}

// TestQueueZeroValueAndNoAllocs: the zero value is an empty queue at time
// 0, and once its buckets have grown a hold model (pop one, push one) does
// not allocate.
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

// TestQueueNext: with every pending time after the current instant
// distinct, Next names exactly the event Pop returns next, whether it is at
// the current instant (bucket 0, any number of them) or in a bucket to be
// redistributed, through pushes and pops at every scale; on an empty queue
// it names none.
func TestQueueNext(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var q EventQueue
	if _, _, ok := q.Next(); ok {
		t.Fatal("Next named an event of an empty queue")
	}
	used := map[Time]bool{}
	ref := int32(0)
	for step := 0; step < 100000; step++ {
		if q.Len() == 0 || r.IntN(2) == 0 {
			at := q.Now()
			if r.IntN(4) > 0 {
				at += Time(r.Int64N(1 << uint(r.IntN(40))))
			}
			if used[at] && at != q.Now() {
				continue
			}
			used[at] = true
			ref++
			q.Push(Event{At: at, Ref: ref}, Kind(r.IntN(int(numKinds))))
			continue
		}
		nref, nk, ok := q.Next()
		e, _ := q.Pop()
		if !ok || nref != e.Ref || nk != e.Kind() {
			t.Fatalf("step %d: Next named (%d, %v, %v), Pop returned (%d, %v)", step, nref, nk, ok, e.Ref, e.Kind())
		}
	}
}
