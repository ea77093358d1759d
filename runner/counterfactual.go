package runner

import (
	"fmt"
	"hash/maphash"
	"io"
	"sync"
	"sync/atomic"

	"neosim/policies"
	"neosim/results"
	"neosim/scenario"
	"neosim/sim"
	"neosim/sim/econ"
	"neosim/traces"
)

// The counterfactual of a run is the same scenario and seed with no external
// demand at all: synthetic external segments off and the external rows of a
// trace dropped. Its internal arrivals are the same jobs (every generator
// draws from its own stream, whatever else runs) and so are its node
// failures (the engine's own stream), so the difference between the run's
// internal waiting and the counterfactual's is the delay that selling
// caused (ARCHITECTURE.md rule 10; docs/economics.md).
//
// It runs on a goroutine of its own beside the main run and writes no file;
// it tells the main run's writer each internal job's counterfactual wait
// through a waitBoard.

// counterfactualScenario returns s without external demand. The copy shares
// nothing that a run changes.
func counterfactualScenario(s *scenario.Scenario) *scenario.Scenario {
	cf := *s
	off := false
	cf.External = &off
	return &cf
}

// syntheticExternal reports whether s generates external jobs: external
// demand or an external workload, turned on.
func syntheticExternal(s *scenario.Scenario) bool {
	return s.ExternalOn() && (s.ExternalDemand != nil || externalWorkloads(s))
}

// counterfactualChoice is whether a run has a counterfactual: one when the
// scenario generates external jobs, none when nothing external can arrive
// (the run is its own), and, when only the trace could bring external jobs,
// the answer of reading its segment column, on a goroutine beside the run
// (traces.ExternalRows): a trace written with a segment column that holds
// internal work only would otherwise be simulated twice.
type counterfactualChoice struct {
	run       *counterfactualRun
	err       error
	decided   chan struct{} // closed once run and err are set; nil: no counterfactual can be
	abandoned atomic.Bool   // the run failed: start none
}

// choose decides, or starts deciding; start starts the counterfactual. It
// returns start's error when it starts the counterfactual at once.
func (c *counterfactualChoice) choose(s *scenario.Scenario, trace traces.Source, start func() (*counterfactualRun, error)) error {
	synthetic, traceExternal := syntheticExternal(s), trace != nil
	if only, ok := trace.(traces.InternalOnly); ok && only.InternalOnly() {
		traceExternal = false
	}
	if !traceExternal && !synthetic {
		return nil
	}
	c.decided = make(chan struct{})
	scan, ok := trace.(traces.ExternalRows)
	if synthetic || !ok {
		c.run, c.err = start()
		close(c.decided)
		return c.err
	}
	go func() {
		defer close(c.decided)
		if scan.ExternalRows() && !c.abandoned.Load() {
			c.run, c.err = start()
		}
	}()
	return nil
}

// abandon says the run failed: a decision still being made starts no
// counterfactual.
func (c *counterfactualChoice) abandon() { c.abandoned.Store(true) }

// maybe reports whether the run may have a counterfactual.
func (c *counterfactualChoice) maybe() bool { return c.decided != nil }

// chosen waits for the decision and returns the counterfactual (nil: none).
func (c *counterfactualChoice) chosen() (*counterfactualRun, error) {
	if c.decided == nil {
		return nil, nil
	}
	<-c.decided
	return c.run, c.err
}

// writerWaits returns what the jobs writer asks for wait_s_counterfactual
// (results.Writer.SetCounterfactualWaits; nil: nothing, the column is
// null). Once chosen, that is the counterfactual's waits, or nil for none.
// Until then, a function that waits for the choice at its first call, on
// the writer's goroutine, and asks what was chosen from then on: no
// channel receive per job.
func (c *counterfactualChoice) writerWaits() func(*sim.Job) (sim.Time, bool) {
	select {
	case <-c.decided:
		if c.run == nil {
			return nil
		}
		return c.run.waits.take
	default:
	}
	var take func(*sim.Job) (sim.Time, bool)
	return func(j *sim.Job) (sim.Time, bool) {
		if take == nil {
			take = func(*sim.Job) (sim.Time, bool) { return 0, false }
			if run, _ := c.chosen(); run != nil {
				take = run.waits.take
			}
		}
		return take(j)
	}
}

// closeWaits tells the counterfactual, if any, that nobody asks any more.
func (c *counterfactualChoice) closeWaits() {
	if run, _ := c.chosen(); run != nil {
		run.waits.close()
	}
}

func externalWorkloads(s *scenario.Scenario) bool {
	for i := range s.Workloads {
		if seg, err := sim.ParseSegment(s.Workloads[i].Segment); err == nil && seg.External() {
			return true
		}
	}
	return false
}

// internalOnly drops the external jobs of a source (a trace's external rows).
type internalOnly struct{ sim.Source }

func (s internalOnly) Next(spec *sim.JobSpec) bool {
	for s.Source.Next(spec) {
		if !spec.Segment.External() {
			return true
		}
	}
	return false
}

// Counterfactual is what the counterfactual run measured, for the summary.
type Counterfactual = results.Counterfactual

// counterfactualRun is a counterfactual simulation in progress.
type counterfactualRun struct {
	waits waitSink // its internal jobs' waits go there; nil: nobody asks
	done  chan struct{}
	res   Counterfactual
	err   error
}

// waitSink passes a counterfactual's internal job waits to the jobs file's
// wait_s_counterfactual: a waitBoard to one run, a waitTable to any number.
// The counterfactual puts internal job n's wait (-1: it never started) and
// says finish when no more come; a run takes each of its internal jobs'
// and says close when it asks no more.
type waitSink interface {
	put(n int64, id string, wait sim.Time)
	finish()
	take(j *sim.Job) (wait sim.Time, ok bool)
	close()
}

// startCounterfactual starts the counterfactual of s on a goroutine. The
// caller waits for it with wait. Its internal jobs' waits go to waits
// (nil: nobody asks).
func startCounterfactual(s *scenario.Scenario, cfg sim.Config, opt Options, waits waitSink) *counterfactualRun {
	c := &counterfactualRun{waits: waits, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		if c.waits != nil {
			defer c.waits.finish()
		}
		c.res, c.err = runCounterfactual(counterfactualScenario(s), cfg, opt, c.waits)
		if c.err != nil {
			c.err = fmt.Errorf("counterfactual (the same scenario without external demand): %w", c.err)
		}
	}()
	return c
}

// wait returns the counterfactual's measures once it has ended.
func (c *counterfactualRun) wait() (Counterfactual, error) {
	<-c.done
	return c.res, c.err
}

func runCounterfactual(s *scenario.Scenario, cfg sim.Config, opt Options, waits waitSink) (Counterfactual, error) {
	alloc, err := policies.Allocators.NewWith(s.Allocator, s.AllocatorParams)
	if err != nil {
		return Counterfactual{}, err
	}
	pricer, err := policies.Pricers.NewWith(s.Pricer, s.PricerParams)
	if err != nil {
		return Counterfactual{}, err
	}
	f, err := BuildFleet(s, io.Discard)
	if err != nil {
		return Counterfactual{}, err
	}
	srcs, closers, err := Sources(s, io.Discard)
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	if err != nil {
		return Counterfactual{}, err
	}
	for i, src := range srcs {
		srcs[i] = internalOnly{src}
	}
	ledger, err := econ.NewLedger(s.Cost, f)
	if err != nil {
		return Counterfactual{}, err
	}
	ledger.SetWindow(cfg.Warmup)
	obs := &counterfactualObserver{waits: waits, window: cfg.Warmup}
	cfg.Progress, cfg.CheckInvariants = nil, opt.CheckInvariants
	e := sim.New(cfg, f, alloc, pricer, srcs, obs, ledger)
	if err := e.Run(); err != nil {
		return Counterfactual{}, err
	}
	r := ledger.Report(e.Stats().End)
	return Counterfactual{InternalWaitGPUHours: r.InternalWaitGPUHours, InternalSlowdownMean: obs.slowdown.Mean()}, nil
}

// counterfactualObserver hands internal jobs' waits on (if anybody asks)
// and averages their bounded slowdown.
type counterfactualObserver struct {
	waits    waitSink // nil: nobody asks for the waits
	window   sim.Time // jobs submitted before it are not in the slowdown
	slowdown results.SlowdownMean
}

func (o *counterfactualObserver) JobStarted(*sim.Job) {}
func (o *counterfactualObserver) Sampled(*sim.Sample) {}
func (o *counterfactualObserver) JobEnded(j *sim.Job) {
	if j.Segment.External() {
		return
	}
	if o.waits != nil {
		o.waits.put(j.Arrival, j.ID, j.Wait())
	}
	if j.Submit >= o.window {
		o.slowdown.Add(j)
	}
}

// waitBoard passes the counterfactual's internal job waits to the main
// run's writer, which asks for each internal job when it ends in the main
// run. The two runs number their internal jobs alike (sim.Job.Arrival: the
// same internal sources, the same order), so the board is a window of
// slots indexed by that number, from the first not yet asked for (base): no
// hashing, and neighbouring jobs in neighbouring slots. The window is a
// ring that grows as needed and is never copied as it moves on. Each slot
// keeps a hash of the job's ID, and an answer for another ID is a bug that
// panics. Slots hold no pointers, so the garbage collector never scans
// them and the counterfactual's job IDs are not kept alive.
//
// The two runs end jobs in different orders, so an answer may be asked for
// before it exists (take then waits for it: the counterfactual never waits
// for the main run, so this cannot deadlock) or kept until asked for. To
// bound memory the counterfactual pauses when boardLimit answers are kept
// unasked, unless the main run is waiting for one it has not given yet.
type waitBoard struct {
	mu   sync.Mutex
	cond sync.Cond
	seed maphash.Seed
	// ring[(head+i)&(len(ring)-1)] is internal job base+i, for i < n;
	// every other slot is empty. len(ring) is a power of two.
	ring []boardSlot
	head int
	n    int
	base int64
	// early holds the answers of jobs before base not yet asked for: a
	// job that runs for weeks in the main run (or never ends before the
	// horizon) would otherwise hold the window open behind it.
	early     map[int64]boardSlot
	window    int  // boardWindow (smaller in tests)
	kept      int  // answers given and not yet asked for
	done      bool // the counterfactual has ended (or failed)
	closed    bool // the main run asks no more
	asking    int  // takers waiting
	producing bool // the counterfactual is paused at the limit
}

type boardSlot struct {
	id    uint64 // maphash of the job's ID
	wait  sim.Time
	state uint8 // slotEmpty, slotKept or slotTaken
}

const (
	slotEmpty uint8 = iota
	slotKept
	slotTaken
)

// boardLimit is the most answers kept unasked: the counterfactual's lead.
const boardLimit = 1 << 20

// boardWindow is the most slots the window spans; past it, the oldest
// quarter moves out (answers kept there go to early). It is twice
// boardLimit, so that what moves out is the answers of jobs running long
// in the main run, not the counterfactual's lead, which the main run will
// ask for soon: with a window of boardLimit, half of a year's answers
// went through early.
const boardWindow = 2 * boardLimit

func newWaitBoard() *waitBoard {
	b := &waitBoard{early: make(map[int64]boardSlot), window: boardWindow, seed: maphash.MakeSeed()}
	b.cond.L = &b.mu
	return b
}

// slot returns the slot of internal job base+i, i < b.n.
func (b *waitBoard) slot(i int) *boardSlot { return &b.ring[(b.head+i)&(len(b.ring)-1)] }

// extend makes the window span internal jobs base … base+n−1, growing the
// ring (in order, from head) if it is too small.
func (b *waitBoard) extend(n int) {
	if n > len(b.ring) {
		size := max(1024, len(b.ring))
		for size < n {
			size *= 2
		}
		ring := make([]boardSlot, size)
		for i := range b.n {
			ring[i] = *b.slot(i)
		}
		b.ring, b.head = ring, 0
	}
	b.n = max(b.n, n)
}

// put records internal job n's counterfactual wait (-1: it never started).
func (b *waitBoard) put(n int64, id string, wait sim.Time) {
	h := maphash.String(b.seed, id)
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.kept >= boardLimit && b.asking == 0 && !b.closed {
		b.producing = true
		b.cond.Wait()
	}
	b.producing = false
	if b.closed {
		return
	}
	b.kept++
	if i := n - b.base; i < 0 {
		b.early[n] = boardSlot{id: h, wait: wait, state: slotKept}
	} else {
		b.extend(int(i) + 1)
		*b.slot(int(i)) = boardSlot{id: h, wait: wait, state: slotKept}
	}
	if b.asking > 0 {
		b.cond.Broadcast()
	}
}

// finish marks the counterfactual ended: takers stop waiting.
func (b *waitBoard) finish() {
	b.mu.Lock()
	b.done = true
	b.cond.Broadcast()
	b.mu.Unlock()
}

// close tells the counterfactual that nobody asks any more.
func (b *waitBoard) close() {
	b.mu.Lock()
	b.closed = true
	b.ring, b.n, b.early = nil, 0, nil
	b.cond.Broadcast()
	b.mu.Unlock()
}

// take returns internal job j's counterfactual wait, waiting for the
// counterfactual to end it; ok is false if the counterfactual ended
// without it.
func (b *waitBoard) take(j *sim.Job) (wait sim.Time, ok bool) {
	h := maphash.String(b.seed, j.ID)
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		i := j.Arrival - b.base
		var s *boardSlot
		if i >= 0 && i < int64(b.n) {
			s = b.slot(int(i))
			if s.state == slotTaken {
				return 0, false // asked for twice
			}
		} else if i < 0 { // early holds only jobs before base
			if e, ok := b.early[j.Arrival]; ok {
				delete(b.early, j.Arrival)
				s = &e
			}
		}
		if s != nil && s.state == slotKept {
			if s.id != h {
				panic(fmt.Sprintf("runner: internal job %d is %q in the run and another job in its counterfactual: their internal arrivals differ", j.Arrival, j.ID))
			}
			wait = s.wait
			*s = boardSlot{state: slotTaken}
			b.kept--
			b.trim()
			if b.producing {
				b.cond.Broadcast()
			}
			return wait, true
		}
		if b.done || b.closed {
			return 0, false
		}
		b.asking++
		b.cond.Broadcast() // a paused counterfactual may go on
		b.cond.Wait()
		b.asking--
	}
}

// trim drops the taken slots at the front of the window and, when it spans
// more than b.window jobs, moves its oldest quarter out, the answers still
// kept there to early.
func (b *waitBoard) trim() {
	drop := 0
	for drop < b.n && b.slot(drop).state == slotTaken {
		drop++
	}
	if b.n-drop > b.window {
		drop = b.n - b.window*3/4
	}
	for k := range drop {
		s := b.slot(k)
		if s.state == slotKept {
			b.early[b.base+int64(k)] = *s
		}
		*s = boardSlot{}
	}
	b.head = (b.head + drop) & (len(b.ring) - 1)
	b.n -= drop
	b.base += int64(drop)
}
