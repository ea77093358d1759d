package policies

import (
	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Allocators.Register("bestfit", "FIFO queue; each job on the node it fills most tightly (fewest wholly free GPUs left), from free-capacity buckets", func() Allocator { return &BestFit{} })
}

// BestFit is best fit: the job goes to the node where it leaves the fewest
// wholly free GPUs behind, the bin-packing heuristic that keeps large holes
// for large jobs (the best-fit bin-packing heuristic, D. S. Johnson, "Fast
// algorithms for bin packing", 1974; Borg scores machines by best fit
// versus worst fit and notes that best fit leaves the most room for large
// tasks, Verma et al., EuroSys 2015, §3.2).
//
// The rule, per GPU type in placement order:
//   - a whole-GPU job that fits on one node takes the node with the smallest
//     k ≥ need wholly free GPUs (leftover k − need); on a tie a partly
//     allocated node beats an entirely free one (which stays whole for a
//     gang), then the class with fewer GPUs per node; among equal nodes any
//     one (the index's bucket order);
//   - a gang larger than every node's free GPUs takes entirely free nodes in
//     topology order, as firstfit: every entirely free node leaves the same
//     zero behind, so best fit has nothing to choose, and topology order
//     keeps the gang in few racks;
//   - a GPU share (gpu_milli < 1000) takes the partly allocated GPU with the
//     least free share that fits (exact: shared GPUs are bucketed by their
//     free milli); if none fits, a wholly free GPU on the tightest node as
//     for a one-GPU job.
//
// It reads the fleet's bucket indexes (fleet.View's NextFreeGPUCount, NextSharedFree):
// O(node classes + 16) per decision, never a scan of the nodes. The queue
// discipline is FIFO with head-of-line blocking, as fifo.
type BestFit struct {
	q queueWalk
}

var _ Allocator = (*BestFit)(nil)

// Name returns "bestfit".
func (*BestFit) Name() string { return "bestfit" }

// Schedule starts jobs from the head of the queue until one does not fit.
func (a *BestFit) Schedule(v *sim.View, p *sim.Plan) { a.q.schedule("bestfit", v, p, a) }

func (*BestFit) place(f fleet.View, d fleet.Demand, buf []fleet.Share) ([]fleet.Share, bool) {
	return placeByType(f, d, buf, tightestAny, gangFirstFit)
}

// tightestAny is tightestNode over partly and entirely free nodes.
func tightestAny(f fleet.View, t fleet.TypeID, need int) fleet.NodeID {
	return tightestNode(f, t, need, false)
}
