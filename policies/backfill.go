package policies

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Allocators.Register("backfill", "EASY backfilling: FIFO, and later jobs jump a blocked head only if they cannot delay its reservation", func() Allocator { return &Backfill{} })
}

// defaultMaxCandidates bounds the jobs behind the head that one pass tries
// to backfill: Slurm's default for the same knob, bf_max_job_test (500,
// slurm.conf(5)) [U: the Slurm default, not a measured optimum].
const defaultMaxCandidates = 500

// Backfill is EASY backfilling (Lifka 1995, "The ANL/IBM SP scheduling
// system"; Mu'alem & Feitelson 2001, "Utilization, predictability,
// workloads, and user runtime estimates in scheduling the IBM SP2 with
// backfilling"). Jobs start in queue order, placed with first fit, while
// they fit. The first one that does not fit (the head) gets a reservation:
// the earliest time R at which it will fit, if the running jobs end at
// their expected ends (Job.ExpectedEnd; run times are known exactly in the
// simulator, so there are no user estimates to be wrong). A job behind the
// head then starts now, with first fit, only if it fits now and either
//
//   - ends by R (now + Remaining / speed of the GPU type it lands on, or
//     Remaining itself for Hold jobs), so its GPUs are free again at R; or
//   - runs past R on GPUs the head does not need at R (the "extra" GPUs).
//
// So a backfilled job never delays the head: each later pass finds a
// reservation no later than R (the GPUs that made R feasible are still
// free at R). Only the head is protected (EASY, not conservative
// backfilling): jobs behind it may be delayed by backfilled ones.
//
// How R and the extra GPUs are computed, from one walk over the running
// jobs (View.Running), when a head first blocks and some job behind it fits
// now; the reservation is then kept across passes (see valid) until the
// head starts, its time passes, or a node it counts on fails:
//
//   - For every GPU of a node that a running job of an allowed type holds,
//     the time it is wholly free: the latest expected end of the jobs on it
//     (fractional shares included: a shared GPU is free when all its
//     sharers have ended). Nodes no job touches are entirely free now
//     (WhollyFreeGPUs minus the free GPUs of touched nodes counts them);
//     nodes under repair hold no job and are never counted as free (their
//     repair time is unknown).
//   - Single-node fit: the head's g GPUs on one node (first fit takes one
//     node when one has room): for each touched node of an allowed type,
//     the g-th earliest free time of its GPUs. The reserved GPUs are then
//     the node's g GPUs free by R that become free latest, which leaves
//     the GPUs free now to extra jobs where possible.
//   - Multi-node gang: first fit puts a gang larger than any node's free
//     room on entirely free nodes, so R is when the GPUs of entirely free
//     nodes of one type add up to g. Extra jobs may then spoil entirely
//     free nodes only while those free at R still add up to g. (Planned
//     only when g exceeds the smallest node of the type: otherwise any set
//     of entirely free nodes holding g holds a node that fits g alone.)
//   - GPU types: R is the earliest over the types the head allows, and
//     the reservation is on that type; jobs on other types never conflict.
//   - A fractional head (gpu_milli < 1000) is planned as if it needed a
//     whole GPU: conservative (R may be later than needed, never earlier).
//
// A job's run time is known only when it has never been interrupted (else
// the engine's restart overhead applies, which the View does not show) and
// it lands on one rack (else the engine's spread penalty may slow it): any
// other job may backfill only onto extra GPUs. If the head cannot fit even
// when every running job has ended (nodes under repair), no reservation
// exists and nothing backfills until it does. A pass tries at most
// MaxCandidates jobs behind the head.
type Backfill struct {
	// MaxCandidates is how many jobs behind the blocked head one pass tries
	// to backfill (default 500).
	MaxCandidates int `yaml:"max_candidates,omitempty"`

	buf   []fleet.Share
	queue []sim.JobID
	occ   occupancy
	res   reservation
	times []sim.Time
	order []int32
	fulls []nodeFree
	// The last pass's blocked head, and whether it had a reservation.
	head  sim.JobID
	resOK bool
	// The head the reservation in res is for (see valid).
	cached  bool
	cHead   sim.JobID
	cID     string
	cSubmit sim.Time
}

var _ Allocator = (*Backfill)(nil)

// Name returns "backfill".
func (*Backfill) Name() string { return "backfill" }

// EnsureDefaults sets MaxCandidates to its default if it is 0.
func (a *Backfill) EnsureDefaults() {
	if a.MaxCandidates == 0 {
		a.MaxCandidates = defaultMaxCandidates
	}
}

// Validate checks the parameters.
func (a *Backfill) Validate() error {
	if a.MaxCandidates < 0 {
		return fmt.Errorf("max_candidates: must be ≥ 0 (0: the default %d), got %d", defaultMaxCandidates, a.MaxCandidates)
	}
	return nil
}

// Reservation returns the last pass's blocked head and its reservation, if
// that pass computed one (it does once some job behind the head fits now).
// The head starts at or before that time unless a failure intervenes.
func (a *Backfill) Reservation() (head sim.JobID, at sim.Time, ok bool) {
	return a.head, a.res.at, a.resOK
}

// Schedule starts jobs in FIFO order and backfills behind a blocked head.
func (a *Backfill) Schedule(v *sim.View, p *sim.Plan) {
	f := v.Fleet()
	a.resOK = false
	// FIFO from the head: each start takes the head off the queue.
	q := v.Queue()
	for len(q) > 0 {
		shares, _, ok := f.FirstFit(v.Job(q[0]).Demand(), a.buf[:0])
		a.buf = shares
		if !ok {
			break
		}
		if err := p.Start(q[0], shares); err != nil {
			panic("backfill: first fit proposed an invalid placement: " + err.Error())
		}
		q = v.Queue()
	}
	if len(q) == 0 {
		return
	}
	a.head = q[0]
	head := v.Job(a.head)
	limit := a.MaxCandidates
	// The candidates behind the head, copied (backfilling them changes the
	// queue); only they, not the whole queue, which in an overloaded run is
	// long enough that copying it each pass was most of the run's time.
	a.queue = append(a.queue[:0], q[1:min(len(q), 1+limit)]...)
	reserved := false
	for _, id := range a.queue {
		j := v.Job(id)
		shares, t, ok := f.FirstFit(j.Demand(), a.buf[:0])
		a.buf = shares
		if !ok {
			continue
		}
		if !reserved {
			// Only once some job could backfill, and kept while valid.
			if !a.valid(v, head) {
				a.cached = a.reserve(v, head)
				if !a.cached {
					return
				}
				a.cHead, a.cID, a.cSubmit = a.head, head.ID, head.Submit
			}
			reserved, a.resOK = true, true
		}
		if run, known := runTime(f, j, shares, t); !known || v.Now()+run > a.res.at {
			if !a.res.spare(v, shares, t) {
				continue
			}
		}
		if err := p.Start(id, shares); err != nil {
			panic("backfill: proposed an invalid placement: " + err.Error())
		}
	}
}

// runTime returns how long j would run on shares of type t, and whether
// the View knows it exactly (see Backfill).
func runTime(f fleet.View, j *sim.Job, shares []fleet.Share, t fleet.TypeID) (sim.Time, bool) {
	if j.Preemptions > 0 || j.Failures > 0 {
		return 0, false // the restart overhead applies
	}
	speed := fleet.Catalog[t].Speed
	if j.Hold {
		speed = 1
	} else {
		for _, sh := range shares[1:] {
			if f.Rack(sh.Node) != f.Rack(shares[0].Node) {
				return 0, false // the spread penalty may apply
			}
		}
	}
	// The engine's own rounding (sim.Engine.start).
	return sim.Time(math.Ceil(float64(j.Remaining) / speed)), true
}

// reservation is the blocked head's reservation: the time it will fit and
// what it needs then, with what extra jobs have taken of its spare GPUs
// since it was computed.
type reservation struct {
	at   sim.Time
	typ  fleet.TypeID
	gang bool
	// Single-node fit: the reserved GPUs.
	node fleet.NodeID
	mask uint64
	// Gang: GPUs on nodes entirely free at the reservation beyond the
	// head's need, and the nodes extra jobs have already spoiled.
	budget  int64
	spoiled map[fleet.NodeID]bool
	occ     *occupancy
	// The busy nodes it counts on being free by then.
	watch []fleet.NodeID
}

// reserve computes the head's reservation; false if it has none.
func (a *Backfill) reserve(v *sim.View, h *sim.Job) bool {
	f := v.Fleet()
	now := v.Now()
	o := &a.occ
	o.build(v, h.GPUTypes, true)
	g := int(h.GPUs)
	if h.Milli < fleet.FullGPU {
		g = 1
	}
	gang := h.Milli == fleet.FullGPU && o.mayNeedGang(f, h.GPUTypes, g)
	r := &a.res
	*r = reservation{at: sim.Forever, spoiled: r.spoiled, occ: o, watch: r.watch[:0]}
	clear(r.spoiled)
	if r.spoiled == nil {
		r.spoiled = map[fleet.NodeID]bool{}
	}
	for _, t := range f.Types() {
		if !h.GPUTypes.Has(t) {
			continue
		}
		// Single node: the g-th earliest free time of each touched node.
		for k := range o.nodes {
			n := &o.nodes[k]
			if n.typ != t || int(n.count) < g {
				continue
			}
			a.times = a.times[:0]
			for _, u := range o.gpus[n.off : n.off+n.count] {
				a.times = append(a.times, max(u.freeAt, now))
			}
			slices.Sort(a.times)
			if at := a.times[g-1]; at < r.at || (at == r.at && !r.gang && r.typ == t && n.node < r.node) {
				*r = reservation{at: at, typ: t, node: n.node, spoiled: r.spoiled, occ: o, watch: r.watch}
			}
		}
		if !gang {
			continue // the head fits one node, or is a share
		}
		// Gang: entirely free nodes, in the order they become so.
		free := o.untouchedFree(f, t)
		a.fulls = a.fulls[:0]
		for k := range o.nodes {
			if n := &o.nodes[k]; n.typ == t {
				a.fulls = append(a.fulls, nodeFree{at: n.full, gpus: n.count})
			}
		}
		slices.SortFunc(a.fulls, func(x, y nodeFree) int { return cmp.Compare(x.at, y.at) })
		at := sim.Time(-1)
		if free >= int64(g) {
			at = now
		}
		for _, nf := range a.fulls {
			if at >= 0 && nf.at > at {
				break
			}
			free += int64(nf.gpus)
			if at < 0 && free >= int64(g) {
				at = max(nf.at, now)
			}
		}
		// free now counts every GPU of the nodes entirely free by at.
		if at >= 0 && at < r.at {
			*r = reservation{at: at, typ: t, gang: true, budget: free - int64(g), spoiled: r.spoiled, occ: o, watch: r.watch}
		}
	}
	if r.at == sim.Forever {
		return false
	}
	if r.gang {
		for k := range o.nodes {
			if n := &o.nodes[k]; n.typ == r.typ && n.full <= r.at {
				r.watch = append(r.watch, n.node)
			}
		}
	} else {
		r.watch = append(r.watch, r.node)
		// Reserve the node's g GPUs free by R that free up latest.
		k, _ := o.find(r.node)
		n := &o.nodes[k]
		a.order = a.order[:0]
		for j := int32(0); j < n.count; j++ {
			if max(o.gpus[n.off+j].freeAt, now) <= r.at {
				a.order = append(a.order, j)
			}
		}
		slices.SortStableFunc(a.order, func(x, y int32) int { return cmp.Compare(o.gpus[n.off+y].freeAt, o.gpus[n.off+x].freeAt) })
		for _, j := range a.order[:g] {
			r.mask |= 1 << j
		}
	}
	return true
}

// valid reports whether the reservation in a.res, computed in an earlier
// pass, still holds for head h: it is h's, its time has not passed, and no
// node it counts on has failed. Between passes the running jobs end when
// they were expected to and the only jobs started are the ones this
// allocator checked against the reservation, so recomputing it would find
// the same time; a failure that takes down a node it counts on breaks it.
// The View does not report failures: an entirely free node that fails
// goes unnoticed until the reservation's time passes.
func (a *Backfill) valid(v *sim.View, h *sim.Job) bool {
	if !a.cached || a.cHead != a.head || a.cID != h.ID || a.cSubmit != h.Submit || v.Now() >= a.res.at {
		return false
	}
	f := v.Fleet()
	for _, n := range a.res.watch {
		if f.Down(n) {
			return false
		}
	}
	return true
}

// spare reports whether a job placed on shares (of type t) that runs past
// the reservation leaves the head what it needs then. In single-node mode
// a placement that touches the reserved GPUs is moved to the same node's
// other free GPUs if it can be (shares is changed in place).
func (r *reservation) spare(v *sim.View, shares []fleet.Share, t fleet.TypeID) bool {
	if t != r.typ {
		return true
	}
	f := v.Fleet()
	if !r.gang {
		for i := range shares {
			sh := &shares[i]
			if sh.Node != r.node || sh.Mask&r.mask == 0 {
				continue
			}
			if sh.Milli < fleet.FullGPU {
				return false
			}
			var other uint64
			for j, v := range f.NodeFreeMilli(sh.Node) {
				if r.mask&(1<<j) == 0 && v == fleet.FullGPU {
					other |= 1 << j
				}
			}
			need := bits.OnesCount64(sh.Mask)
			if bits.OnesCount64(other) < need {
				return false
			}
			for bits.OnesCount64(other) > need {
				other &= other - 1 // drop the lowest: keep the highest free GPUs
			}
			sh.Mask = other
		}
		return true
	}
	var cost int64
	for _, sh := range shares {
		if r.spoiled[sh.Node] {
			continue
		}
		if k, touched := r.occ.find(sh.Node); !touched || r.occ.nodes[k].full <= r.at {
			cost += int64(f.NodeGPUs(sh.Node))
		}
	}
	if cost > r.budget {
		return false
	}
	r.budget -= cost
	for _, sh := range shares {
		r.spoiled[sh.Node] = true
	}
	return true
}

// nodeFree is when a node becomes entirely free, and its GPUs.
type nodeFree struct {
	at   sim.Time
	gpus int32
}
