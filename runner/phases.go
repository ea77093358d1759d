package runner

import (
	"sync"
	"time"

	"neosim/sim"
)

// Phases is the time a run spent reading (building the fleet, opening the
// sources and pulling jobs from them: trace decoding or generators),
// simulating (the engine's loop: events, policies, the ledger, and handing
// jobs to and from the other goroutines) and writing (the output writer's
// work on the ended jobs and samples, and the final commit of the files).
// Reading and writing run on goroutines of their own beside the engine
// (pipeline.go), so on more than one core the three overlap and add up to
// more than the wall time. The time spent pulling jobs and writing them is
// estimated from sampled calls (see phaseClock).
type Phases struct {
	Read, Simulate, Write time.Duration
	// Wall is the whole run's wall time: setup, the engine and the commit.
	Wall time.Duration
}

// phaseClock estimates the wall time spent in the calls it is asked to
// time without reading the clock on every call: at 100 million events a
// clock read per call would itself cost seconds. It times one call in
// sampleGap on average, the gaps drawn from a private xorshift generator
// (not the simulation's streams, so results do not change), so that a
// periodic cost (a reader decoding a record batch every 65,536 rows, a
// writer flushing one) is caught in proportion, not always or never. The
// estimate is the mean timed call times the calls made.
type phaseClock struct {
	calls, timed int64
	spent        time.Duration
	next         int64  // calls until the next timed one
	x            uint64 // xorshift64 state
}

// sampleGap is the mean number of calls between timed ones.
const sampleGap = 32

func newPhaseClock(seed uint64) *phaseClock {
	return &phaseClock{next: 1, x: seed | 1}
}

// start counts a call and reports whether to time it (then the caller
// passes time.Now() to stop after the call).
func (c *phaseClock) start() bool {
	c.calls++
	c.next--
	if c.next > 0 {
		return false
	}
	c.x ^= c.x << 13
	c.x ^= c.x >> 7
	c.x ^= c.x << 17
	c.next = 1 + int64(c.x%(2*sampleGap-1)) // uniform on 1..2*sampleGap-1, mean sampleGap
	c.timed++
	return true
}

func (c *phaseClock) stop(t0 time.Time) { c.spent += time.Since(t0) }

// estimate returns the estimated time spent in all the calls counted, less
// the cost of reading the clock itself (clockCost) in each timed call.
func (c *phaseClock) estimate() time.Duration {
	if c.timed == 0 {
		return 0
	}
	per := max(0, float64(c.spent)/float64(c.timed)-float64(clockCost()))
	return time.Duration(per * float64(c.calls))
}

// clockCost is the least time a timed empty call measures (a time.Now and
// a time.Since), the bias of each timed call; measured once.
var clockCost = sync.OnceValue(func() time.Duration {
	best := time.Duration(1<<63 - 1)
	for range 1000 {
		t0 := time.Now()
		best = min(best, time.Since(t0))
	}
	return best
})

// do calls f, timing it if its turn has come.
func (c *phaseClock) do(f func()) {
	if !c.start() {
		f()
		return
	}
	t0 := time.Now()
	f()
	c.stop(t0)
}

// timedSource times a source's Next calls with a phaseClock.
type timedSource struct {
	sim.Source
	c *phaseClock
}

func (s timedSource) Next(spec *sim.JobSpec) (ok bool) {
	s.c.do(func() { ok = s.Source.Next(spec) })
	return ok
}

// timedObserver times an observer's JobEnded and Sampled calls (JobStarted
// is passed through untimed: the output writer does nothing there).
type timedObserver struct {
	sim.Observer
	c *phaseClock
}

func (o timedObserver) JobEnded(j *sim.Job) { o.c.do(func() { o.Observer.JobEnded(j) }) }

func (o timedObserver) Sampled(s *sim.Sample) { o.c.do(func() { o.Observer.Sampled(s) }) }
