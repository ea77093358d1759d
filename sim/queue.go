package sim

import "math/bits"

// Kind says what an event does. Its numeric value is also its priority among
// events at the same instant: lower kinds run first. Ends run before arrivals
// so that capacity freed at t is visible to jobs arriving at t, and the
// scheduling pass runs after both, once per instant that changed anything.
type Kind uint8

// Event kinds in priority order.
const (
	KindJobEnd      Kind = iota // a running job's work is done (Ref: job slot)
	KindNoticeEnd               // a preempted job's notice period runs out (Ref: job slot, Gen)
	KindFailure                 // a GPU fails (the engine's failure process)
	KindRepair                  // a failed node returns to service (Ref: node)
	KindAbandon                 // a queued job's patience runs out (Ref: job slot)
	KindPriceUpdate             // the pricer updates its state (Updater), before the instant's arrivals are quoted
	KindArrival                 // a source's next job arrives (Ref: source index; kept outside the queue, see Engine.Run)
	KindSchedule                // run the allocator over the queue
	KindSample                  // the metrics sampler ticks
	numKinds
)

var kindNames = [...]string{"job-end", "notice-end", "failure", "repair", "abandon", "price-update", "arrival", "schedule", "sample"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Event is a small value scheduled on the EventQueue. Events are totally
// ordered by (At, Kind, sequence number of the Push).
type Event struct {
	At  Time
	key uint64 // Kind<<56 | sequence number, set by Push
	Ref int32  // what the event is about: a job slot, a source index, …
	Gen uint32 // lazy-cancellation stamp: the handler ignores a stale one
}

// Kind returns the event's kind.
func (e Event) Kind() Kind { return Kind(e.key >> 56) }

const seqMask = 1<<56 - 1

// EventQueue is a monotone radix heap of Events (Ahuja, Mehlhorn, Orlin and
// Tarjan, "Faster algorithms for the shortest path problem", JACM 1990).
//
// Simulated time never goes backwards, so every key pushed is ≥ the last key
// popped; the heap exploits that: an event sits in bucket i where i is the
// index of the highest bit in which its time differs from the last popped
// time. Push is O(1); Pop redistributes one bucket into lower ones, so each
// event moves at most 64 times and in practice a few. Events at the current
// instant (bucket 0) are kept in a small binary heap by (Kind, sequence) to
// keep the total order. There is no cancellation: handlers drop stale events
// by comparing Gen with the entity's current stamp.
//
// The zero value is an empty queue at time 0. Once its buckets have grown,
// Push and Pop do not allocate.
type EventQueue struct {
	last uint64 // time of the last popped event
	seq  uint64
	n    int
	// full has bit i set when buckets[i] (i ≥ 1) holds events: refill
	// finds the lowest one in one instruction, where a scan from bucket 1
	// passed 20 to 40 empty ones (microsecond times: the next event is
	// usually seconds to hours away), 3% of a meta run's instructions.
	full uint64
	// low[i] is the earliest time in buckets[i] (i ≥ 1) while it holds
	// events, kept as they come in: refill reads it rather than scanning
	// the bucket once more before moving its events. lowRef[i] and
	// lowKind[i] are the Ref and Kind of the first event pushed at that
	// time, for Next.
	low     [64]uint64
	lowRef  [64]int32
	lowKind [64]Kind
	// buckets[0] is a binary heap ordered by key. Times are non-negative
	// int64s, so an event differs from the last popped time in bit 62 at
	// most: buckets[63] is the highest used.
	buckets [64][]Event
}

// Len returns the number of pending events.
func (q *EventQueue) Len() int { return q.n }

// Now returns the time of the last popped event.
func (q *EventQueue) Now() Time { return Time(q.last) }

// Push schedules e with kind k. It panics if e.At is before the last popped
// time: a discrete-event simulation never schedules in the past.
func (q *EventQueue) Push(e Event, k Kind) {
	if uint64(e.At) < q.last || e.At < 0 {
		panic("sim: event scheduled in the past")
	}
	e.key = uint64(k)<<56 | q.seq&seqMask
	q.seq++
	q.n++
	i := bits.Len64(uint64(e.At) ^ q.last)
	if i == 0 {
		q.pushNow(e)
		return
	}
	q.add(i, e)
}

// add puts e into bucket i ≥ 1.
func (q *EventQueue) add(i int, e Event) {
	if q.full&(1<<i) == 0 || uint64(e.At) < q.low[i] {
		q.low[i] = uint64(e.At)
		q.lowRef[i], q.lowKind[i] = e.Ref, e.Kind()
	}
	q.buckets[i] = append(q.buckets[i], e)
	q.full |= 1 << i
}

// Pop removes and returns the earliest event. ok is false when the queue is
// empty.
func (q *EventQueue) Pop() (e Event, ok bool) {
	if q.n == 0 {
		return Event{}, false
	}
	if len(q.buckets[0]) == 0 {
		q.refill()
	}
	q.n--
	return q.popNow(), true
}

// PopBefore removes and returns the earliest event if it comes before an
// event at t of kind k (events order by time, then kind). Otherwise ok is
// false and the queue's clock moves to t (unless t is Forever), as if an
// event at t had been popped: the caller runs its own event at t, and
// pushes must not be before it. t must not be before the last popped time.
//
// The engine keeps its sources' next arrivals out of the queue this way:
// they were half of the events that went through it, each pushed and moved
// through the buckets only to be popped a few seconds of simulated time
// later.
func (q *EventQueue) PopBefore(t Time, k Kind) (e Event, ok bool) {
	if uint64(t) < q.last || t < 0 {
		panic("sim: PopBefore a time in the past")
	}
	if len(q.buckets[0]) == 0 {
		if q.n == 0 {
			if t != Forever {
				q.last = uint64(t)
			}
			return Event{}, false
		}
		q.refillTo(uint64(t))
	}
	h := q.buckets[0]
	if len(h) > 0 && (h[0].At < t || h[0].Kind() < k) {
		q.n--
		return q.popNow(), true
	}
	return Event{}, false
}

// Next returns the Ref and Kind of the event that Pop would return next if
// nothing were pushed before it, or ok false when the queue is empty. Among
// events at the same time after the current instant it may name another
// than Pop's (the first pushed, not the lowest kind): it is a hint, for
// loading what that event will read, and moves nothing.
func (q *EventQueue) Next() (ref int32, k Kind, ok bool) {
	if h := q.buckets[0]; len(h) > 0 {
		return h[0].Ref, h[0].Kind(), true
	}
	if q.full == 0 {
		return 0, 0, false
	}
	i := bits.TrailingZeros64(q.full)
	return q.lowRef[i], q.lowKind[i], true
}

// PeekTime returns the time of the earliest event, or Forever if none.
func (q *EventQueue) PeekTime() Time {
	if q.n == 0 {
		return Forever
	}
	if len(q.buckets[0]) == 0 {
		q.refill()
	}
	return q.buckets[0][0].At
}

// NowBefore reports whether an event of a kind lower than k is pending at
// the time of the last popped event. It does not move the queue on: events
// at that time are all in bucket 0.
func (q *EventQueue) NowBefore(k Kind) bool {
	h := q.buckets[0]
	return len(h) > 0 && h[0].Kind() < k
}

// refill moves the lowest non-empty bucket into lower buckets after
// advancing last to its minimum time. Bucket 0 must be empty.
func (q *EventQueue) refill() { q.refillTo(uint64(Forever)) }

// refillTo advances last to t or to the earliest pending time, whichever
// is earlier, and moves the lowest non-empty bucket into lower buckets if
// that time falls in its range. Bucket 0 must be empty and t ≥ last.
func (q *EventQueue) refillTo(t uint64) {
	i := bits.TrailingZeros64(q.full)
	// Every event in bucket i has bit i−1 set where last has it clear, and
	// the bits above it as last has them: it is at lo or after. A time
	// before lo has the same bits as last from bit i−1 up, so every
	// bucket's events differ from it in the same highest bit as from last:
	// nothing moves.
	if lo := (q.last>>(i-1) | 1) << (i - 1); t < lo {
		q.last = t
		return
	}
	b := q.buckets[i]
	m := min(q.low[i], t)
	q.last = m
	for _, e := range b {
		j := bits.Len64(uint64(e.At) ^ m)
		if j == 0 {
			q.pushNow(e)
		} else {
			q.add(j, e)
		}
	}
	q.buckets[i] = b[:0]
	q.full &^= 1 << i
}

func (q *EventQueue) pushNow(e Event) {
	h := append(q.buckets[0], e)
	j := len(h) - 1
	for j > 0 {
		p := (j - 1) / 2
		if h[p].key <= e.key {
			break
		}
		h[j] = h[p]
		j = p
	}
	h[j] = e
	q.buckets[0] = h
}

func (q *EventQueue) popNow() Event {
	h := q.buckets[0]
	top := h[0]
	n := len(h) - 1
	x := h[n]
	h = h[:n]
	j := 0
	for {
		c := 2*j + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1].key < h[c].key {
			c++
		}
		if x.key <= h[c].key {
			break
		}
		h[j] = h[c]
		j = c
	}
	if n > 0 {
		h[j] = x
	}
	q.buckets[0] = h
	return top
}
