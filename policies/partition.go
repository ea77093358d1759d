package policies

import (
	"fmt"
	"math"

	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Allocators.Register("partition", "a share of the fleet reserved for internal work: external jobs start only while external use stays within the rest; FIFO per lane", func() Allocator { return &Partition{InternalShare: defaultInternalShare} })
}

// defaultInternalShare is the part of the fleet kept for internal work by
// default: half [U] (an even split to sweep from, not an observed policy).
const defaultInternalShare = 0.5

// Partition keeps a fixed share of the fleet for the owner's own work, the
// static partitioning that a company selling spare capacity starts from. An
// external job (any segment but internal) starts only if the GPUs held by
// external jobs after it starts (View.BusyMilli over the external segments,
// plus the job's GPUs × gpu_milli / 1000) stay at or below
// (1 − internal_share) × the fleet's GPUs. Internal jobs may use every GPU,
// the external part included when it is idle. Partition never preempts: an
// internal job that needs GPUs external jobs hold waits for them to end.
// The cap counts GPUs, not particular nodes: which nodes external jobs use
// is first fit's choice.
//
// Queue order is two FIFO lanes over the one queue. Jobs are taken in
// queue order, placed with first fit; an internal job that does not fit
// stops the pass (it blocks the internal lane and every external job behind
// it, which would otherwise take the GPUs it waits for); an external job
// that does not fit, or would exceed the cap, blocks only the external jobs
// behind it, so internal jobs behind it still start.
type Partition struct {
	// InternalShare is the share of the fleet's GPUs kept for internal work,
	// in [0, 1] (default 0.5). 0 lets external jobs use every GPU; 1 admits
	// no external job.
	InternalShare float64 `yaml:"internal_share"`

	buf []fleet.Share
}

var _ Allocator = (*Partition)(nil)

// Name returns "partition".
func (*Partition) Name() string { return "partition" }

// Validate checks InternalShare.
func (a *Partition) Validate() error {
	if !(a.InternalShare >= 0 && a.InternalShare <= 1) {
		return fmt.Errorf("internal_share: must be in [0, 1], got %v", a.InternalShare)
	}
	return nil
}

// ExternalCapMilli returns the most milli-GPU external jobs may hold on a
// fleet of gpus GPUs.
func (a *Partition) ExternalCapMilli(gpus int) int64 {
	// The epsilon absorbs binary rounding: (1 − 0.3) × 10 GPUs is 7 GPUs.
	return int64(math.Floor((1-a.InternalShare)*float64(gpus)*fleet.FullGPU + 1e-6))
}

// Schedule starts jobs lane by lane in queue order.
func (a *Partition) Schedule(v *sim.View, p *sim.Plan) {
	f := v.Fleet()
	limit := a.ExternalCapMilli(f.GPUs())
	var ext int64 // milli-GPU external jobs hold
	for s := sim.Segment(0); s < sim.NumSegments; s++ {
		if s.External() {
			ext += v.BusyMilli(s)
		}
	}
	extBlocked := false
	// Walk the queue in place: a start removes the job from it (nothing
	// else changes it here: partition never preempts), so the next job
	// moves into the index of the one started. Copying the queue instead
	// cost O(queue) a pass, most of the time of an overloaded run.
	q := v.Queue()
	for i := 0; i < len(q); {
		id := q[i]
		j := v.Job(id)
		external := j.Segment.External()
		want := int64(j.GPUs) * int64(j.Milli)
		if external && (extBlocked || ext+want > limit) {
			extBlocked = true
			i++
			continue
		}
		shares, _, ok := f.FirstFit(j.Demand(), a.buf[:0])
		a.buf = shares
		if !ok {
			if !external {
				return
			}
			extBlocked = true
			i++
			continue
		}
		if err := p.Start(id, shares); err != nil {
			panic("partition: first fit proposed an invalid placement: " + err.Error())
		}
		if external {
			ext += want
		}
		q = v.Queue()
	}
}
