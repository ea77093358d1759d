package policies

import (
	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Allocators.Register("packing", "FIFO queue; each job on the most allocated node that fits (k8s MostAllocated), keeping whole nodes free for gangs", func() Allocator { return &Packing{} })
}

// Packing packs jobs onto nodes that are already partly used, the most
// allocated first, so that entirely free nodes stay free for multi-node
// gangs: Kubernetes' MostAllocated scoring strategy of the NodeResourcesFit
// plugin (score = requested / allocatable after placement, highest wins;
// k8s pkg/scheduler/framework/plugins/noderesources/most_allocated.go), with
// GPUs as the one resource.
//
// The rule, per GPU type in placement order:
//   - a whole-GPU job that fits on one node takes the node with the highest
//     allocated fraction after placement, (size − k + need) / size for a
//     node of size GPUs with k wholly free; an entirely free node scores
//     need / size, so it is taken only when no partly used node fits. Ties go
//     to a partly used node, then to the fewer GPUs left free, then to the
//     class with fewer GPUs per node. Within a class the best score is the
//     smallest k ≥ need, read from the bucket index: O(node classes).
//   - a gang larger than every node's free GPUs takes entirely free nodes in
//     topology order, as firstfit (a gang never shares a node).
//   - a GPU share (gpu_milli < 1000) goes onto a GPU that is already shared,
//     the one with the least free share that fits, else a wholly free GPU on
//     the most allocated node as for a one-GPU job.
//
// On a fleet whose nodes of a type all have the same GPU count, the highest
// fraction is the smallest k, so packing and bestfit choose from the same
// bucket and agree; they differ across node sizes (bestfit minimizes the
// GPUs left, packing maximizes the fraction used: a 16-GPU node with 12 used
// beats a 4-GPU node with 1 used for packing, not for bestfit). The queue
// discipline is FIFO with head-of-line blocking, as fifo.
type Packing struct {
	q queueWalk
}

var _ Allocator = (*Packing)(nil)

// Name returns "packing".
func (*Packing) Name() string { return "packing" }

// Schedule starts jobs from the head of the queue until one does not fit.
func (a *Packing) Schedule(v *sim.View, p *sim.Plan) { a.q.schedule("packing", v, p, a) }

func (*Packing) place(f fleet.View, d fleet.Demand, buf []fleet.Share) ([]fleet.Share, bool) {
	return placeByType(f, d, buf, mostAllocated, gangFirstFit)
}

// mostAllocated returns the node of type t with room for need whole GPUs
// and the highest allocated fraction after placement, or -1.
func mostAllocated(f fleet.View, t fleet.TypeID, need int) fleet.NodeID {
	bestC, bestK, bestSize := fleet.ClassID(-1), 0, 1
	for _, c := range f.Classes(t) {
		size := f.ClassGPUs(c)
		k := f.NextFreeGPUCount(c, need)
		if k < 0 {
			continue
		}
		if bestC < 0 {
			bestC, bestK, bestSize = c, k, size
			continue
		}
		// Compare (size−k+need)/size with (bestSize−bestK+need)/bestSize.
		used, bestUsed := size-k+need, bestSize-bestK+need
		part, bestPart := k < size, bestK < bestSize
		switch l, r := used*bestSize, bestUsed*size; {
		case l > r, l == r && part && !bestPart, l == r && part == bestPart && k-need < bestK-need:
			bestC, bestK, bestSize = c, k, size
		}
	}
	if bestC < 0 {
		return -1
	}
	return pick(f, bestC, bestK)
}
