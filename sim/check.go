package sim

import (
	"fmt"
	"math/bits"

	"neosim/sim/fleet"
)

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
	for n := range e.nodeJobs.owner {
		ids := e.nodeJobs.on(fleet.NodeID(n))
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
	if e.nodeJobs.owner != nil && pairs != shares {
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
