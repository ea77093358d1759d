package policies

import (
	"fmt"
	"math/bits"
	"slices"

	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Allocators.Register("priority", "internal before external, segments in a configurable order; preempts spot (with its notice) to admit higher-priority work", func() Allocator { return &Priority{} })
}

// Priority is strict priority scheduling by segment, with preemption of
// spot capacity, the way clouds run spot on capacity they would otherwise
// sell or use (AWS and GCP reclaim spot with a notice,
// ../shared/calibration/SOURCES.md §1c).
//
// Waiting jobs are served class by class in Order (default: internal,
// reserved, serving, on-demand, spot), each class in queue order, placed
// with first fit. The first job that does not fit blocks every job after it
// (head-of-line, as fifo), so a large job is never starved by small ones.
// If that blocked job outranks spot, Priority looks for the placement of it
// that the fewest preemptions would make possible: GPUs of one type it
// allows, on one node (or, for a gang, entirely free nodes, as first fit
// places it), that are free or held only by spot jobs. It preempts the spot
// jobs on those GPUs and no others; they get their notice period and lose
// the work since their last checkpoint. If no such placement exists
// (other work holds every candidate) it preempts nothing and the job waits;
// while GPUs it could use are under notice it preempts nothing more. Only
// spot is ever preempted: never internal, on-demand, serving or reserved
// work (the engine also refuses to preempt reserved capacity).
type Priority struct {
	// Order lists the segments from the highest priority to the lowest;
	// segments not listed come last in their default order.
	Order []string `yaml:"order,omitempty"`

	rank      [sim.NumSegments]int         // set by EnsureDefaults from Order
	segment   [sim.NumSegments]sim.Segment // the segment of each rank
	buf       []fleet.Share
	victims   []sim.JobID
	occ       occupancy
	cands     []gangCand
	nCands    int // the gang's nodes: cands[:nCands] (cheapestGang)
	gangNodes []fleet.NodeID
	pick      []uint64    // by position in occ.nodes: the GPUs to free there
	coming    []comingGPU // noticeNode's list

	// The last preemptFor that preempted nothing, for this job on this
	// fleet: see preemptFor.
	idle struct {
		job     *sim.Job
		id      string
		fleet   fleet.View
		free    bool         // it found a placement that needed no preemption
		node    fleet.NodeID // that placement's node; -1: a gang, or none found
		version uint64       // fleet.TakenVersion if free, else fleet.Version
	}
}

var _ Allocator = (*Priority)(nil)

// Name returns "priority".
func (*Priority) Name() string { return "priority" }

var defaultOrder = []sim.Segment{sim.SegInternal, sim.SegReserved, sim.SegServing, sim.SegOnDemand, sim.SegSpot}

// EnsureDefaults ranks the segments: those in Order first, in its order,
// then the others in their default order. Names Validate rejects are
// skipped here.
func (a *Priority) EnsureDefaults() {
	var seen [sim.NumSegments]bool
	n := 0
	for _, name := range a.Order {
		if s, err := sim.ParseSegment(name); err == nil && !seen[s] {
			seen[s] = true
			a.rank[s] = n
			n++
		}
	}
	for _, s := range defaultOrder {
		if !seen[s] {
			a.rank[s] = n
			n++
		}
	}
	for s, r := range a.rank {
		a.segment[r] = sim.Segment(s)
	}
}

// Validate checks Order: known segment names, each at most once.
func (a *Priority) Validate() error {
	var seen [sim.NumSegments]bool
	for i, name := range a.Order {
		s, err := sim.ParseSegment(name)
		if err != nil {
			return fmt.Errorf("order[%d]: %v", i, err)
		}
		if seen[s] {
			return fmt.Errorf("order[%d]: segment %s listed twice", i, s)
		}
		seen[s] = true
	}
	return nil
}

// Schedule starts jobs by class and preempts spot for a blocked job.
func (a *Priority) Schedule(v *sim.View, p *sim.Plan) {
	f := v.Fleet()
	// Classes in rank order; within a class, queue order. The queue is
	// walked in place: a start takes the job out of it, and the next job
	// moves into its index (nothing else changes the queue during a pass:
	// it ends at the first blocked job, after any preemption). Copying the
	// queue instead cost O(queue) a pass, most of an overloaded run's time.
	for rank := 0; rank < int(sim.NumSegments); rank++ {
		seg := a.segment[rank]
		// The class's jobs not yet met: the walk stops after its last one
		// (reading each queued job to learn its class is a cache miss, and
		// most classes have few jobs waiting, often none).
		left := v.Queued(seg)
		q := v.Queue()
		for i := 0; left > 0 && i < len(q); {
			id := q[i]
			j := v.Job(id)
			if j.Segment != seg {
				i++
				continue
			}
			left--
			shares, _, ok := f.FirstFit(j.Demand(), a.buf[:0])
			a.buf = shares
			if ok {
				if err := p.Start(id, shares); err != nil {
					panic("priority: first fit proposed an invalid placement: " + err.Error())
				}
				q = v.Queue()
				continue
			}
			if seg != sim.SegSpot && rank < a.rank[sim.SegSpot] {
				a.preemptFor(v, p, j)
			}
			return // head-of-line: nothing after a blocked job starts
		}
	}
}

// preemptFor preempts the running spot jobs that keep j from one
// placement of its GPUs, the placement that needs the fewest GPUs freed
// (see Priority). It preempts nothing if no placement can be freed by
// preempting spot, or if one needs no further preemption (its GPUs are
// free or held by jobs already under notice): then it waits.
func (a *Priority) preemptFor(v *sim.View, p *sim.Plan, j *sim.Job) {
	if v.BusyMilli(sim.SegSpot) == 0 {
		return // no spot job runs: nothing to preempt
	}
	f := v.Fleet()
	if a.stillIdle(f, j) {
		return
	}
	a.idle.job = nil
	version, taken := f.Version(), f.TakenVersion()
	if n, ok := a.noticeNode(v, f, j); ok {
		// A placement on n needs no preemption (best would be 0 below).
		a.setIdle(j, f, true, n, taken)
		return
	}
	// Only the spot jobs' holdings (and those under notice) are recorded;
	// every other job's hold of a GPU is what is neither free nor theirs.
	a.occ.sizes(f)
	a.occ.build(v, j.GPUTypes, false)
	best, bestGang, bestNode := a.cheapest(f, j)
	if best <= 0 {
		// Nothing to gain from preemption, or nothing more needed.
		switch {
		case best < 0:
			a.setIdle(j, f, false, -1, version)
		case bestGang:
			a.setIdle(j, f, true, -1, taken)
		default:
			a.setIdle(j, f, true, bestNode, taken)
		}
		return
	}
	a.pickGPUs(j, bestGang, bestNode)
	a.preemptPicked(p)
}

// stillIdle reports whether the last preemptFor that preempted nothing was
// for j on f, and what it read has not changed since, so that it would
// preempt nothing again.
//
// preemptFor reads j, the fleet's free shares and the running spot jobs
// and notices. Spot jobs start and stop, and notices run out, only with a
// change of the fleet; only preemptFor gives notices, which make GPUs
// cheaper. So while the fleet's version stays the same, a call that found
// no placement for j would find none again. One that found a placement
// needing no preemption (its GPUs free, or held by jobs under notice) would
// find that placement again as long as nothing on its node was taken (for
// a gang: nothing at all): freeing GPUs and giving notices only lower the
// cost of every GPU. A blocked job is looked at on every pass, most of
// them for arrivals and ends elsewhere that do not change this (a serving
// replica waits out the notices of the spot jobs it preempted while
// internal work starts on other nodes).
func (a *Priority) stillIdle(f fleet.View, j *sim.Job) bool {
	ic := &a.idle
	if ic.job != j || ic.id != j.ID || ic.fleet != f {
		return false
	}
	switch {
	case !ic.free:
		return ic.version == f.Version()
	case ic.node < 0:
		return ic.version == f.TakenVersion()
	}
	return f.NodeTakenVersion(ic.node) <= ic.version
}

// setIdle records a preemptFor for j on f that preempted nothing: free if
// it found a placement needing no preemption (on node, or -1 for a gang),
// with the fleet version stillIdle compares.
func (a *Priority) setIdle(j *sim.Job, f fleet.View, free bool, node fleet.NodeID, version uint64) {
	ic := &a.idle
	ic.job, ic.id, ic.fleet, ic.free, ic.node, ic.version = j, j.ID, f, free, node, version
}

// gpuCost is what a GPU costs a job asking need milli of it, from the
// occupancy: 0 if it is free now or once the notices given run out, 1 if
// spot jobs must be preempted, -1 if other work holds it.
func gpuCost(u occGPU, need int32) int {
	free := fleet.FullGPU - u.spot - u.coming - u.other
	switch {
	case free+u.coming >= need:
		return 0
	case free+u.coming+u.spot >= need:
		return 1
	}
	return -1
}

// cheapest finds j's placement that needs the fewest GPUs freed by
// preemption, over the types j allows, from the occupancy a.occ: best is
// that number (-1: no placement can be freed), on one node (bestNode) or,
// if bestGang, on the entirely free nodes listed in a.gangNodes.
func (a *Priority) cheapest(f fleet.View, j *sim.Job) (best int, bestGang bool, bestNode fleet.NodeID) {
	o := &a.occ
	g := int(j.GPUs)
	gang := j.Milli == fleet.FullGPU && o.mayNeedGang(f, j.GPUTypes, g)
	best, bestNode = -1, -1
	for _, t := range f.Types() {
		if !j.GPUTypes.Has(t) {
			continue
		}
		if c, n := a.cheapestNode(t, j); c >= 0 && (best < 0 || c < best) {
			best, bestGang, bestNode = c, false, n
		}
		if !gang {
			continue
		}
		if c, ok := a.cheapestGang(f, t, j); ok && (best < 0 || c < best) {
			best, bestGang = c, true
			a.gangNodes = a.gangNodes[:0]
			for _, gc := range a.cands[:a.nCands] {
				a.gangNodes = append(a.gangNodes, o.nodes[gc.k].node)
			}
		}
	}
	return best, bestGang, bestNode
}

// cheapestNode returns the fewest GPUs to free by preemption for j on one
// node of type t, and the first node (in occupancy order) that needs that
// few; -1 if no node can hold it. A node counts its g cheapest usable GPUs.
func (a *Priority) cheapestNode(t fleet.TypeID, j *sim.Job) (best int, node fleet.NodeID) {
	o := &a.occ
	g, need := int(j.GPUs), int32(j.Milli)
	best, node = -1, -1
	for k := range o.nodes {
		n := &o.nodes[k]
		if n.typ != t || int(n.count) < g {
			continue
		}
		var usable, c int
		for _, u := range o.gpus[n.off : n.off+n.count] {
			switch gpuCost(u, need) {
			case 0:
				usable++
			case 1:
				usable++
				c++
			}
		}
		if usable < g {
			continue
		}
		c = max(0, c-(usable-g)) // the cheapest g GPUs
		if best < 0 || c < best {
			best, node = c, n.node
		}
	}
	return best, node
}

// cheapestGang returns the fewest GPUs to free by preemption for gang j on
// entirely free nodes of type t, and whether enough nodes can be freed: the
// nodes that preempting spot frees, cheapest first, after the nodes free
// now (no spot job touches those). The nodes taken are a.cands[:a.nCands].
func (a *Priority) cheapestGang(f fleet.View, t fleet.TypeID, j *sim.Job) (int, bool) {
	o := &a.occ
	g, need := int64(j.GPUs), int32(j.Milli)
	have := f.GPUsOnFreeNodes(t)
	a.cands = a.cands[:0]
	for k := range o.nodes {
		n := &o.nodes[k]
		if n.typ != t {
			continue
		}
		c := 0
		for _, u := range o.gpus[n.off : n.off+n.count] {
			x := gpuCost(u, need)
			if x < 0 {
				c = -1
				break
			}
			c += x
		}
		if c >= 0 {
			a.cands = append(a.cands, gangCand{k: int32(k), cost: c})
		}
	}
	slices.SortFunc(a.cands, func(x, y gangCand) int {
		if x.cost != y.cost {
			return x.cost - y.cost
		}
		return int(o.nodes[x.k].node - o.nodes[y.k].node)
	})
	c, n := 0, 0
	for ; n < len(a.cands) && have < g; n++ {
		have += int64(o.nodes[a.cands[n].k].count)
		c += a.cands[n].cost
	}
	a.nCands = n
	return c, have >= g
}

// pickGPUs sets a.pick to the GPUs to free for j: the gang's nodes
// (a.gangNodes) whole, or the costly GPUs of bestNode in order until the
// free and coming ones make j's GPUs.
// Nodes no spot job or job under notice touches are left out: there is no
// one to preempt there.
func (a *Priority) pickGPUs(j *sim.Job, bestGang bool, bestNode fleet.NodeID) {
	o := &a.occ
	a.pick = slices.Grow(a.pick[:0], len(o.nodes))[:len(o.nodes)]
	clear(a.pick)
	if bestGang {
		for _, n := range a.gangNodes {
			if k, ok := o.find(n); ok {
				a.pick[k] = ^uint64(0)
			}
		}
		return
	}
	g, need := int(j.GPUs), int32(j.Milli)
	k, _ := o.find(bestNode)
	n := &o.nodes[k]
	have := 0
	for _, u := range o.gpus[n.off : n.off+n.count] {
		if gpuCost(u, need) == 0 {
			have++
		}
	}
	var mask uint64
	for i, u := range o.gpus[n.off : n.off+n.count] {
		if have >= g {
			break
		}
		if gpuCost(u, need) == 1 {
			mask |= 1 << i
			have++
		}
	}
	a.pick[k] = mask
}

// preemptPicked preempts every running spot job not under notice that
// holds a GPU in a.pick: of the jobs the occupancy's build recorded, which
// are every spot job on a node of the types the pass is for.
func (a *Priority) preemptPicked(p *sim.Plan) {
	a.victims = a.victims[:0]
	o := &a.occ
	for _, h := range o.held {
		if h.notice {
			continue
		}
		for _, sh := range o.heldShares[h.off : h.off+h.n] {
			if a.pick[sh.k]&sh.mask != 0 {
				a.victims = append(a.victims, h.id)
				break
			}
		}
	}
	for _, id := range a.victims {
		if err := p.Preempt(id); err != nil {
			panic("priority: preempting a running spot job failed: " + err.Error())
		}
	}
}

// noticeNode looks for a node on which j would fit once the jobs under a
// preemption notice there are gone: g GPUs of a type j allows whose free
// share plus the share held under notice is enough. If there is one,
// preemptFor would preempt nothing (best == 0: a placement costs no
// preemption); finding it from the jobs under notice alone, usually a
// handful, spares the walk over every running spot job (most of a loaded
// year's scheduling time went there, while a serving replica waited out the
// notices it had given).
func (a *Priority) noticeNode(v *sim.View, f fleet.View, j *sim.Job) (fleet.NodeID, bool) {
	a.coming = a.coming[:0]
	v.RunningPlaced(false, true, func(r sim.Placed) {
		if !j.GPUTypes.Has(r.Type) {
			return
		}
		for _, sh := range r.Shares {
			for m := sh.Mask; m != 0; m &= m - 1 {
				a.coming = append(a.coming, comingGPU{sh.Node, int32(bits.TrailingZeros64(m)), int32(sh.Milli)})
			}
		}
	})
	if len(a.coming) == 0 {
		return 0, false
	}
	slices.SortFunc(a.coming, func(x, y comingGPU) int {
		if x.node != y.node {
			return int(x.node - y.node)
		}
		return int(x.gpu - y.gpu)
	})
	need, g := int32(j.Milli), int(j.GPUs)
	for lo := 0; lo < len(a.coming); {
		n := a.coming[lo].node
		hi := lo
		for hi < len(a.coming) && a.coming[hi].node == n {
			hi++
		}
		if f.NodeGPUs(n) >= g {
			usable, k := 0, lo
			for gpu, free := range f.NodeFreeMilli(n) {
				gpu := int32(gpu)
				avail := int32(free)
				for ; k < hi && a.coming[k].gpu == gpu; k++ {
					avail += a.coming[k].milli
				}
				if avail >= need {
					usable++
				}
			}
			if usable >= g {
				return n, true
			}
		}
		lo = hi
	}
	return 0, false
}

// comingGPU is a GPU share held by a job under a preemption notice.
type comingGPU struct {
	node       fleet.NodeID
	gpu, milli int32
}

type gangCand struct {
	k    int32 // position in occupancy.nodes
	cost int   // GPUs to free by preemption
}
