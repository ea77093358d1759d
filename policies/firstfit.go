package policies

import (
	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Allocators.Register("firstfit", "FIFO queue; each job on the first node in topology order with room (the same node choice as fifo)", func() Allocator { return &FirstFit{} })
}

// FirstFit is first fit: the job goes to the first node, in topology order
// (GPU type in catalog order, then region, datacenter, rack, node), with
// room for it; a gang larger than any node's free GPUs takes entirely free
// nodes in that order, so it stays in as few racks as the free nodes allow
// by accident of numbering. It is the classic first-fit bin-packing
// heuristic and the default node choice of batch schedulers (Slurm's
// linear select plugin walks nodes in order).
//
// The queue discipline is FIFO with head-of-line blocking (queueWalk), so
// firstfit makes exactly fifo's decisions: fifo is firstfit's node choice
// with the queue walk written out; firstfit exists so that the node-choice
// allocators (firstfit, bestfit, packing, random, topology) compare under
// one discipline and one name scheme.
type FirstFit struct {
	q queueWalk
}

var _ Allocator = (*FirstFit)(nil)

// Name returns "firstfit".
func (*FirstFit) Name() string { return "firstfit" }

// Schedule starts jobs from the head of the queue until one does not fit.
func (a *FirstFit) Schedule(v *sim.View, p *sim.Plan) { a.q.schedule("firstfit", v, p, a) }

func (*FirstFit) place(f fleet.View, d fleet.Demand, buf []fleet.Share) ([]fleet.Share, bool) {
	shares, _, ok := f.FirstFit(d, buf)
	return shares, ok
}
