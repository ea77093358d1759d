package sim

import (
	"fmt"
	"math/bits"

	"neosim/sim/fleet"
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
// per 64 job slots), not with every job in flight.
func (v *View) RunningIn(segs SegmentSet, notice bool, fn func(id JobID, j *Job)) {
	jobs := v.e.jobs
	v.e.run.each(segs, notice, func(id JobID) { fn(id, &jobs[id]) })
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

// Check verifies the engine's invariants: the fleet's own, capacity
// conservation (allocated milli-GPU equals the running jobs' holdings, per
// segment too), every live job in exactly one place, and the queue counters.
func (e *Engine) Check() error {
	if err := e.fleet.Check(); err != nil {
		return err
	}
	var busy, queued [NumSegments]int64
	inQueue := make(map[JobID]bool, len(e.queue))
	for _, id := range e.queue {
		if inQueue[id] {
			return fmt.Errorf("job slot %d is queued twice", id)
		}
		inQueue[id] = true
		j := &e.jobs[id]
		if !j.live || !j.State.Waiting() {
			return fmt.Errorf("job %q is in the queue but %v", j.ID, j.State)
		}
		queued[j.Segment]++
	}
	held := make(map[[2]int64]int64)
	for i := range e.jobs {
		j := &e.jobs[i]
		if !j.live {
			continue
		}
		if run := hasBit(e.run.seg[j.Segment], JobID(i)); run != (j.State == Running) {
			return fmt.Errorf("job %q is %v but the running index says running=%v", j.ID, j.State, run)
		}
		if hasBit(e.run.notice, JobID(i)) != j.Preempting() {
			return fmt.Errorf("job %q: the notice index disagrees with its notice (%v)", j.ID, j.Preempting())
		}
		switch {
		case j.State == Running:
			busy[j.Segment] += int64(j.GPUs) * int64(j.Milli)
			n := 0
			for _, s := range j.Shares {
				n += s.GPUs()
				for m := s.Mask; m != 0; m &= m - 1 {
					k := [2]int64{int64(s.Node), int64(bits.TrailingZeros64(m))}
					held[k] += int64(s.Milli)
					if held[k] > fleet.FullGPU {
						return fmt.Errorf("GPU %d of node %d is held beyond its capacity (job %q)", k[1], k[0], j.ID)
					}
				}
			}
			if n != int(j.GPUs) {
				return fmt.Errorf("running job %q holds %d GPUs, wants %d", j.ID, n, j.GPUs)
			}
		case j.State.Waiting():
			if !inQueue[JobID(i)] {
				return fmt.Errorf("job %q is %v but not in the queue", j.ID, j.State)
			}
		default:
			return fmt.Errorf("live job %q is in state %v", j.ID, j.State)
		}
	}
	if busy != e.busyMilli {
		return fmt.Errorf("busy counters %v, running jobs hold %v", e.busyMilli, busy)
	}
	if queued != e.queued {
		return fmt.Errorf("queued counters %v, queue holds %v", e.queued, queued)
	}
	pairs := 0
	for n, ids := range e.nodeJobs {
		if len(ids) > 0 && e.fleet.Down(fleet.NodeID(n)) {
			return fmt.Errorf("node %d is down but runs %d jobs", n, len(ids))
		}
		for _, id := range ids {
			j := &e.jobs[id]
			on := false
			for _, sh := range j.Shares {
				on = on || int(sh.Node) == n
			}
			if !j.live || j.State != Running || !on {
				return fmt.Errorf("node %d lists job %q (%v), which does not run there", n, j.ID, j.State)
			}
			pairs++
		}
	}
	var shares int
	for i := range e.jobs {
		if j := &e.jobs[i]; j.live && j.State == Running {
			shares += len(j.Shares)
		}
	}
	if e.nodeJobs != nil && pairs != shares {
		return fmt.Errorf("node index lists %d job placements, running jobs have %d", pairs, shares)
	}
	var total int64
	for _, b := range busy {
		total += b
	}
	if used := e.fleet.UsedMilli(); used != total {
		return fmt.Errorf("fleet has %d milli-GPU allocated, running jobs hold %d", used, total)
	}
	return nil
}
