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

	rank      [sim.NumSegments]int // set by EnsureDefaults from Order
	buf       []fleet.Share
	victims   []sim.JobID
	occ       occupancy
	cands     []gangCand
	gangNodes []fleet.NodeID
	pick      map[fleet.NodeID]uint64 // node → GPUs to free
	coming    []comingGPU             // noticeNode's list

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
		q := v.Queue()
		for i := 0; i < len(q); {
			id := q[i]
			j := v.Job(id)
			if a.rank[j.Segment] != rank || !j.State.Waiting() {
				i++
				continue
			}
			shares, _, ok := f.FirstFit(j.Demand(), a.buf[:0])
			a.buf = shares
			if ok {
				if err := p.Start(id, shares); err != nil {
					panic("priority: first fit proposed an invalid placement: " + err.Error())
				}
				q = v.Queue()
				continue
			}
			if j.Segment != sim.SegSpot && a.rank[j.Segment] < a.rank[sim.SegSpot] {
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
	// What follows reads j, the fleet's free shares and the running spot
	// jobs and notices. Spot jobs start and stop, and notices run out, only
	// with a change of the fleet; only this method gives notices, which
	// make GPUs cheaper. So while the fleet's version stays the same, a call
	// that found no placement for j would find none again. One that found a
	// placement needing no preemption (best == 0: its GPUs free, or held by
	// jobs under notice) would find that placement again as long as nothing
	// on its node was taken (for a gang: nothing at all): freeing GPUs and
	// giving notices only lower the cost of every GPU. A blocked job is
	// looked at on every pass, most of them for arrivals and ends elsewhere
	// that do not change this (a serving replica waits out the notices of
	// the spot jobs it preempted while internal work starts on other nodes).
	if ic := &a.idle; ic.job == j && ic.id == j.ID && ic.fleet == f {
		switch {
		case !ic.free && ic.version == f.Version(),
			ic.free && ic.node < 0 && ic.version == f.TakenVersion(),
			ic.free && ic.node >= 0 && f.NodeTakenVersion(ic.node) <= ic.version:
			return
		}
	}
	a.idle.job = nil
	version, taken := f.Version(), f.TakenVersion()
	if n, ok := a.noticeNode(v, f, j); ok {
		// A placement on n needs no preemption (best would be 0 below).
		ic := &a.idle
		ic.job, ic.id, ic.fleet, ic.free, ic.node, ic.version = j, j.ID, f, true, n, taken
		return
	}
	o := &a.occ
	g := int(j.GPUs)
	o.sizes(f)
	gang := j.Milli == fleet.FullGPU && o.mayNeedGang(f, j.GPUTypes, g)
	// Only the spot jobs' holdings (and those under notice) are recorded;
	// every other job's hold of a GPU is what is neither free nor theirs.
	o.build(v, j.GPUTypes, false)
	need := int32(j.Milli)
	// cost of a GPU for j: 0 if free now or once the notices given run
	// out, 1 if spot jobs must be preempted, -1 if other work holds it.
	cost := func(u occGPU) int {
		free := fleet.FullGPU - u.spot - u.coming - u.other
		switch {
		case free+u.coming >= need:
			return 0
		case free+u.coming+u.spot >= need:
			return 1
		}
		return -1
	}
	best, bestGang, bestNode := -1, false, fleet.NodeID(-1)
	for _, t := range f.Types() {
		if !j.GPUTypes.Has(t) {
			continue
		}
		// On one node: its g cheapest usable GPUs.
		for k := range o.nodes {
			n := &o.nodes[k]
			if n.typ != t || int(n.count) < g {
				continue
			}
			var usable, c int
			for _, u := range o.gpus[n.off : n.off+n.count] {
				switch cost(u) {
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
				best, bestGang, bestNode = c, false, n.node
			}
		}
		if !gang {
			continue
		}
		// A gang on entirely free nodes: the nodes that preempting spot
		// frees, cheapest first, after the nodes free now (no spot job
		// touches those).
		have := f.GPUsOnFreeNodes(t)
		a.cands = a.cands[:0]
		for k := range o.nodes {
			n := &o.nodes[k]
			if n.typ != t {
				continue
			}
			c := 0
			for _, u := range o.gpus[n.off : n.off+n.count] {
				if x := cost(u); x < 0 {
					c = -1
					break
				} else {
					c += x
				}
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
		for ; n < len(a.cands) && have < int64(g); n++ {
			have += int64(o.nodes[a.cands[n].k].count)
			c += a.cands[n].cost
		}
		if have >= int64(g) && (best < 0 || c < best) {
			best, bestGang = c, true
			a.gangNodes = a.gangNodes[:0]
			for _, gc := range a.cands[:n] {
				a.gangNodes = append(a.gangNodes, o.nodes[gc.k].node)
			}
		}
	}
	if best <= 0 {
		// Nothing to gain from preemption, or nothing more needed.
		ic := &a.idle
		ic.job, ic.id, ic.fleet, ic.free, ic.node, ic.version = j, j.ID, f, false, -1, version
		if best == 0 {
			ic.free, ic.version = true, taken
			if !bestGang {
				ic.node = bestNode
			}
		}
		return
	}
	// The GPUs to free: the gang's nodes, or the node's costly GPUs in
	// order until the free and coming ones make g.
	if a.pick == nil {
		a.pick = map[fleet.NodeID]uint64{}
	}
	clear(a.pick)
	if bestGang {
		for _, n := range a.gangNodes {
			a.pick[n] = ^uint64(0)
		}
	} else {
		k, _ := o.find(bestNode)
		n := &o.nodes[k]
		have := 0
		for _, u := range o.gpus[n.off : n.off+n.count] {
			if cost(u) == 0 {
				have++
			}
		}
		var mask uint64
		for i, u := range o.gpus[n.off : n.off+n.count] {
			if have >= g {
				break
			}
			if cost(u) == 1 {
				mask |= 1 << i
				have++
			}
		}
		a.pick[bestNode] = mask
	}
	a.victims = a.victims[:0]
	v.RunningIn(sim.Segments(sim.SegSpot), false, func(id sim.JobID, r *sim.Job) {
		if r.Segment != sim.SegSpot || r.Preempting() {
			return
		}
		for _, sh := range r.Shares {
			if a.pick[sh.Node]&sh.Mask != 0 {
				a.victims = append(a.victims, id)
				return
			}
		}
	})
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
	v.RunningIn(0, true, func(_ sim.JobID, r *sim.Job) {
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
			for gpu := range int32(f.NodeGPUs(n)) {
				avail := int32(f.NodeFreeMilli(n, int(gpu)))
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
