package policies

import (
	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Allocators.Register("fifo", "strict first come, first served: the head of the queue starts first (first-fit node order) and blocks everything behind it", func() Allocator { return &FIFO{} })
}

// FIFO is strict first come, first served with head-of-line blocking: it
// starts queued jobs in queue order while the head fits, placing each with
// first fit (the first node, in topology order, with room; multi-node gangs
// take whole free nodes in order); it stops at the first job that does not
// fit now. This is the classic FCFS discipline of batch schedulers without
// backfilling, and for single-GPU jobs on single-GPU nodes it is the M/M/c
// FIFO queue of queueing theory.
type FIFO struct {
	buf []fleet.Share
}

var _ Allocator = (*FIFO)(nil)

// Name returns "fifo".
func (*FIFO) Name() string { return "fifo" }

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
			panic("fifo: first fit proposed an invalid placement: " + err.Error())
		}
	}
}
