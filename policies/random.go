package policies

import (
	"cmp"
	"math/rand/v2"
	"slices"

	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Allocators.Register("random", "FIFO queue; each job on a uniformly random node that fits (a baseline), deterministic per seed (param seed, default 1)", func() Allocator { return &Random{Seed: 1} })
}

// Random places each job on a node drawn uniformly at random among those
// with room for it: the null baseline that every placement study compares
// against: the one-choice baseline of the power-of-two-choices analysis
// (Mitzenmacher, IEEE TPDS 2001) and the random placement Sparrow starts
// from (Ousterhout et al., SOSP 2013).
//
// The rule, per GPU type in placement order (the first type where the job
// fits now):
//   - a whole-GPU job that fits on one node takes a node drawn uniformly
//     among the nodes with ≥ need wholly free GPUs: an entry drawn from the
//     fleet's node buckets k ≥ need, weighted by bucket size (O(classes ×
//     GPUs per node), no scan of the nodes); on the node, its first free
//     GPUs;
//   - a gang larger than every node's free GPUs takes entirely free nodes
//     drawn uniformly without replacement until its GPUs are covered (by
//     rejection while it needs at most half the free GPUs, else by a partial
//     shuffle of the free nodes: O(nodes taken) either way);
//   - a GPU share (gpu_milli < 1000) takes a GPU drawn uniformly among the
//     GPUs with at least that share free, shared or wholly free.
//
// Draws come from sim.Stream(Seed, "allocator/random", 0): a run is
// deterministic per seed and two seeds give different placements. The seed
// is the allocator's own parameter (allocator_params: {seed: N}, default 1)
// because an allocator does not see the run's seed; a sweep over seeds
// should set it too. The queue discipline is FIFO with head-of-line
// blocking, as fifo.
type Random struct {
	// Seed seeds the allocator's random stream.
	Seed uint64 `yaml:"seed"`

	q    queueWalk
	rng  *rand.Rand
	seen map[int]struct{}
	free []fleet.NodeID
}

var _ Allocator = (*Random)(nil)

// Name returns "random".
func (*Random) Name() string { return "random" }

// Schedule starts jobs from the head of the queue until one does not fit.
func (a *Random) Schedule(v *sim.View, p *sim.Plan) { a.q.schedule("random", v, p, a) }

func (a *Random) place(f fleet.View, d fleet.Demand, buf []fleet.Share) ([]fleet.Share, bool) {
	if a.rng == nil { // the stream starts at the first placement, from Seed
		a.rng = sim.Stream(a.Seed, "allocator/random", 0)
	}
	for _, t := range f.Types() {
		if !d.Types.Has(t) {
			continue
		}
		if d.Milli < fleet.FullGPU {
			if s, ok := a.gpu(f, t, d.Milli); ok {
				return append(buf, s), true
			}
			continue
		}
		need := int(d.GPUs)
		if n := a.node(f, t, need); n >= 0 {
			return append(buf, wholeShare(f, n, need, fleet.FullGPU)), true
		}
		if int64(need) <= f.GPUsOnFreeNodes(t) {
			return a.gang(f, t, need, buf), true
		}
	}
	return buf, false
}

// node returns a node of type t drawn uniformly among those with at least
// need wholly free GPUs, or -1.
func (a *Random) node(f fleet.View, t fleet.TypeID, need int) fleet.NodeID {
	w := 0
	for _, c := range f.Classes(t) {
		for k := f.NextFreeGPUCount(c, need); k >= 0; k = f.NextFreeGPUCount(c, k+1) {
			w += len(f.NodesWithFreeGPUs(c, k))
		}
	}
	if w == 0 {
		return -1
	}
	u := a.rng.IntN(w)
	for _, c := range f.Classes(t) {
		for k := f.NextFreeGPUCount(c, need); k >= 0; k = f.NextFreeGPUCount(c, k+1) {
			ns := f.NodesWithFreeGPUs(c, k)
			if u < len(ns) {
				return ns[u]
			}
			u -= len(ns)
		}
	}
	panic("random: bucket weights changed during a draw")
}

// gpu returns a share of milli on a GPU of type t drawn uniformly among
// those with at least milli free.
func (a *Random) gpu(f fleet.View, t fleet.TypeID, milli uint16) (fleet.Share, bool) {
	w := 0
	for v := f.NextSharedFree(t, int(milli)); v >= 0; v = f.NextSharedFree(t, v+1) {
		w += len(f.SharedGPUsWithFree(t, v))
	}
	for _, c := range f.Classes(t) {
		for k := f.NextFreeGPUCount(c, 1); k >= 0; k = f.NextFreeGPUCount(c, k+1) {
			w += k * len(f.NodesWithFreeGPUs(c, k))
		}
	}
	if w == 0 {
		return fleet.Share{}, false
	}
	u := a.rng.IntN(w)
	for v := f.NextSharedFree(t, int(milli)); v >= 0; v = f.NextSharedFree(t, v+1) {
		gs := f.SharedGPUsWithFree(t, v)
		if u < len(gs) {
			n, j := f.GPUNode(gs[u])
			return fleet.Share{Node: n, Milli: milli, Mask: 1 << j}, true
		}
		u -= len(gs)
	}
	for _, c := range f.Classes(t) {
		for k := f.NextFreeGPUCount(c, 1); k >= 0; k = f.NextFreeGPUCount(c, k+1) {
			ns := f.NodesWithFreeGPUs(c, k)
			if u < k*len(ns) {
				n := ns[u/k]
				// The (u mod k)-th wholly free GPU of the node.
				free := f.NodeFreeMilli(n)
				for j, skip := 0, u%k; ; j++ {
					if free[j] == fleet.FullGPU {
						if skip == 0 {
							return fleet.Share{Node: n, Milli: milli, Mask: 1 << j}, true
						}
						skip--
					}
				}
			}
			u -= k * len(ns)
		}
	}
	panic("random: bucket weights changed during a draw")
}

// gang appends entirely free nodes of type t drawn uniformly without
// replacement until need GPUs are covered; the caller checked there are
// enough.
func (a *Random) gang(f fleet.View, t fleet.TypeID, need int, buf []fleet.Share) []fleet.Share {
	start := len(buf)
	total := 0
	for _, c := range f.Classes(t) {
		total += len(f.NodesWithFreeGPUs(c, f.ClassGPUs(c)))
	}
	take := func(n fleet.NodeID) {
		k := min(need, f.NodeGPUs(n))
		buf = append(buf, fleet.Share{Node: n, Milli: fleet.FullGPU, Mask: lowMask(k)})
		need -= k
	}
	if int64(2*need) > f.GPUsOnFreeNodes(t) {
		// Most of the free nodes go: shuffle them (partially).
		a.free = a.free[:0]
		for _, c := range f.Classes(t) {
			a.free = append(a.free, f.NodesWithFreeGPUs(c, f.ClassGPUs(c))...)
		}
		for i := 0; need > 0; i++ {
			j := i + a.rng.IntN(len(a.free)-i)
			a.free[i], a.free[j] = a.free[j], a.free[i]
			take(a.free[i])
		}
	} else {
		if a.seen == nil {
			a.seen = map[int]struct{}{}
		}
		clear(a.seen)
		for need > 0 {
			u := a.rng.IntN(total)
			if _, dup := a.seen[u]; dup {
				continue
			}
			a.seen[u] = struct{}{}
			for _, c := range f.Classes(t) {
				ns := f.NodesWithFreeGPUs(c, f.ClassGPUs(c))
				if u < len(ns) {
					take(ns[u])
					break
				}
				u -= len(ns)
			}
		}
	}
	slices.SortFunc(buf[start:], func(x, y fleet.Share) int { return cmp.Compare(x.Node, y.Node) })
	return buf
}
