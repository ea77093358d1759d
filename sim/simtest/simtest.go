// Package simtest is a small harness for tests of the engine and its
// observers: a minimal FIFO allocator, a flat per-segment pricer, a Poisson
// source with exponential (or any drawn) durations built on sim.Stream, a
// fixed-list source, an observer that keeps each ended job, and a fleet
// helper. It lets tests under sim/ run the engine without importing the
// real policies or workloads, which sit in layers above it.
//
// Nothing here is tuned or calibrated: the real policies live in policies/,
// the real generators in workloads/.
package simtest

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"neosim/sim"
	"neosim/sim/fleet"
)

// FIFO is strict first come, first served: it starts queued jobs in queue
// order, each on the first node(s) with room (fleet first fit), and stops at
// the first job that does not fit now (head-of-line blocking). On
// single-GPU jobs and single-GPU nodes it is the M/M/c FIFO queue.
type FIFO struct{ buf []fleet.Share }

var _ sim.Allocator = (*FIFO)(nil)

// Name returns "simtest-fifo".
func (*FIFO) Name() string { return "simtest-fifo" }

// Schedule starts jobs from the head of the queue until one does not fit.
func (a *FIFO) Schedule(v *sim.View, p *sim.Plan) {
	f := v.Fleet()
	for len(v.Queue()) > 0 {
		id := v.Queue()[0]
		shares, _, ok := f.FirstFit(v.Job(id).Demand(), a.buf[:0])
		a.buf = shares
		if !ok {
			return
		}
		if err := p.Start(id, shares); err != nil {
			panic("simtest: first fit proposed an invalid placement: " + err.Error())
		}
	}
}

// Flat quotes a fixed price per GPU-hour, in micro-dollars, by segment.
type Flat [sim.NumSegments]int64

var _ sim.Pricer = (*Flat)(nil)

// Name returns "simtest-flat".
func (*Flat) Name() string { return "simtest-flat" }

// Quote returns the segment's price.
func (p *Flat) Quote(_ *sim.View, j *sim.Job) int64 { return p[j.Segment] }

// Draw draws one value (seconds, GPUs) from a random stream.
type Draw func(r *rand.Rand) float64

// Const always draws v.
func Const(v float64) Draw { return func(*rand.Rand) float64 { return v } }

// Exp draws from the exponential distribution of the given mean.
func Exp(mean float64) Draw { return func(r *rand.Rand) float64 { return r.ExpFloat64() * mean } }

// Choice draws one of values, each with probability proportional to its
// weight.
func Choice(values, weights []float64) Draw {
	if len(values) != len(weights) || len(values) == 0 {
		panic("simtest: Choice needs as many weights as values, at least one")
	}
	var total float64
	for _, w := range weights {
		total += w
	}
	return func(r *rand.Rand) float64 {
		u := r.Float64() * total
		for i, w := range weights {
			if u < w {
				return values[i]
			}
			u -= w
		}
		return values[len(values)-1]
	}
}

// Poisson describes jobs that arrive as a Poisson process at RatePerHour,
// with shapes drawn independently per job. Zero fields take defaults: 1 GPU,
// whole GPUs, no patience, checkpoint or notice.
type Poisson struct {
	Name        string
	Segment     sim.Segment
	RatePerHour float64
	GPUs        Draw // rounded to a whole number ≥ 1; nil: 1
	Work        Draw // seconds on an H100; required
	Patience    Draw // seconds; nil: waits forever
	Milli       uint16
	Checkpoint  sim.Time
	Notice      sim.Time
	// Until stops arrivals at this time (exclusive); MaxJobs after this
	// many jobs. One of them must be set.
	Until   sim.Time
	MaxJobs int64
}

// Source returns the job stream for seed. Each job takes a fixed number of
// draws from the stream sim.Stream(seed, "simtest/"+Name, 0), in a fixed
// order, so the same seed gives the same jobs whatever the policy.
func (w Poisson) Source(seed uint64) sim.Source {
	if w.Work == nil || !(w.RatePerHour > 0) || (w.Until <= 0 && w.MaxJobs <= 0) {
		panic("simtest: a Poisson source needs Work, RatePerHour > 0 and Until or MaxJobs")
	}
	if w.GPUs == nil {
		w.GPUs = Const(1)
	}
	if w.Milli == 0 {
		w.Milli = fleet.FullGPU
	}
	if w.Until <= 0 {
		w.Until = sim.Forever
	}
	return &poisson{w: w, rng: sim.Stream(seed, "simtest/"+w.Name, 0), meanGap: 3600 / w.RatePerHour}
}

type poisson struct {
	w       Poisson
	rng     *rand.Rand
	meanGap float64 // seconds
	t       float64 // seconds
	n       int64
}

func (s *poisson) Name() string { return "simtest " + s.w.Name }
func (s *poisson) Err() error   { return nil }

func (s *poisson) Next(j *sim.JobSpec) bool {
	if s.w.MaxJobs > 0 && s.n >= s.w.MaxJobs {
		return false
	}
	s.t += s.rng.ExpFloat64() * s.meanGap
	gpus := s.w.GPUs(s.rng)
	work := s.w.Work(s.rng)
	var patience float64
	if s.w.Patience != nil {
		patience = s.w.Patience(s.rng)
	}
	at := sim.FromSeconds(s.t)
	if at >= s.w.Until {
		return false
	}
	s.n++
	*j = sim.JobSpec{
		ID:         s.w.Name + "-" + strconv.FormatInt(s.n, 10),
		Submit:     at,
		GPUs:       int32(max(1, math.Round(gpus))),
		Milli:      s.w.Milli,
		Tenant:     s.w.Name,
		Segment:    s.w.Segment,
		Work:       max(sim.Microsecond, sim.FromSeconds(work)),
		Checkpoint: s.w.Checkpoint,
		Notice:     s.w.Notice,
	}
	if s.w.Patience != nil {
		j.Patience = max(sim.Microsecond, sim.FromSeconds(patience))
	}
	return true
}

// List is a source that replays fixed jobs, in order (their Submit times
// must not decrease).
type List struct {
	Jobs []sim.JobSpec
	i    int
}

// Name returns "simtest list".
func (s *List) Name() string { return "simtest list" }

// Err returns nil: a list never fails.
func (s *List) Err() error { return nil }

// Next returns the next job of the list.
func (s *List) Next(j *sim.JobSpec) bool {
	if s.i >= len(s.Jobs) {
		return false
	}
	*j = s.Jobs[s.i]
	s.i++
	return true
}

// Ends is an observer that keeps a copy of every ended job by ID.
type Ends map[string]sim.Job

// JobStarted does nothing.
func (Ends) JobStarted(*sim.Job) {}

// JobEnded keeps a copy of j.
func (e Ends) JobEnded(j *sim.Job) { e[j.ID] = *j }

// Sampled does nothing.
func (Ends) Sampled(*sim.Sample) {}

// Fleet builds a fleet of n nodes of gpus GPUs of type typ (e.g. "H100"),
// failing the test if the fleet is invalid.
func Fleet(t testing.TB, n, gpus int, typ string) *fleet.Fleet {
	t.Helper()
	return Groups(t, fleet.Group{Nodes: n, GPUsPerNode: gpus, Type: typ})
}

// Groups builds a fleet of node groups, failing the test if it is invalid.
func Groups(t testing.TB, groups ...fleet.Group) *fleet.Fleet {
	t.Helper()
	f, err := fleet.New(groups)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
