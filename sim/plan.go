package sim

import (
	"fmt"
	"unsafe"

	"neosim/sim/fleet"
	"neosim/sim/internal/prefetch"
)

// View is the read-only window an Allocator or Pricer gets on the run.
// Pointers it returns must not be modified.
type View struct{ e *Engine }

// Now returns the current simulated time.
func (v *View) Now() Time { return v.e.now }

// Fleet returns the fleet's read-only view.
func (v *View) Fleet() fleet.View { return v.e.fleet }

// Queue returns the waiting jobs in queue order (arrival order; a preempted
// job goes back to the tail). The slice changes as the Plan starts jobs: an
// allocator that starts jobs while iterating should iterate over a copy or
// re-read Queue after each start.
func (v *View) Queue() []JobID { return v.e.queue }

// Queued returns the number of seg's jobs in the queue. O(1).
func (v *View) Queued(seg Segment) int64 { return v.e.queued[seg] }

// BusyMilli returns the milli-GPU (fleet.FullGPU to a whole GPU) that seg's
// running jobs hold now. O(1).
func (v *View) BusyMilli(seg Segment) int64 { return v.e.busyMilli[seg] }

// Job returns the job in slot id.
func (v *View) Job(id JobID) *Job { return &v.e.jobs[id] }

// Running calls fn for every running job, in slot order.
func (v *View) Running(fn func(id JobID, j *Job)) {
	v.RunningIn(AllSegments, false, fn)
}

// RunningIn calls fn, in slot order, for every running job of a segment in
// segs and, with notice, for every running job under a preemption notice
// (whatever its segment). Its cost grows with the jobs it visits (and a word
// per 64 job slots), not with every job in flight. fn may preempt the job
// it is handed; whether a job that fn otherwise starts or stops is still
// visited is not defined (collect such jobs, then act).
//
// The jobs visited are scattered over the slot array, so each is a cache
// miss; RunningIn prefetches a job's slot runAhead jobs before it hands the
// job to fn, so that those misses overlap rather than come one after
// another.
func (v *View) RunningIn(segs SegmentSet, notice bool, fn func(id JobID, j *Job)) {
	jobs := v.e.jobs
	v.e.run.eachAhead(segs, notice, func(id JobID) {
		prefetch.Line(unsafe.Pointer(&jobs[id].gen)) // the lines fn reads first
		prefetch.Line(unsafe.Pointer(&jobs[id].Segment))
	}, func(id JobID) { fn(id, &jobs[id]) })
}

// Placed is a running job's placement, as RunningPlaced hands it over.
type Placed struct {
	ID      JobID
	Type    fleet.TypeID // the GPU type it runs on
	Segment Segment
	// Notice reports whether it runs under a preemption notice
	// (Job.Preempting).
	Notice bool
	End    Time          // when its run ends if nothing interrupts it (Job.ExpectedEnd)
	Shares []fleet.Share // its placement; not to be modified or kept
}

// PlacedOf returns running job j's placement, as RunningPlaced hands it
// over, for walks over other running jobs (RunningIn) that share code with
// RunningPlaced's.
func PlacedOf(id JobID, j *Job) Placed {
	return Placed{ID: id, Type: j.Type, Segment: j.Segment, Notice: j.Preempting(), End: j.end, Shares: j.Shares}
}

// RunningPlaced calls fn, in slot order, with the placement of every
// running spot job (with spot) and of every running job under a preemption
// notice (with notice): the jobs preemption concerns, as RunningIn with
// Segments(SegSpot) and notice would visit them. It reads the engine's
// compact copy of their placements (a quarter of a cache line each) rather
// than the jobs (three lines each), prefetched runAhead jobs ahead of fn. fn may
// preempt the job it is handed; whether a job that fn otherwise starts or
// stops is still visited is not defined (collect such jobs, then act).
func (v *View) RunningPlaced(spot, notice bool, fn func(p Placed)) {
	var segs SegmentSet
	if spot {
		segs = Segments(SegSpot)
	}
	e := v.e
	recs := e.run.placed
	e.run.eachAhead(segs, notice, func(id JobID) {
		prefetch.Line(unsafe.Pointer(&recs[id])) // the line fn's Placed comes from
	}, func(id JobID) {
		r := &recs[id]
		p := Placed{ID: id, Type: fleet.TypeID(r.typ), Segment: r.seg, Notice: r.notice, End: r.end, Shares: r.first[:]}
		if r.multi {
			p.Shares = e.jobs[id].Shares
		}
		fn(p)
	})
}

// Plan is how an Allocator acts: each call is validated and applied at
// once, or refused with an error wrapping ErrPlan (and nothing changes).
type Plan struct{ e *Engine }

// Start starts waiting job id on shares.
func (p *Plan) Start(id JobID, shares []fleet.Share) error {
	e := p.e
	if int(id) < 0 || int(id) >= len(e.jobs) || !e.jobs[id].live {
		return fmt.Errorf("%w: start: no job in slot %d", ErrPlan, id)
	}
	j := &e.jobs[id]
	if !j.State.Waiting() {
		return fmt.Errorf("%w: start: job %q is %v, not waiting", ErrPlan, j.ID, j.State)
	}
	if err := e.fleet.Validate(j.Demand(), shares); err != nil {
		return fmt.Errorf("%w: start job %q: %v", ErrPlan, j.ID, err)
	}
	e.start(id, shares, e.fleet.NodeType(shares[0].Node))
	return nil
}

// Preempt asks running job id to stop: at once, or when its notice period
// (JobSpec.Notice) runs out; it keeps running meanwhile. It then returns to
// the queue with its remaining work, less the work since its last
// checkpoint. Reserved capacity is never preempted: the fleet honours a
// reserved contract for its whole term.
func (p *Plan) Preempt(id JobID) error {
	e := p.e
	if int(id) < 0 || int(id) >= len(e.jobs) || !e.jobs[id].live || e.jobs[id].State != Running {
		return fmt.Errorf("%w: preempt: slot %d holds no running job", ErrPlan, id)
	}
	if j := &e.jobs[id]; j.Segment == SegReserved {
		return fmt.Errorf("%w: preempt: job %q is reserved capacity", ErrPlan, j.ID)
	}
	e.preempt(id)
	return nil
}
