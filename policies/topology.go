package policies

import (
	"cmp"
	"slices"

	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Allocators.Register("topology", "FIFO queue; gangs in the fewest racks (NVLink domains), the tightest rack that holds them; single-node jobs best fit, sparing free racks", func() Allocator { return &Topology{} })
}

// scanRacks bounds the racks topology inspects for a single-node job when
// node sizes of a type differ (only then can a rack with enough free GPUs
// have no node big enough); past it, it falls back to best fit.
const scanRacks = 64

// Topology keeps jobs inside the fewest racks (NVLink domains, fleet.Rack),
// because a gang spread over racks runs slower (sim.Config.SpreadPenalty):
// the locality-aware placement of Gandiva (Xiao et al., OSDI 2018) and
// Tiresias (Gu et al., NSDI 2019), with the switch-tree best fit of Slurm's
// topology/tree plugin, which picks the lowest switch that can hold a job
// and, among those, the one with the fewest free nodes.
//
// The rule, per GPU type in placement order:
//   - a gang larger than every node's free GPUs takes entirely free nodes
//     (never sharing a node, as firstfit): if one rack's entirely free nodes
//     hold it, the rack with the fewest such GPUs that does (best fit over
//     racks, which spares larger holes for larger gangs); else the fewest
//     racks: racks by most free GPUs first, until one untaken rack can hold
//     the rest, and then the tightest such rack. Taking the largest racks
//     first gives the minimum number of racks. Within a rack, nodes in
//     order.
//   - a whole-GPU job that fits on one node takes the tightest partly used
//     node (best fit, as bestfit), which leaves entirely free nodes alone;
//     if only entirely free nodes fit, it opens one in the rack with the
//     fewest GPUs on entirely free nodes: the rack least useful to a gang.
//   - a GPU share (gpu_milli < 1000) takes the tightest shared GPU, else a
//     whole GPU as for a one-GPU job.
//
// It reads the fleet's rack index (fleet.View's NextRackFreeGPUs, PrevRackFreeGPUs,
// RacksWithFreeGPUs, FirstFreeNode): O((racks used + nodes used) × log nodes) per
// gang, never a scan of the nodes. The queue discipline is FIFO with
// head-of-line blocking, as fifo.
type Topology struct {
	q queueWalk
}

var _ Allocator = (*Topology)(nil)

// Name returns "topology".
func (*Topology) Name() string { return "topology" }

// Schedule starts jobs from the head of the queue until one does not fit.
func (a *Topology) Schedule(v *sim.View, p *sim.Plan) { a.q.schedule("topology", v, p, a) }

func (*Topology) place(f fleet.View, d fleet.Demand, buf []fleet.Share) ([]fleet.Share, bool) {
	return placeByType(f, d, buf, sparingNode, func(f fleet.View, d fleet.Demand, t fleet.TypeID, buf []fleet.Share) ([]fleet.Share, bool) {
		if int64(d.GPUs) > f.GPUsOnFreeNodes(t) {
			return buf, false
		}
		return rackGang(f, t, int(d.GPUs), buf)
	})
}

// sparingNode returns the node for a single-node job of need whole GPUs:
// the tightest partly used node, else an entirely free node in the rack
// with the fewest GPUs on entirely free nodes; or -1.
func sparingNode(f fleet.View, t fleet.TypeID, need int) fleet.NodeID {
	if n := tightestNode(f, t, need, true); n >= 0 {
		return n
	}
	fits := false // is some entirely free node big enough?
	for _, c := range f.Classes(t) {
		size := f.ClassGPUs(c)
		fits = fits || size >= need && len(f.NodesWithFreeGPUs(c, size)) > 0
	}
	if !fits {
		return -1
	}
	scanned := 0
	for c := f.NextRackFreeGPUs(t, max(need, 1)); c >= 0 && scanned < scanRacks; c = f.NextRackFreeGPUs(t, c+1) {
		rs := f.RacksWithFreeGPUs(t, c)
		for i := len(rs) - 1; i >= 0 && scanned < scanRacks; i-- {
			lo, hi := f.RackNodes(rs[i])
			if f.NodeGPUs(lo) >= need { // a rack's nodes all have one size
				return f.FirstFreeNode(lo, hi)
			}
			scanned++
		}
	}
	return tightestNode(f, t, need, false)
}

// rackGang places a gang of need GPUs of type t on entirely free nodes in
// the fewest racks; the caller checked that the free nodes hold it.
func rackGang(f fleet.View, t fleet.TypeID, need int, buf []fleet.Share) ([]fleet.Share, bool) {
	start := len(buf)
	take := func(r fleet.RackID, need int) int {
		lo, hi := f.RackNodes(r)
		var left int
		buf, left = takeFree(f, lo, hi, need, buf)
		return left
	}
	if c := f.NextRackFreeGPUs(t, need); c >= 0 {
		rs := f.RacksWithFreeGPUs(t, c)
		take(rs[len(rs)-1], need)
		return buf, true
	}
	// Racks are taken whole from the largest count down: every rack in a
	// bucket above cur, and the first i of bucket cur, are taken.
	cur := f.PrevRackFreeGPUs(t, f.MaxRackGPUs(t))
	i := 0
	for need > 0 {
		if c := f.NextRackFreeGPUs(t, need); c >= 0 && (c < cur || c == cur && i < len(f.RacksWithFreeGPUs(t, cur))) {
			// An untaken rack holds the rest: the tightest one. (In bucket
			// cur the untaken racks are from i on, so the last is one.)
			rs := f.RacksWithFreeGPUs(t, c)
			need = take(rs[len(rs)-1], need)
			break
		}
		for cur > 0 && i >= len(f.RacksWithFreeGPUs(t, cur)) {
			cur, i = f.PrevRackFreeGPUs(t, cur-1), 0
		}
		if cur <= 0 {
			return buf[:start], false // unreachable while GPUsOnFreeNodes is right
		}
		need = take(f.RacksWithFreeGPUs(t, cur)[i], need)
		i++
	}
	if need > 0 {
		return buf[:start], false
	}
	slices.SortFunc(buf[start:], func(x, y fleet.Share) int { return cmp.Compare(x.Node, y.Node) })
	return buf, true
}
