package policies

import (
	"neosim/sim"
	"neosim/sim/fleet"
)

// The node-choice allocators (firstfit, bestfit, packing, random, topology)
// share one queue discipline — FIFO with head-of-line blocking, as fifo —
// and differ only in where a job goes. Each implements placer in its own
// file and schedules with queueWalk; the helpers below are the shared
// mechanics of turning a chosen node into a Share.
//
// Every rule tries the GPU types the job allows in the fleet's placement
// order (f.Types(), as FirstFit) and places the job on the first type where
// it fits now, so node choice, not type choice, is what these policies
// compare. Gangs larger than any node's free GPUs take entirely free nodes
// (never sharing a node with another job, as FirstFit).

// placer is a node-choice rule.
type placer interface {
	// place appends to buf a placement of d that fits f now and returns
	// it, or returns buf unchanged and false if d does not fit now. It
	// must not scan every node.
	place(f fleet.View, d fleet.Demand, buf []fleet.Share) ([]fleet.Share, bool)
}

// queueWalk is the queue discipline of the node-choice allocators: start
// jobs from the head of the queue while the head fits, and stop at the
// first one that does not (head-of-line blocking, no backfilling).
type queueWalk struct {
	buf []fleet.Share
}

// schedule starts jobs from the head of the queue, placed by pl, until one
// does not fit. name prefixes the panic raised if pl proposes a placement
// the engine refuses (a bug in the rule).
func (q *queueWalk) schedule(name string, v *sim.View, p *sim.Plan, pl placer) {
	f := v.Fleet()
	for len(v.Queue()) > 0 {
		id := v.Queue()[0]
		shares, ok := pl.place(f, v.Job(id).Demand(), q.buf[:0])
		q.buf = shares
		if !ok {
			return
		}
		if err := p.Start(id, shares); err != nil {
			panic(name + ": proposed an invalid placement: " + err.Error())
		}
	}
}

// lowMask is the mask of GPUs 0..k-1 (for k = 64 the shift yields 0 and the
// subtraction wraps to all ones).
func lowMask(k int) uint64 { return uint64(1)<<k - 1 }

// wholeShare is a share of k wholly free GPUs of node n with milli each:
// the node's first k wholly free GPUs.
func wholeShare(f fleet.View, n fleet.NodeID, k int, milli uint16) fleet.Share {
	var m uint64
	if k == f.NodeGPUs(n) {
		m = lowMask(k)
	} else {
		free := f.NodeFreeMilli(n)
		for j := 0; k > 0; j++ {
			if free[j] == fleet.FullGPU {
				m |= 1 << j
				k--
			}
		}
	}
	return fleet.Share{Node: n, Milli: milli, Mask: m}
}

// tightestShared returns a share of milli on the partly allocated GPU of
// type t with the least free share that fits (best fit among shared GPUs,
// which keeps whole GPUs whole), or false if no shared GPU fits.
func tightestShared(f fleet.View, t fleet.TypeID, milli uint16) (fleet.Share, bool) {
	v := f.NextSharedFree(t, int(milli))
	if v < 0 {
		return fleet.Share{}, false
	}
	gs := f.SharedGPUsWithFree(t, v)
	n, j := f.GPUNode(gs[len(gs)-1])
	return fleet.Share{Node: n, Milli: milli, Mask: 1 << j}, true
}

// pick returns a node of class c with k wholly free GPUs (the last of the
// bucket: any one will do, and the choice is deterministic).
func pick(f fleet.View, c fleet.ClassID, k int) fleet.NodeID {
	ns := f.NodesWithFreeGPUs(c, k)
	return ns[len(ns)-1]
}

// tightestNode returns the node of type t whose wholly free GPUs exceed
// need by the least (best fit), preferring a partly allocated node to an
// entirely free one on a tie, then the class with fewer GPUs per node; or
// -1. O(classes of t).
func tightestNode(f fleet.View, t fleet.TypeID, need int, partlyOnly bool) fleet.NodeID {
	bestC, bestK, bestLeft, bestPart := fleet.ClassID(-1), 0, 0, false
	for _, c := range f.Classes(t) {
		size := f.ClassGPUs(c)
		k := f.NextFreeGPUCount(c, need)
		if k < 0 || partlyOnly && k == size {
			continue
		}
		left, part := k-need, k < size
		if bestC < 0 || left < bestLeft || left == bestLeft && part && !bestPart {
			bestC, bestK, bestLeft, bestPart = c, k, left, part
		}
	}
	if bestC < 0 {
		return -1
	}
	return pick(f, bestC, bestK)
}

// takeFree appends shares of entirely free nodes of [lo, hi), in node order,
// until need GPUs are covered (the last node may be taken in part), and
// returns the GPUs still missing.
func takeFree(f fleet.View, lo, hi fleet.NodeID, need int, buf []fleet.Share) ([]fleet.Share, int) {
	for need > 0 {
		n := f.FirstFreeNode(lo, hi)
		if n < 0 {
			break
		}
		k := min(need, f.NodeGPUs(n))
		buf = append(buf, fleet.Share{Node: n, Milli: fleet.FullGPU, Mask: lowMask(k)})
		need -= k
		lo = n + 1
	}
	return buf, need
}

// gangFirstFit places a whole-GPU job of type t on entirely free nodes in
// topology order, as FirstFit does when no single node fits.
func gangFirstFit(f fleet.View, d fleet.Demand, t fleet.TypeID, buf []fleet.Share) ([]fleet.Share, bool) {
	shares, _, ok := f.FirstFit(fleet.Demand{GPUs: d.GPUs, Milli: d.Milli, Types: fleet.Only(t)}, buf)
	return shares, ok
}

// placeByType is the placement skeleton of the node-choice policies: for
// each GPU type the job allows, in placement order, a GPU share goes on the
// tightest shared GPU if one fits; else a single-node job goes on the node
// that node picks (-1: none); else a whole-GPU gang is placed by gang.
func placeByType(f fleet.View, d fleet.Demand, buf []fleet.Share,
	node func(f fleet.View, t fleet.TypeID, need int) fleet.NodeID,
	gang func(f fleet.View, d fleet.Demand, t fleet.TypeID, buf []fleet.Share) ([]fleet.Share, bool),
) ([]fleet.Share, bool) {
	for _, t := range f.Types() {
		if !d.Types.Has(t) {
			continue
		}
		if d.Milli < fleet.FullGPU {
			if s, ok := tightestShared(f, t, d.Milli); ok {
				return append(buf, s), true
			}
		}
		if n := node(f, t, int(d.GPUs)); n >= 0 {
			return append(buf, wholeShare(f, n, int(d.GPUs), d.Milli)), true
		}
		if d.Milli == fleet.FullGPU {
			if shares, ok := gang(f, d, t, buf); ok {
				return shares, true
			}
		}
	}
	return buf, false
}
