package sim

import (
	"fmt"
	"strings"

	"neosim/sim/fleet"
)

// Segment is who a job is for: the company's own training, or one of the
// neocloud's customer segments.
type Segment uint8

// Segments. Their names are part of the output schema.
const (
	SegInternal Segment = iota
	SegOnDemand
	SegSpot
	SegReserved
	SegServing
	NumSegments
)

var segmentNames = [NumSegments]string{"internal", "on-demand", "spot", "reserved", "serving"}

func (s Segment) String() string {
	if s < NumSegments {
		return segmentNames[s]
	}
	return "segment?"
}

// External reports whether the segment is an outside customer's.
func (s Segment) External() bool { return s != SegInternal }

// ParseSegment reads a segment name (case-insensitive; "" is internal).
func ParseSegment(name string) (Segment, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return SegInternal, nil
	}
	for i, s := range segmentNames {
		if n == s || n == strings.ReplaceAll(s, "-", "_") {
			return Segment(i), nil
		}
	}
	return 0, fmt.Errorf("unknown segment %q (segments: %s)", name, strings.Join(segmentNames[:], ", "))
}

// State is where a job is in its life. A job is in exactly one state.
//
//	Queued ──start──► Running ──work done──► Completed
//	  │                 ├──preempted──► Preempted (queued again, remaining work kept) ──start──► Running …
//	  │                 └──its node failed──► Queued (at the tail, work since its last checkpoint lost)
//	  ├──patience ran out──► Abandoned
//	  ├── (at arrival) cannot ever fit ──► Rejected
//	  └── (at arrival, external) the quote is above what it would pay ──► Declined
//	Queued, Preempted or Running when the horizon comes ──► Unfinished
//
// A node failure never ends a job: it goes back to the queue as often as
// its nodes fail (Job.Failures counts the times), with no retry limit.
type State uint8

// Job states. Their names are part of the output schema.
const (
	Queued State = iota
	Running
	Preempted
	Completed
	Rejected
	Abandoned
	Unfinished
	Declined // the customer declined the price quoted at arrival
	NumStates
)

var stateNames = [NumStates]string{"queued", "running", "preempted", "completed", "rejected", "abandoned", "unfinished", "declined"}

func (s State) String() string {
	if s < NumStates {
		return stateNames[s]
	}
	return "state?"
}

// Terminal reports whether the job's life has ended.
func (s State) Terminal() bool { return s >= Completed }

// Waiting reports whether the job is in the queue.
func (s State) Waiting() bool { return s == Queued || s == Preempted }

// JobSpec is a job as a source describes it, before the simulation acts on it.
//
// Its fields are laid out by use: the first 64 bytes (one cache line) hold
// what the scheduling pass and a run's start and end read; the strings and
// what only the output reads come after.
type JobSpec struct {
	Submit   Time
	Work     Time // run time on H100s if never interrupted
	GPUs     int32
	Priority int32
	Milli    uint16        // share of each GPU, 1..fleet.FullGPU
	GPUTypes fleet.TypeSet // allowed GPU types; empty: any
	Segment  Segment
	// Hold marks a job that holds its GPUs for Work of wall-clock time
	// whatever their speed (a reserved contract's term, a serving replica's
	// hold), rather than doing Work of H100 compute.
	Hold     bool
	Patience Time // how long the customer waits in the queue; 0 = forever
	// Checkpoint is how often the job saves its state (0: never). Work since
	// the last checkpoint is lost when a run is interrupted.
	Checkpoint Time
	// Notice is the warning a job gets before a preemption takes effect
	// (spot: 120 s on AWS, 30 s on GCP); it keeps running meanwhile. 0: at once.
	Notice Time
	// TokenPriceMicroUSD (per million tokens), when > 0, bills the job by
	// the tokens it serves (Tokens) instead of by GPU-hour, and the pricer
	// does not quote it.
	TokenPriceMicroUSD int64

	ID     string
	Tenant string
	// Customer identifies an external customer (billing, support cost);
	// "" for internal work.
	Customer string
	// QoS is the trace's quality-of-service class, kept as given (openb:
	// LS, BE, Burstable, Guaranteed); "" if none.
	QoS string
	// WTPMicroUSD is the most the customer would pay per GPU-hour, in
	// micro-dollars: a quote above it is declined. 0: no limit (takes any
	// price).
	WTPMicroUSD int64
	Tokens      int64 // what a serving job serves over its run
	// CPUMilli and MemoryMiB are the job's host CPU (milli-cores) and memory
	// requests where the trace gives them; 0 if not. The fleet does not
	// model them yet: they are carried for trace conversion and placement
	// experiments.
	CPUMilli  int32
	MemoryMiB int32
}

// Demand returns what the job asks of the fleet.
func (s *JobSpec) Demand() fleet.Demand {
	return fleet.Demand{GPUs: s.GPUs, Milli: s.Milli, Types: s.GPUTypes}
}

// JobID identifies a job slot in the engine's job table while the job is
// alive. Slots are reused after a job ends: keep the JobSpec.ID, not the
// JobID, to refer to a job after its end.
type JobID int32

// Job is a job in the simulation. Policies and observers read it; only the
// engine changes it.
//
// Its fields are laid out by use, in 384 bytes (six cache lines; Go aligns
// the engine's job table to a page once it is over 32 KB): a run's start
// and end read and write the first three lines and JobSpec's first (the
// fourth), the scheduling pass JobSpec's first, and a walk over the running
// jobs (policies' occupancy) the third and fourth; the strings and what
// only the output reads are in the last two. TestJobLayout keeps it so.
type Job struct {
	Start     Time // start of the current run
	speed     float64
	rate      int64 // n$ per hour this run is billed (revenueRate)
	Remaining Time  // H100 work left
	RunTime   Time  // time spent running, over all runs
	overhead  Time  // restart overhead at the start of the current run
	// billed and billedBefore are the runs' GPU-hour bills so far, exactly,
	// in µ$ × milli-GPU-µs per GPU-hour (money.go), and their part before
	// the measurement window.
	billed wide

	// LostTime is the part of RunTime that did not advance the job: work
	// since the last checkpoint of interrupted runs, and restart overheads.
	LostTime Time
	// RunTimeBeforeWindow is the part of RunTime before the measurement
	// window opened (Config.Warmup): all of it for a job that ended before,
	// 0 for one that had not run by then.
	RunTimeBeforeWindow Time
	// RunPriceMicroUSD is the price per GPU-hour the current (or last) run
	// is billed: the quote for the GPU type it runs on (sim.TypeQuoter), or
	// PriceMicroUSD if the pricer prices every type alike.
	RunPriceMicroUSD int64
	// PriceMicroUSD is the price per GPU-hour quoted at arrival, for the
	// first GPU type (in placement order) the job allows, in micro-dollars
	// (0 for internal work): the price the customer accepts or declines.
	PriceMicroUSD int64
	FirstStart    Time   // -1 if never started
	End           Time   // when it reached a terminal state; -1 if it has not
	Reason        string // why a job was rejected, failed or is unfinished

	// The third line and JobSpec's first are what a walk over the running
	// jobs reads (policies' occupancy: state, type, notice, end, placement,
	// segment).
	State State
	live  bool // the slot holds a job that has not ended
	gen   uint32
	// restarts is the interruptions so far: each later run pays the
	// restart overhead.
	restarts int32
	Runs     int32         // runs ended so far (RunObserver.RunEnded calls)
	end      Time          // when the current run ends if not interrupted
	noticeAt Time          // when the current run's preemption notice ends; -1 if none
	Type     fleet.TypeID  // catalog type it last ran on; -1 if never
	Shares   []fleet.Share // the placement of the current run

	JobSpec

	// Arrival is the job's number among the arrivals of its segment (0,
	// 1, …, rejected and declined jobs included). Two runs whose sources
	// give the same jobs of a segment in the same order number them
	// alike, whatever other segments bring: the counterfactual and its
	// run pair their internal jobs by it.
	Arrival      int64
	billedBefore wide
	Preemptions  int32 // times it was preempted
	Failures     int32 // times a failure killed it
	_            [8]byte
}

// GPUHours returns the GPU-hours the job held, all runs together (a GPU
// share counts as that fraction of a GPU).
// It is GPUs × Milli/1000 × RunTime: the job holds the same GPUs and share
// in every run.
func (j *Job) GPUHours() float64 {
	return j.gpuWeight() * j.RunTime.Hours()
}

func (j *Job) gpuWeight() float64 { return float64(j.GPUs) * float64(j.Milli) / fleet.FullGPU }

// ExpectedEnd returns when the current run ends if nothing interrupts it
// (for a running job; backfilling plans with it).
func (j *Job) ExpectedEnd() Time { return j.end }

// WindowRunTime returns the part of RunTime inside the measurement window.
func (j *Job) WindowRunTime() Time { return j.RunTime - j.RunTimeBeforeWindow }

// WindowGPUHours returns the GPU-hours the job held inside the
// measurement window: GPUHours when the window is the whole run.
func (j *Job) WindowGPUHours() float64 {
	if j.RunTimeBeforeWindow == 0 {
		return j.GPUHours()
	}
	return j.gpuWeight() * j.WindowRunTime().Hours()
}

// LostGPUHours returns the GPU-hours the job held without progress: work
// since the last checkpoint of interrupted runs, and restart overheads.
func (j *Job) LostGPUHours() float64 {
	return j.gpuWeight() * j.LostTime.Hours()
}

// Preempting reports whether the job is running under a preemption notice.
func (j *Job) Preempting() bool { return j.State == Running && j.noticeAt >= 0 }

// Wait returns first start minus submit, or -1 if it never started.
func (j *Job) Wait() Time {
	if j.FirstStart < 0 {
		return -1
	}
	return j.FirstStart - j.Submit
}
