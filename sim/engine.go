package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"unsafe"

	"neosim/sim/fleet"
	"neosim/sim/internal/prefetch"
)

// Source produces jobs in non-decreasing submit order, pulled lazily: the
// engine holds one pending arrival per source, never the whole workload.
type Source interface {
	// Name identifies the source in errors ("trace jobs.csv", "workload train").
	Name() string
	// Next fills spec with the next job and reports whether there was one.
	// At the end or on an error it returns false; Err tells which.
	Next(spec *JobSpec) bool
	// Err returns the error that stopped Next, or nil at a clean end. The
	// error is shown to the user as is, so it names the input (file, line,
	// field) itself.
	Err() error
}

// Allocator decides which queued jobs start where. It reads the View and
// proposes starts and preemptions through the Plan, which the engine
// validates and applies at once (so the View reflects each accepted step).
type Allocator interface {
	Name() string
	Schedule(v *View, p *Plan)
}

// Pricer quotes external jobs a price per GPU-hour, in micro-dollars, when
// they arrive. The customer accepts a quote at or below its willingness to
// pay (JobSpec.WTPMicroUSD; 0 accepts any) and is billed the quoted price
// for every GPU-hour it holds; a quote above it is declined and the job
// ends in state Declined.
type Pricer interface {
	Name() string
	Quote(v *View, j *Job) int64
}

// Observer receives the engine's notifications. Observers keep their own
// state; a *Job passed to them is valid only during the call.
type Observer interface {
	JobStarted(j *Job)
	// JobEnded is called once per job, when it reaches a terminal state.
	JobEnded(j *Job)
	Sampled(s *Sample)
}

// RunObserver is an optional Observer capability: RunEnded is called at
// the end of every run of a job (completed, preempted, killed by a
// failure, or stopped by the horizon), before its GPUs are released, so
// j.Shares, j.Type and j.RunPriceMicroUSD describe that run. ran is the
// run's length and beforeWindow the part of it before the measurement
// window opened (Config.Warmup). A ledger books each run on the GPU type
// and nodes it ran on with it; a job that ran on several types is billed
// and costed per type, exactly.
type RunObserver interface {
	RunEnded(j *Job, ran, beforeWindow Time)
}

// TypeQuoter is an optional Pricer capability: the price per GPU-hour of
// job j on GPU type t, given the quote it accepted at arrival
// (j.PriceMicroUSD, for the type Quote priced). The engine calls it when a
// run starts, with the type the job landed on, and bills that run at the
// result (Job.RunPriceMicroUSD). It must be a pure function of the job,
// the type and the pricer's parameters. A pricer without it bills every
// run at the arrival quote.
type TypeQuoter interface {
	QuoteOn(v *View, j *Job, t fleet.TypeID) int64
}

// Sample is the fleet's state at one sampling instant.
type Sample struct {
	T         Time
	GPUsTotal int64
	// BusyMilli is the milli-GPU allocated to each segment's jobs.
	BusyMilli [NumSegments]int64
	// Queued is the number of jobs waiting, per segment.
	Queued [NumSegments]int64
	// DownGPUs is the number of GPUs on failed nodes under repair.
	DownGPUs int64
	// RevenueUSDPerHour is what the running external jobs are billed per
	// hour right now.
	RevenueUSDPerHour float64
	// SpotMicroUSD is the spot price per GPU-hour the pricer would quote
	// now (SpotQuoter), or -1 if the pricer does not say.
	SpotMicroUSD int64
}

// SpotQuoter is an optional Pricer capability: the spot price per GPU-hour
// it would quote now for the fleet's first GPU type, for the time series.
// The engine calls it at every sample, so it must be a pure read: it must
// not change what the pricer quotes next (a pricer whose price moves with
// the fleet moves it in Update).
type SpotQuoter interface {
	SpotPrice(v *View) int64
}

// Updater is an optional Pricer capability: a pricer with state that moves
// with the fleet (a utilization-driven price, an auction's clearing price).
// The engine calls Update at simulated times 0, I, 2I, … for I =
// UpdateInterval(), on its own schedule: never from Quote, never from a
// sample, so no output setting changes a quote. At an instant, Update runs
// after the instant's job ends, failures, repairs and abandonments and
// before its arrivals are quoted. Quote and SpotPrice of an Updater only
// read the state the last Update left.
type Updater interface {
	// UpdateInterval is the period of Update calls (> 0), read once when
	// the run starts.
	UpdateInterval() Time
	// Update recomputes the pricer's state from the run now.
	Update(v *View)
}

// Config holds the engine's settings. The zero value runs until every job
// has ended, sampling every 5 simulated minutes.
type Config struct {
	// Horizon stops the run at this time; 0 runs until every job has ended.
	Horizon Time
	// SampleInterval is the metrics sampling period (default 5 minutes).
	SampleInterval Time
	// CheckInvariants runs Check after every event (tests; it is O(fleet)).
	CheckInvariants bool
	// Progress, if set, is called about every 65,536 events.
	Progress func(now Time, events int64)
	// RestartOverhead is the wall time a job spends at the start of every
	// run after an interruption (preemption or failure) before it makes
	// progress again: loading its checkpoint, re-forming its gang. It is
	// lost time, counted in the job's lost GPU-hours.
	RestartOverhead Time
	// Failures, if set, fails nodes at random; see Failures.
	Failures *Failures
	// Seed seeds the engine's own random streams (failures).
	Seed uint64
	// SpreadPenalty slows a gang spread over several racks (NVLink
	// domains): a job on d racks runs at speed / (1 + SpreadPenalty·(d−1)).
	// 0: placement does not change speed.
	SpreadPenalty float64
	// Warmup opens the measurement window: as each run of a job ends, the
	// engine adds its part before Warmup to Job.RunTimeBeforeWindow, so
	// that observers can leave the warm-up out of time-weighted measures.
	// It changes no job's fate. 0: the window is the whole run.
	Warmup Time
}

// Failures is the failure model: GPUs fail as a Poisson process at
// PerGPUHour failures per GPU-hour; a failure takes the GPU's node out of
// service for a repair time drawn by Repair, and kills the jobs running on
// it, which go back to the queue and restart from their last checkpoint.
// Failure times, nodes and repair times come from the engine's own stream,
// so every policy run with a seed sees the same failures.
type Failures struct {
	PerGPUHour float64
	Repair     func(r *rand.Rand) Time
}

// Stats counts what a run did.
type Stats struct {
	Events int64
	// Jobs counts jobs by segment and terminal state (after Run).
	Jobs [NumSegments][NumStates]int64
	End  Time // time of the last processed event (or the horizon)
	// Failures counts node failures; Preemptions counts preemptions.
	Failures, Preemptions int64
}

// Engine is the discrete-event simulator: one event loop over a typed event
// queue, a job table of reusable slots, the queue of waiting jobs, and the
// fleet. It is single-threaded and deterministic: the same sources, policies
// and config give the same sequence of events.
type Engine struct {
	cfg     Config
	fleet   *fleet.Fleet
	alloc   Allocator
	pricer  Pricer
	typeQ   TypeQuoter // pricer's TypeQuoter, or nil
	obs     []Observer
	runObs  []RunObserver // the observers that are RunObservers
	sources []Source
	next    []JobSpec // each source's pending arrival; Submit is Forever once it has none
	lastSub []Time    // each source's last submit time
	// The sources' pending arrivals are kept out of the event queue: the
	// loop takes the earliest of them (arrival, by time, then pull order)
	// when it comes before the queue's earliest event (EventQueue.PopBefore).
	arrSeq   []uint64 // the order each pending arrival was pulled in
	arrPulls uint64   // arrivals pulled so far
	arrNext  int      // the source with the earliest pending arrival

	events EventQueue
	now    Time
	jobs   []Job
	free   []JobID
	queue  []JobID // waiting jobs in queue order
	deqAt  int     // the queue index of the last removal (queueIndex looks there first)

	nodeJobs nodeJobs // jobs running on each node
	failRNG  *rand.Rand

	revenueRate int64 // n$ per hour billed by the running jobs (Job.revenueRate)
	busyMilli   [NumSegments]int64
	queued      [NumSegments]int64
	arrivals    [NumSegments]int64 // jobs arrived per segment (Job.Arrival)
	alive       int                // jobs in the table
	sourcesLeft int                // sources not yet exhausted
	scheduleSet bool
	// Jobs queued at this instant with a patience: their abandon events
	// are pushed after the instant's scheduling pass, for those still
	// waiting (flushAbandons). Most start in that pass; pushed at arrival,
	// their events went stale yet moved through the queue's buckets until
	// their time (a tenth of the meta year's events).
	abandons   []pendingAbandon
	updater    Updater // the pricer, if it is an Updater; else nil
	priceEvery Time    // its update interval
	stats      Stats
	run        runIndex // the running jobs, for View.Running and RunningIn
	warmEnd    JobID    // the job slot last prefetched for its end
	view       View
	plan       Plan
	err        error
}

// New makes an engine. Observers are called in the order given.
func New(cfg Config, f *fleet.Fleet, alloc Allocator, pricer Pricer, sources []Source, obs ...Observer) *Engine {
	if cfg.SampleInterval <= 0 {
		cfg.SampleInterval = 5 * Minute
	}
	e := &Engine{cfg: cfg, fleet: f, alloc: alloc, pricer: pricer, sources: sources, obs: obs}
	e.typeQ, _ = pricer.(TypeQuoter)
	for _, o := range obs {
		if r, ok := o.(RunObserver); ok {
			e.runObs = append(e.runObs, r)
		}
	}
	e.view = View{e: e}
	e.plan = Plan{e: e}
	return e
}

// Fleet returns the engine's fleet.
func (e *Engine) Fleet() *fleet.Fleet { return e.fleet }

// Stats returns the run's counters.
func (e *Engine) Stats() *Stats { return &e.stats }

// Run simulates until the horizon or until every job has ended. It returns
// a source's error (bad input found mid-stream), which ends the run.
func (e *Engine) Run() error {
	e.next = make([]JobSpec, len(e.sources))
	e.lastSub = make([]Time, len(e.sources))
	e.arrSeq = make([]uint64, len(e.sources))
	e.sourcesLeft = len(e.sources)
	for i := range e.sources {
		e.pull(i)
	}
	if e.err != nil {
		return e.err
	}
	e.events.Push(Event{At: 0}, KindSample)
	if u, ok := e.pricer.(Updater); ok {
		e.updater, e.priceEvery = u, u.UpdateInterval()
		if e.priceEvery <= 0 {
			panic(fmt.Sprintf("sim: pricer %s: update interval %v is not positive", e.pricer.Name(), e.priceEvery))
		}
		e.events.Push(Event{At: 0}, KindPriceUpdate)
	}
	e.nodeJobs = newNodeJobs(e.fleet.Nodes())
	if f := e.cfg.Failures; f != nil && f.PerGPUHour > 0 {
		e.failRNG = Stream(e.cfg.Seed, "failures", 0)
		e.scheduleFailure()
	}
	for {
		var ev Event
		if e.scheduleSet && e.scheduleDue() {
			// The scheduling pass is an event of kind KindSchedule at now,
			// run here without going through the queue: it comes after
			// every event of a lower kind at now and before the rest.
			ev = Event{At: e.now, key: uint64(KindSchedule) << 56}
		} else {
			var ok bool
			at := e.nextArrival()
			if ev, ok = e.events.PopBefore(at, KindArrival); !ok {
				if at == Forever {
					break
				}
				ev = Event{At: at, key: uint64(KindArrival) << 56, Ref: int32(e.arrNext)}
			}
		}
		if e.cfg.Horizon > 0 && ev.At > e.cfg.Horizon {
			break
		}
		if e.cfg.Horizon == 0 && e.alive == 0 && e.sourcesLeft == 0 {
			break // every job has ended; failures and samples alone go on forever
		}
		e.now = ev.At
		e.stats.Events++
		if ref, k, ok := e.events.Next(); ok && k == KindJobEnd && JobID(ref) != e.warmEnd {
			e.warmEnd = JobID(ref)
			e.prefetchJob(e.warmEnd)
		}
		switch ev.Kind() {
		case KindJobEnd:
			e.jobEnd(JobID(ev.Ref), ev.Gen)
		case KindNoticeEnd:
			e.noticeEnd(JobID(ev.Ref), ev.Gen)
		case KindFailure:
			e.fail()
		case KindRepair:
			e.fleet.SetUp(fleet.NodeID(ev.Ref))
			e.armSchedule()
		case KindAbandon:
			e.abandon(JobID(ev.Ref), ev.Gen)
		case KindPriceUpdate:
			e.updatePrice()
		case KindArrival:
			e.arrive(int(ev.Ref))
		case KindSchedule:
			e.scheduleSet = false
			if len(e.queue) > 0 {
				e.alloc.Schedule(&e.view, &e.plan)
			}
			e.flushAbandons()
		case KindSample:
			e.sample()
		}
		if e.err != nil {
			return e.err
		}
		if e.cfg.CheckInvariants {
			if err := e.Check(); err != nil {
				panic(fmt.Sprintf("sim: invariant broken at t=%v after a %v event: %v", e.now, ev.Kind(), err))
			}
		}
		if e.cfg.Progress != nil && e.stats.Events&0xffff == 0 {
			e.cfg.Progress(e.now, e.stats.Events)
		}
	}
	e.finish()
	return e.err
}

// prefetchJob starts loading the lines of job slot id, whose end is
// (probably) the next event: a job's end reads each of its lines, and the
// slot, last touched when the job started, is rarely still in a cache.
// The loads overlap with the event in hand (docs/performance.md, round
// twelve).
func (e *Engine) prefetchJob(id JobID) {
	prefetch.Lines(unsafe.Pointer(&e.jobs[id]), int(unsafe.Sizeof(Job{})/64))
}

// pull reads source i's next job and schedules its arrival.
func (e *Engine) pull(i int) {
	s := &e.next[i]
	*s = JobSpec{}
	if !e.sources[i].Next(s) {
		e.err = e.sources[i].Err()
		e.sourcesLeft--
		s.Submit = Forever
		e.pickArrival()
		return
	}
	if s.Submit < e.lastSub[i] || s.Submit < e.now {
		e.err = fmt.Errorf("%s: job %q submitted at %.6gs, before the previous job (%.6gs): sources must be sorted by submit time",
			e.sources[i].Name(), s.ID, s.Submit.Seconds(), e.lastSub[i].Seconds())
		return // the run ends with the error
	}
	e.lastSub[i] = s.Submit
	e.arrSeq[i] = e.arrPulls
	e.arrPulls++
	e.pickArrival()
}

// pickArrival finds the source whose pending arrival comes first: the
// earliest, and of those the first pulled (the order arrival events had in
// the queue).
func (e *Engine) pickArrival() {
	k := 0
	for i := 1; i < len(e.next); i++ {
		if at := e.next[i].Submit; at < e.next[k].Submit || at == e.next[k].Submit && e.arrSeq[i] < e.arrSeq[k] {
			k = i
		}
	}
	e.arrNext = k
}

// nextArrival returns the time of the earliest pending arrival, or Forever.
func (e *Engine) nextArrival() Time {
	if len(e.next) == 0 {
		return Forever
	}
	return e.next[e.arrNext].Submit
}

// maxKeptShares is the most shares a reused job slot keeps room for. A slot
// keeps its last placement's array so that most starts allocate nothing; a
// slot that once held a pre-training gang (hundreds or thousands of nodes)
// would otherwise keep that array for the rest of the run. In the meta
// year such arrays grew the live heap by 25 MB by its end.
const maxKeptShares = 64

func (e *Engine) newJob(spec *JobSpec) JobID {
	var id JobID
	if n := len(e.free); n > 0 {
		id = e.free[n-1]
		e.free = e.free[:n-1]
	} else {
		e.jobs = append(e.jobs, Job{})
		id = JobID(len(e.jobs) - 1)
	}
	j := &e.jobs[id]
	shares := j.Shares[:0]
	if cap(shares) > maxKeptShares {
		shares = nil // a gang's placement: not kept for the small jobs that reuse most slots
	}
	gen := j.gen + 1
	// Cleared in place, then set: a composite literal assigned to *j was
	// built on the stack and copied over.
	*j = Job{}
	j.JobSpec = *spec
	j.State, j.Type, j.FirstStart, j.End, j.Remaining = Queued, -1, -1, -1, spec.Work
	j.Shares, j.gen, j.live = shares, gen, true
	if spec.Segment < NumSegments {
		j.Arrival = e.arrivals[spec.Segment]
		e.arrivals[spec.Segment]++
	}
	if j.Milli == 0 {
		j.Milli = fleet.FullGPU
	}
	e.alive++
	return id
}

func (e *Engine) arrive(src int) {
	id := e.newJob(&e.next[src])
	e.pull(src)
	j := &e.jobs[id]
	if ok, reason := e.fleet.Fits(j.Demand()); !ok {
		e.terminate(id, Rejected, reason)
		return
	}
	if e.pricer != nil && j.Segment.External() && j.TokenPriceMicroUSD == 0 {
		j.PriceMicroUSD = e.pricer.Quote(&e.view, j)
		if j.WTPMicroUSD > 0 && j.PriceMicroUSD > j.WTPMicroUSD {
			e.terminate(id, Declined, "declined the quote: above its willingness to pay")
			return
		}
	}
	e.enqueue(id)
	if j.Patience > 0 {
		e.abandons = append(e.abandons, pendingAbandon{id, j.gen})
	}
}

// pendingAbandon is a job queued at this instant, with its run stamp then.
type pendingAbandon struct {
	id  JobID
	gen uint32
}

// flushAbandons pushes the abandon events of the jobs queued at this
// instant that are still waiting, in the order they were queued: the
// events the queue would have held had they been pushed at arrival, less
// those gone stale (the job started: its stamp moved on), which would have
// done nothing. Events of one kind at one time run in push order, and
// these keep theirs among every other abandon event: the simulation is the
// same, with fewer events.
func (e *Engine) flushAbandons() {
	for _, a := range e.abandons {
		if j := &e.jobs[a.id]; j.gen == a.gen && j.State.Waiting() {
			e.events.Push(Event{At: e.now + j.Patience, Ref: int32(a.id), Gen: a.gen}, KindAbandon)
		}
	}
	e.abandons = e.abandons[:0]
}

func (e *Engine) enqueue(id JobID) {
	e.queue = append(e.queue, id)
	e.queued[e.jobs[id].Segment]++
	e.armSchedule()
}

// dequeue removes id from the queue; it is O(1) at the head, and at the
// place of the last removal (see deqAt).
func (e *Engine) dequeue(id JobID) {
	i := e.queueIndex(id)
	// Close the gap from the shorter side: the jobs before i move one
	// place back (and the slice starts one later), or the jobs after it
	// one place forward. Either way the jobs before i keep their index and
	// those after it move one down. An overloaded run starts jobs from
	// deep in a long queue; moving the whole tail each time was most of
	// its time.
	if i < len(e.queue)/2 {
		copy(e.queue[1:i+1], e.queue[:i])
		e.queue = e.queue[1:]
	} else {
		e.queue = append(e.queue[:i], e.queue[i+1:]...)
	}
	e.deqAt = i
	e.queued[e.jobs[id].Segment]--
}

// queueIndex returns id's index in the queue. It looks from deqAt on
// first, then from the head: an allocator walking the queue starts jobs
// at rising indexes, and after a removal at i the next job waits at i,
// so a pass that starts many jobs deep in a long queue finds each at once
// instead of scanning the queue from the head for every one.
func (e *Engine) queueIndex(id JobID) int {
	from := min(e.deqAt, len(e.queue))
	for i, q := range e.queue[from:] {
		if q == id {
			return from + i
		}
	}
	for i, q := range e.queue[:from] {
		if q == id {
			return i
		}
	}
	panic("sim: dequeue of a job not in the queue")
}

// armSchedule asks for a scheduling pass at now. The pass is not queued:
// the loop runs it when no event of a lower kind is left at now
// (scheduleDue), which is where a KindSchedule event pushed now would come
// in the queue's (time, kind, sequence) order: only one is ever pending,
// and nothing but a sample (a higher kind) or a later instant follows it.
func (e *Engine) armSchedule() { e.scheduleSet = true }

// scheduleDue reports whether the armed scheduling pass comes before the
// queue's earliest event. The queue's last popped time is now.
func (e *Engine) scheduleDue() bool {
	return !e.events.NowBefore(KindSchedule) && e.nextArrival() != e.now
}

// start runs job id on shares (already validated).
func (e *Engine) start(id JobID, shares []fleet.Share, typ fleet.TypeID) {
	j := &e.jobs[id]
	e.dequeue(id)
	e.fleet.Allocate(shares)
	j.Shares = append(j.Shares[:0], shares...)
	j.State = Running
	e.run.started(id, j.Segment)
	j.Type = typ
	j.Start = e.now
	if j.FirstStart < 0 {
		j.FirstStart = e.now
	}
	j.gen++
	j.speed = fleet.Catalog[typ].Speed
	if j.Hold {
		j.speed = 1 // wall-clock time, whatever the GPU
	}
	e.busyMilli[j.Segment] += int64(j.GPUs) * int64(j.Milli)
	j.RunPriceMicroUSD = j.PriceMicroUSD
	if e.typeQ != nil && j.Segment.External() && j.TokenPriceMicroUSD == 0 {
		j.RunPriceMicroUSD = e.typeQ.QuoteOn(&e.view, j, typ)
	}
	j.rate = j.revenueRate()
	e.revenueRate += j.rate
	for _, sh := range shares {
		e.nodeJobs.add(id, sh, e.fleet.HoldsWhole(sh))
	}
	j.noticeAt = -1
	j.overhead = 0
	if j.restarts > 0 && !j.Hold {
		j.overhead = e.cfg.RestartOverhead
	}
	if p := e.cfg.SpreadPenalty; p > 0 && !j.Hold {
		if d := e.domains(shares); d > 1 {
			j.speed /= 1 + p*float64(d-1)
		}
	}
	run := j.overhead + Time(math.Ceil(float64(j.Remaining)/j.speed))
	j.end = e.now + run
	if j.Segment == SegSpot {
		e.run.place(id, j, false)
	}
	e.events.Push(Event{At: j.end, Ref: int32(id), Gen: j.gen}, KindJobEnd)
	for _, o := range e.obs {
		o.JobStarted(j)
	}
}

// stop ends job id's current run at now and frees its GPUs. A run that
// completes keeps all its work; an interrupted one (interrupted = true)
// keeps only the work up to its last checkpoint (none if the job never
// checkpoints) and must pay the restart overhead in its next run. Time held
// but not kept (work since the checkpoint, overhead) is lost time. A run
// stopped by a node failure (failed = true) has its GPUs released lazily:
// a gang is usually placed again in this instant's scheduling pass, mostly
// on the nodes it just left (88% of them in the meta scenario), and the
// fleet never releases and retakes those (fleet.ReleaseLater).
func (e *Engine) stop(id JobID, interrupted, failed bool) {
	j := &e.jobs[id]
	ran := e.now - j.Start
	j.RunTime += ran
	var before Time // the part of the run before the window opened
	if w := e.cfg.Warmup; w > 0 {
		before = min(max(0, min(e.now, w)-j.Start), ran)
	}
	j.RunTimeBeforeWindow += before
	j.bill(ran, before)
	j.Runs++
	for _, o := range e.runObs {
		o.RunEnded(j, ran, before)
	}
	milli := int64(j.GPUs) * int64(j.Milli)
	productive := max(0, ran-j.overhead)
	kept := productive
	if interrupted && !j.Hold { // a held term (reserved contract, serving replica) loses nothing: it resumes with the rest of its term
		kept = 0
		if j.Checkpoint > 0 {
			kept = productive / j.Checkpoint * j.Checkpoint
		}
		j.restarts++
	}
	j.LostTime += ran - kept
	if interrupted || kept < productive {
		j.Remaining = max(0, j.Remaining-Time(math.Floor(float64(kept)*j.speed)))
	} else {
		j.Remaining = 0
	}
	if failed {
		e.fleet.ReleaseLater(j.Shares)
	} else {
		e.fleet.Release(j.Shares)
	}
	e.run.stopped(id, j.Segment)
	for _, sh := range j.Shares {
		e.nodeJobs.remove(id, sh, e.fleet.HoldsWhole(sh))
	}
	e.busyMilli[j.Segment] -= milli
	e.revenueRate -= j.rate
	j.gen++
}

// domains counts the distinct racks of a placement. Racks are numbered in
// node order, so for shares in node order (first fit's) equal racks are
// adjacent; other orders take the quadratic path.
func (e *Engine) domains(shares []fleet.Share) int {
	d := 0
	last := fleet.RackID(-1)
	for i, sh := range shares {
		if i > 0 && sh.Node < shares[i-1].Node {
			return e.domainsUnsorted(shares)
		}
		if r := e.fleet.Rack(sh.Node); r != last {
			d++
			last = r
		}
	}
	return d
}

func (e *Engine) domainsUnsorted(shares []fleet.Share) int {
	d := 0
	for i, sh := range shares {
		r := e.fleet.Rack(sh.Node)
		seen := false
		for _, prev := range shares[:i] {
			if e.fleet.Rack(prev.Node) == r {
				seen = true
				break
			}
		}
		if !seen {
			d++
		}
	}
	return d
}

func (e *Engine) jobEnd(id JobID, gen uint32) {
	j := &e.jobs[id]
	if j.gen != gen || j.State != Running {
		return // stale: the run was preempted or killed
	}
	e.stop(id, false, false)
	e.armSchedule()
	e.terminate(id, Completed, "")
}

func (e *Engine) abandon(id JobID, gen uint32) {
	j := &e.jobs[id]
	if j.gen != gen || !j.State.Waiting() {
		return
	}
	e.dequeue(id)
	e.terminate(id, Abandoned, "patience ran out")
}

// preempt asks running job id to stop: at once if the job has no notice
// period, else when its notice runs out (it keeps running meanwhile). The
// job then goes back to the tail of the queue with its remaining work, less
// what it loses since its last checkpoint.
func (e *Engine) preempt(id JobID) {
	j := &e.jobs[id]
	if j.noticeAt >= 0 {
		return // already under notice
	}
	j.Preemptions++
	e.stats.Preemptions++
	if j.Notice > 0 {
		j.noticeAt = e.now + j.Notice
		e.run.noticed(id, j)
		e.events.Push(Event{At: j.noticeAt, Ref: int32(id), Gen: j.gen}, KindNoticeEnd)
		return
	}
	e.interrupt(id, Preempted)
}

func (e *Engine) noticeEnd(id JobID, gen uint32) {
	j := &e.jobs[id]
	if j.gen != gen || j.State != Running {
		return // it completed during its notice
	}
	e.interrupt(id, Preempted)
}

// interrupt stops a running job and queues it again in state s (Preempted,
// or Queued after a failure).
func (e *Engine) interrupt(id JobID, s State) {
	e.stop(id, true, s == Queued)
	e.jobs[id].State = s
	e.enqueue(id)
}

func (e *Engine) scheduleFailure() {
	rate := e.cfg.Failures.PerGPUHour * float64(e.fleet.GPUs()) // per hour
	gap := Time(e.failRNG.ExpFloat64() / rate * float64(Hour))
	e.events.Push(Event{At: e.now + max(gap, 1)}, KindFailure)
}

// fail fails a GPU chosen uniformly: its node goes down, its jobs restart
// from their checkpoints, and the repair is scheduled. A GPU of a node that
// is already down changes nothing. Three draws per failure, always.
func (e *Engine) fail() {
	g := e.failRNG.IntN(e.fleet.GPUs())
	repair := e.cfg.Failures.Repair(e.failRNG)
	e.scheduleFailure()
	n := e.fleet.NodeOfGPU(g)
	if e.fleet.Down(n) {
		return
	}
	e.stats.Failures++
	for {
		id, ok := e.nodeJobs.first(n)
		if !ok {
			break
		}
		e.jobs[id].Failures++
		e.interrupt(id, Queued)
	}
	e.fleet.SetDown(n)
	e.events.Push(Event{At: e.now + max(repair, 1), Ref: int32(n)}, KindRepair)
}

// terminate moves a job to a terminal state, tells the observers and frees
// its slot.
func (e *Engine) terminate(id JobID, s State, reason string) {
	j := &e.jobs[id]
	j.State = s
	j.Reason = reason
	j.End = e.now
	e.stats.Jobs[j.Segment][s]++
	for _, o := range e.obs {
		o.JobEnded(j)
	}
	j.gen++
	j.live = false
	e.alive--
	e.free = append(e.free, id)
}

func (e *Engine) sample() {
	s := Sample{T: e.now, GPUsTotal: int64(e.fleet.GPUs()), BusyMilli: e.busyMilli, Queued: e.queued, DownGPUs: e.fleet.DownGPUs(),
		RevenueUSDPerHour: float64(e.revenueRate) / 1e9, SpotMicroUSD: -1}
	if sq, ok := e.pricer.(SpotQuoter); ok {
		s.SpotMicroUSD = sq.SpotPrice(&e.view)
	}
	for _, o := range e.obs {
		o.Sampled(&s)
	}
	e.again(e.cfg.SampleInterval, KindSample)
}

// updatePrice calls the pricer's Update and schedules the next one.
func (e *Engine) updatePrice() {
	e.updater.Update(&e.view)
	e.again(e.priceEvery, KindPriceUpdate)
}

// again schedules the next tick of a periodic event of kind k, every
// period: up to the horizon, or while jobs are left to run.
func (e *Engine) again(period Time, k Kind) {
	next := e.now + period
	if e.cfg.Horizon > 0 {
		if next <= e.cfg.Horizon {
			e.events.Push(Event{At: next}, k)
		}
		return
	}
	if e.alive > 0 || e.sourcesLeft > 0 {
		e.events.Push(Event{At: next}, k)
	}
}

// finish ends the run: at the horizon (or when no event is left) every job
// still queued or running becomes unfinished.
func (e *Engine) finish() {
	if e.err != nil {
		return
	}
	end := e.now
	if e.cfg.Horizon > 0 {
		end = e.cfg.Horizon
	}
	e.now = end
	e.stats.End = end
	reason := "the horizon came first"
	if e.cfg.Horizon == 0 {
		reason = "no event was left that could start it"
	}
	for id := range e.jobs {
		if j := &e.jobs[id]; j.live && j.State == Running {
			e.stop(JobID(id), false, false)
		}
	}
	for _, id := range e.queue {
		e.queued[e.jobs[id].Segment]--
	}
	e.queue = e.queue[:0]
	for id := range e.jobs {
		if e.jobs[id].live {
			e.terminate(JobID(id), Unfinished, reason)
		}
	}
}

// ErrPlan is wrapped by the errors Plan returns for invalid proposals.
var ErrPlan = errors.New("invalid plan")
