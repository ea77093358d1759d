package policies

import (
	"math/bits"

	"neosim/sim"
	"neosim/sim/fleet"
)

// occupancy is one pass's per-GPU picture of the nodes that running jobs
// touch (of some GPU types), built from one walk over View.Running. Nodes
// no running job touches are either entirely free or under repair. Shared
// by backfill (free times) and priority (who holds each GPU). Its node
// lookup is a dense array stamped per pass: no map, no clearing.
type occupancy struct {
	// node → its position in nodes, where the entry's stamp is gen. One
	// array of both: a lookup of a node is one cache miss, not two.
	slot  []occSlot
	gen   uint32
	nodes []occNode
	gpus  []occGPU

	// The spot jobs and jobs under notice that a build without all
	// recorded, in slot order, each with its shares as (node position,
	// GPUs): what preempting picked GPUs reads (Priority.preemptPicked),
	// sequentially, instead of walking the running jobs again.
	held       []occHeld
	heldShares []occShare

	minSize  [fleet.MaxTypes]int // smallest node of each GPU type
	sizedFor int                 // the fleet's node count when minSize was computed
}

type occSlot struct {
	stamp uint32 // the pass that set k
	k     int32
}

type occNode struct {
	node       fleet.NodeID
	off, count int32 // its first GPU in gpus, its GPU count
	typ        fleet.TypeID
	full       sim.Time // when every job on it has ended
}

type occGPU struct {
	freeAt sim.Time // latest expected end of the jobs on it; 0 if none
	// Milli-GPU held by spot jobs not under notice, by jobs under a
	// preemption notice, and by every other job.
	spot, coming, other int32
}

type occHeld struct {
	id     sim.JobID
	notice bool
	off, n int32 // its shares in heldShares
}

type occShare struct {
	k    int32 // the node's position in nodes
	mask uint64
}

// sizes computes the smallest node of each type, once per fleet.
func (o *occupancy) sizes(f fleet.View) {
	if o.sizedFor == f.Nodes() && o.slot != nil {
		return
	}
	o.sizedFor = f.Nodes()
	o.slot = make([]occSlot, f.Nodes())
	o.gen = 0
	for i := range o.minSize {
		o.minSize[i] = fleet.MaxGPUsPerNode + 1
	}
	for n := range fleet.NodeID(f.Nodes()) {
		t := f.NodeType(n)
		o.minSize[t] = min(o.minSize[t], f.NodeGPUs(n))
	}
}

// mayNeedGang reports whether a job of g whole GPUs could need several nodes
// of some type in types: only then is a gang placement worth planning (a
// set of entirely free nodes that covers g otherwise holds one node that
// fits g alone, and frees no later).
func (o *occupancy) mayNeedGang(f fleet.View, types fleet.TypeSet, g int) bool {
	for _, t := range f.Types() {
		if types.Has(t) && g > o.minSize[t] {
			return true
		}
	}
	return false
}

// find returns node n's position in nodes, if a running job touches it.
func (o *occupancy) find(n fleet.NodeID) (int32, bool) {
	if s := o.slot[n]; s.stamp == o.gen {
		return s.k, true
	}
	return 0, false
}

// build walks the running jobs of types once. With all false it records
// only the jobs that preemption concerns (spot, and jobs under notice),
// from the engine's compact copy of their placements (View.RunningPlaced),
// lists them in held, and derives every other job's hold of their GPUs from
// the free share.
func (o *occupancy) build(v *sim.View, types fleet.TypeSet, all bool) {
	f := v.Fleet()
	o.sizes(f)
	o.gen++
	if o.gen == 0 { // wrapped: forget every stamp
		clear(o.slot)
		o.gen = 1
	}
	o.nodes, o.gpus = o.nodes[:0], o.gpus[:0]
	o.held, o.heldShares = o.held[:0], o.heldShares[:0]
	add := func(r sim.Placed) {
		if !types.Has(r.Type) {
			return
		}
		if !all {
			o.held = append(o.held, occHeld{id: r.ID, notice: r.Notice, off: int32(len(o.heldShares)), n: int32(len(r.Shares))})
		}
		for _, sh := range r.Shares {
			k, ok := o.find(sh.Node)
			if !ok {
				k = int32(len(o.nodes))
				o.slot[sh.Node] = occSlot{stamp: o.gen, k: k}
				c := int32(f.NodeGPUs(sh.Node))
				o.nodes = append(o.nodes, occNode{node: sh.Node, off: int32(len(o.gpus)), count: c, typ: f.NodeType(sh.Node)})
				for range c {
					o.gpus = append(o.gpus, occGPU{})
				}
			}
			if !all {
				o.heldShares = append(o.heldShares, occShare{k: k, mask: sh.Mask})
			}
			n := &o.nodes[k]
			n.full = max(n.full, r.End)
			for m := sh.Mask; m != 0; m &= m - 1 {
				u := &o.gpus[n.off+int32(bits.TrailingZeros64(m))]
				u.freeAt = max(u.freeAt, r.End)
				switch {
				case r.Notice:
					u.coming += int32(sh.Milli)
				case r.Segment == sim.SegSpot:
					u.spot += int32(sh.Milli)
				default:
					u.other += int32(sh.Milli)
				}
			}
		}
	}
	if all {
		v.Running(func(id sim.JobID, r *sim.Job) { add(sim.PlacedOf(id, r)) })
	} else {
		v.RunningPlaced(true, true, add)
	}
	if !all {
		for k := range o.nodes {
			n := &o.nodes[k]
			gpus := o.gpus[n.off : n.off+n.count]
			for j, free := range f.NodeFreeMilli(n.node) {
				u := &gpus[j]
				u.other = fleet.FullGPU - int32(free) - u.spot - u.coming
			}
		}
	}
}

// untouchedFree returns the GPUs of type t on nodes no running job touches
// and that are up: all of them are free. It needs a build with all set.
func (o *occupancy) untouchedFree(f fleet.View, t fleet.TypeID) int64 {
	free := f.WhollyFreeGPUs(t)
	for k := range o.nodes {
		n := &o.nodes[k]
		if n.typ != t {
			continue
		}
		for _, u := range o.gpus[n.off : n.off+n.count] {
			if u.spot+u.coming+u.other == 0 {
				free--
			}
		}
	}
	return free
}
