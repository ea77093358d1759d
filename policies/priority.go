package policies

import (
	"fmt"

	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Allocators.Register("priority", "internal before external, segments in a configurable order; preempts spot (with its notice) to admit higher-priority work", func() Allocator { return &Priority{} })
}

// Priority is strict priority scheduling by segment, with preemption of
// spot capacity, the way clouds run spot on capacity they would otherwise
// sell or use (AWS and GCP reclaim spot with a notice,
// ../shared/calibration/SOURCES.md §1c).
//
// Waiting jobs are served class by class in Order (default: internal,
// reserved, serving, on-demand, spot), each class in queue order, placed
// with first fit. The first job that does not fit blocks every job after it
// (head-of-line, as fifo), so a large job is never starved by small ones.
// If that blocked job outranks spot, Priority preempts running spot jobs of
// the GPU types it can use, newest first, until the GPUs they hold and the
// free ones cover its demand; the spot jobs get their notice period and
// lose the work since their last checkpoint. Reserved jobs are never
// preempted (the engine refuses). It preempts again only once the GPUs
// already under notice have been freed.
type Priority struct {
	// Order lists the segments from the highest priority to the lowest;
	// segments not listed come last in their default order.
	Order []string `yaml:"order,omitempty"`

	rank    [sim.NumSegments]int
	ready   bool
	buf     []fleet.Share
	victims []sim.JobID
	queue   []sim.JobID
}

var _ Allocator = (*Priority)(nil)

// Name returns "priority".
func (*Priority) Name() string { return "priority" }

var defaultOrder = []sim.Segment{sim.SegInternal, sim.SegReserved, sim.SegServing, sim.SegOnDemand, sim.SegSpot}

// Validate checks Order and fixes the ranks.
func (a *Priority) Validate() error {
	seen := map[sim.Segment]bool{}
	n := 0
	for i, name := range a.Order {
		s, err := sim.ParseSegment(name)
		if err != nil {
			return fmt.Errorf("order[%d]: %v", i, err)
		}
		if seen[s] {
			return fmt.Errorf("order[%d]: segment %s listed twice", i, s)
		}
		seen[s] = true
		a.rank[s] = n
		n++
	}
	for _, s := range defaultOrder {
		if !seen[s] {
			a.rank[s] = n
			n++
		}
	}
	a.ready = true
	return nil
}

// Schedule starts jobs by class and preempts spot for a blocked job.
func (a *Priority) Schedule(v *sim.View, p *sim.Plan) {
	if !a.ready {
		a.Validate()
	}
	f := v.Fleet()
	// Classes in rank order; within a class, queue order. Starting jobs
	// changes v.Queue(), so walk a copy.
	a.queue = append(a.queue[:0], v.Queue()...)
	for rank := 0; rank < int(sim.NumSegments); rank++ {
		for _, id := range a.queue {
			j := v.Job(id)
			if a.rank[j.Segment] != rank || !j.State.Waiting() {
				continue
			}
			shares, _, ok := f.FirstFit(j.Demand(), a.buf[:0])
			a.buf = shares
			if ok {
				if err := p.Start(id, shares); err != nil {
					panic("priority: first fit proposed an invalid placement: " + err.Error())
				}
				continue
			}
			if j.Segment != sim.SegSpot && a.rank[j.Segment] < a.rank[sim.SegSpot] {
				a.preemptFor(v, p, j)
			}
			return // head-of-line: nothing after a blocked job starts
		}
	}
}

// preemptFor asks spot jobs to leave until, with the free GPUs, they cover
// j's demand. It does nothing while spot GPUs are already under notice.
func (a *Priority) preemptFor(v *sim.View, p *sim.Plan, j *sim.Job) {
	f := v.Fleet()
	var free, coming float64
	for _, t := range f.Types() {
		if j.GPUTypes.Has(t) {
			free += float64(f.FreeWholeGPUs(t))
		}
	}
	a.victims = a.victims[:0]
	v.Running(func(id sim.JobID, r *sim.Job) {
		if r.Segment != sim.SegSpot || !j.GPUTypes.Has(r.Type) {
			return
		}
		if r.Preempting() {
			coming += float64(r.GPUs)
			return
		}
		a.victims = append(a.victims, id)
	})
	if coming > 0 {
		return // wait for the notices already given
	}
	need := float64(j.GPUs) * float64(j.Milli) / fleet.FullGPU
	for k := len(a.victims) - 1; k >= 0 && free < need; k-- { // newest slots last is not guaranteed; any order is fair here
		id := a.victims[k]
		if err := p.Preempt(id); err == nil {
			free += float64(v.Job(id).GPUs)
		}
	}
}
