package policies

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"neosim/policies/frag"
	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Allocators.Register("fgd", "FIFO queue; each job where it adds the least expected GPU fragmentation (FGD, Weng et al. ATC'23) among at most 64 candidate nodes from the free-capacity buckets; task mix learned online (params candidates, coverage, workload)", func() Allocator { return &FGD{} })
}

// FGD is fragmentation gradient descent (Weng et al., "Beware of
// Fragmentation: Scheduling GPU-Sharing Workloads with Fragmentation
// Gradient Descent", USENIX ATC'23, §4): a job goes where it increases the
// expected fragmentation of the fleet the least, the expectation taken over
// the task shapes the fleet sees (the measure is policies/frag's, paper
// §3). It favours placements that leave free GPU capacity in shapes that
// future jobs can use: a GPU share fills a fragment that only it fits
// rather than cutting into a whole GPU, whole-GPU jobs keep 8-GPU holes for
// 8-GPU jobs when 8-GPU jobs are common.
//
// Differences from the paper, which schedules Kubernetes pods:
//   - GPU only. The fleet does not model host CPU or memory, so task shapes
//     are (GPUs, milli-GPU share, allowed GPU types) and a node's state is
//     its GPUs' free milli; the paper's CPU condition always holds.
//     Job.CPUMilli and MemoryMiB are ignored.
//   - The task-shape distribution is learned online: each job counts once,
//     when it first reaches the head of the queue (every arrival does, under
//     FIFO, unless it gives up first; a preempted job coming back does not
//     count again). The target workload is the most popular shapes covering
//     Coverage of the jobs seen (the paper's 95%), weighted by count
//     (frag.Typical), rebuilt after every 1/32 growth of the count (every
//     job at first). The workload param fixes it instead.
//   - Bounded candidates. The paper's simulator scores every node; on a
//     million-GPU fleet that is 125,000 nodes per job. FGD here scores at
//     most Candidates nodes (K, default 64) drawn from the fleet's
//     free-capacity buckets, which hold exactly the nodes that fit: for a
//     whole-GPU job the buckets of nodes with k ≥ need wholly free GPUs,
//     tightest k first; for a GPU share the buckets of partly used GPUs
//     with v ≥ share free, tightest v first, then the nodes with wholly free
//     GPUs. Candidates are taken round-robin, one per bucket per round, so
//     every kind of fitting node is represented before any kind gets a
//     second. The cost per job is O(K × GPUs per node × shapes), independent
//     of the fleet's size. The trade-off: nodes in one bucket differ only in
//     their other GPUs, so a sample of each bucket sees nearly every
//     distinct choice FGD could make when buckets are few (a fleet of one or
//     two node classes has at most ~20 node buckets); with many distinct
//     shares in use, only the K tightest share buckets are seen, and FGD may
//     miss a better fragment further up. A larger K approaches the paper's
//     full scan at proportional cost (bench: BenchmarkFGDPlacement).
//   - GPU types are tried in the fleet's placement order, and the job goes
//     on the first type where it fits now, like the other node-choice
//     allocators; FGD chooses among that type's nodes.
//   - A gang larger than any node's free GPUs takes entirely free nodes in
//     topology order (first fit, as fifo): every such node has no
//     fragments, so FGD would have nothing to choose.
//
// On a node, a GPU share goes to the GPU whose choice increases the
// expectation least, a whole-GPU job takes the lowest-index wholly free
// GPUs (frag.Workload.Choose). Among candidates with the same increase the
// first in candidate order wins (the tightest bucket). The queue
// discipline is FIFO with head-of-line blocking, as fifo.
type FGD struct {
	// Candidates is the most nodes scored per job (K). 0: 64.
	Candidates int `yaml:"candidates"`
	// Coverage is the share of the jobs seen that the target workload's
	// most popular shapes must cover. 0: 0.95 (the paper's).
	Coverage float64 `yaml:"coverage"`
	// Workload, if set, fixes the target workload instead of learning it:
	// shapes GPUSxMILLI[@TYPES]=WEIGHT joined by commas, e.g.
	// "1x1000=5,1x500=3,8x1000@H100=1" (TYPES as gpu_type: names joined by
	// '|'). Weights are normalized.
	Workload string `yaml:"workload"`

	fixed  *frag.Workload // Workload parsed by EnsureDefaults
	badW   error          // why Workload does not parse
	counts map[frag.Task]int64
	seen   int64 // jobs counted
	built  int64 // seen at the last rebuild
	w      frag.Workload
	cbuf   []frag.Count
	last   struct {
		id     sim.JobID
		name   string
		submit sim.Time
	}

	buf     []fleet.Share
	buckets []fgdBucket
	cand    []fleet.NodeID
	stamp   []uint32 // stamp[n] == gen: node n is a candidate of this job
	gen     uint32
	free    []uint16 // the candidates' free vectors, back to back
	off     []int32  // candidate i's vector starts at free[off[i]]
	hash    []uint64 // hash of candidate i's type and vector
	ev      frag.Eval
	one     frag.Workload
}

// fgdBucket is a bucket of the fleet's index: nodes, or shared GPUs (one
// of the two is nil).
type fgdBucket struct {
	nodes []fleet.NodeID
	gpus  []fleet.GPUID
	one   bool // entirely free nodes: all alike, one is enough
}

// len returns the bucket's size.
func (b *fgdBucket) len() int { return len(b.nodes) + len(b.gpus) }

// fromEnd returns the node of the bucket's r-th element from its end.
func (b *fgdBucket) fromEnd(f fleet.View, r int) fleet.NodeID {
	if b.gpus != nil {
		n, _ := f.GPUNode(b.gpus[len(b.gpus)-1-r])
		return n
	}
	return b.nodes[len(b.nodes)-1-r]
}

var (
	_ Allocator = (*FGD)(nil)
	_ placer    = (*FGD)(nil)
)

// The defaults (see FGD).
const (
	fgdCandidates = 64
	fgdCoverage   = 0.95
)

// Name returns "fgd".
func (*FGD) Name() string { return "fgd" }

// EnsureDefaults sets Candidates and Coverage to their defaults if they are
// 0, and parses Workload (Validate reports a bad one).
func (a *FGD) EnsureDefaults() {
	if a.Candidates == 0 {
		a.Candidates = fgdCandidates
	}
	if a.Coverage == 0 {
		a.Coverage = fgdCoverage
	}
	a.fixed, a.badW = nil, nil
	if strings.TrimSpace(a.Workload) != "" {
		w, err := ParseFGDWorkload(a.Workload)
		a.fixed, a.badW = &w, err
	}
}

// Validate checks the parameters.
func (a *FGD) Validate() error {
	if a.Candidates < 1 {
		return fmt.Errorf("candidates must be ≥ 1 (0: %d), got %d", fgdCandidates, a.Candidates)
	}
	if !(a.Coverage > 0 && a.Coverage <= 1) {
		return fmt.Errorf("coverage must be in (0, 1] (0: %v), got %v", fgdCoverage, a.Coverage)
	}
	return a.badW
}

// ParseFGDWorkload reads a target workload spec (FGD.Workload).
func ParseFGDWorkload(spec string) (frag.Workload, error) {
	var counts []frag.Count
	var total float64
	var weights []float64
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		shape, weight, ok := strings.Cut(part, "=")
		bad := func(why string) error {
			return fmt.Errorf("workload %q: shape %q: %s (format GPUSxMILLI[@TYPES]=WEIGHT, e.g. 1x500=3 or 8x1000@H100=1)", spec, part, why)
		}
		if !ok {
			return frag.Workload{}, bad("no =WEIGHT")
		}
		wt, err := strconv.ParseFloat(strings.TrimSpace(weight), 64)
		if err != nil || !(wt > 0) || wt > 1e15 {
			return frag.Workload{}, bad("the weight must be a number > 0")
		}
		shape, types, _ := strings.Cut(shape, "@")
		g, m, ok := strings.Cut(strings.TrimSpace(shape), "x")
		gpus, err1 := strconv.Atoi(g)
		milli, err2 := strconv.Atoi(m)
		if !ok || err1 != nil || err2 != nil {
			return frag.Workload{}, bad("GPUS and MILLI must be whole numbers")
		}
		if gpus < 1 || gpus > fleet.MaxGPUsPerNode || milli < 1 || milli > fleet.FullGPU || milli < fleet.FullGPU && gpus != 1 {
			return frag.Workload{}, bad("GPUS must be 1..64 and MILLI 1..1000, below 1000 only for 1 GPU")
		}
		ts, err := fleet.ParseTypeSet(types)
		if err != nil {
			return frag.Workload{}, bad(err.Error())
		}
		counts = append(counts, frag.Count{Task: frag.Task{GPUs: gpus, Milli: uint16(milli), Models: frag.ModelSet(ts)}, N: 1})
		weights = append(weights, wt)
		total += wt
	}
	// Typical orders the shapes and merges duplicates; the weights are
	// applied after (its counts are whole numbers).
	w := frag.Typical(counts, 1)
	for i, s := range w.Shapes {
		w.P[i] = 0
		for k, c := range counts {
			if c.Task == s {
				w.P[i] += weights[k] / total
			}
		}
	}
	return w, nil
}

// Schedule starts jobs from the head of the queue until one does not fit.
func (a *FGD) Schedule(v *sim.View, p *sim.Plan) {
	f := v.Fleet()
	for len(v.Queue()) > 0 {
		id := v.Queue()[0]
		j := v.Job(id)
		a.learn(id, j)
		shares, ok := a.Place(f, j.Demand(), a.buf[:0])
		a.buf = shares
		if !ok {
			return
		}
		if err := p.Start(id, shares); err != nil {
			panic("fgd: proposed an invalid placement: " + err.Error())
		}
	}
}

// learn counts job j's shape once.
func (a *FGD) learn(id sim.JobID, j *sim.Job) {
	if a.fixed != nil || j.FirstStart >= 0 {
		return
	}
	if id == a.last.id && j.ID == a.last.name && j.Submit == a.last.submit {
		return // still the head: counted already
	}
	a.last.id, a.last.name, a.last.submit = id, j.ID, j.Submit
	a.count(j.Demand())
}

// count adds a job of demand d to the learned mix.
func (a *FGD) count(d fleet.Demand) {
	if a.counts == nil {
		a.counts = map[frag.Task]int64{}
	}
	a.counts[taskOf(d)]++
	a.seen++
}

// place is the node-choice rule without the queue walk (the placer of
// nodechoice.go, for BenchmarkPlacement): it counts d in the learned mix,
// as Schedule does for each job, then places it.
func (a *FGD) place(f fleet.View, d fleet.Demand, buf []fleet.Share) ([]fleet.Share, bool) {
	if a.fixed == nil {
		a.count(d)
	}
	return a.Place(f, d, buf)
}

func taskOf(d fleet.Demand) frag.Task {
	return frag.Task{GPUs: int(d.GPUs), Milli: d.Milli, Models: frag.ModelSet(d.Types)}
}

// target returns the target workload for a job of demand d.
func (a *FGD) target(d fleet.Demand) *frag.Workload {
	if a.fixed != nil {
		return a.fixed
	}
	if a.seen == 0 {
		// Nothing learned (Place called directly): the job's own shape.
		a.one.Shapes = append(a.one.Shapes[:0], taskOf(d))
		a.one.P = append(a.one.P[:0], 1)
		return &a.one
	}
	if a.built == 0 || a.seen-a.built >= max(1, a.built/32) {
		a.cbuf = a.cbuf[:0]
		for t, n := range a.counts {
			a.cbuf = append(a.cbuf, frag.Count{Task: t, N: n})
		}
		a.w = frag.Typical(a.cbuf, a.Coverage) // sorts totally: map order does not matter
		a.built = a.seen
	}
	return &a.w
}

// Place appends to buf FGD's placement of d on f now and returns it, or
// returns buf and false if d does not fit now. It reads at most
// Candidates nodes' GPUs (plus FirstFit's for a gang).
func (a *FGD) Place(f fleet.View, d fleet.Demand, buf []fleet.Share) ([]fleet.Share, bool) {
	w := a.target(d)
	task := taskOf(d)
	for _, t := range f.Types() {
		if !d.Types.Has(t) {
			continue
		}
		a.candidates(f, t, d)
		if len(a.cand) == 0 {
			if d.Milli == fleet.FullGPU {
				// No single node has room: a gang over entirely free nodes.
				if s, _, ok := f.FirstFit(fleet.Demand{GPUs: d.GPUs, Milli: d.Milli, Types: fleet.Only(t)}, buf); ok {
					return s, true
				}
			}
			continue
		}
		best := -1
		var bestC frag.Choice
		a.free = a.free[:0]
		a.off = a.off[:0]
		a.hash = a.hash[:0]
		for i, n := range a.cand {
			// Read the node's GPUs; a node in the same state as an earlier
			// candidate (same type, same free vector) scores the same and
			// loses the tie: skip it.
			off := len(a.free)
			a.free = append(a.free, f.NodeFreeMilli(n)...)
			free := a.free[off:]
			a.off = append(a.off, int32(off))
			if a.sameAsEarlier(f, i, free) {
				continue
			}
			c, ok := w.Choose(frag.Node{Model: int(f.NodeType(n)), Free: free}, task, &a.ev)
			if ok && (best < 0 || c.Delta < bestC.Delta) {
				best, bestC = i, c
			}
		}
		if best < 0 {
			panic("fgd: no candidate from the fleet's buckets fits")
		}
		return append(buf, fleet.Share{Node: a.cand[best], Milli: d.Milli, Mask: bestC.Mask}), true
	}
	return buf, false
}

// sameAsEarlier reports whether candidate i, whose free vector is free,
// is in the same state as an earlier candidate: same type and free vector
// (compared by a hash first).
func (a *FGD) sameAsEarlier(f fleet.View, i int, free []uint16) bool {
	t := f.NodeType(a.cand[i])
	h := uint64(t) + 1
	for _, v := range free {
		h = (h ^ uint64(v)) * 0x100000001b3 // FNV-1a step
	}
	a.hash = append(a.hash, h)
	for e, he := range a.hash[:i] {
		if he == h && slices.Equal(a.free[a.off[e]:a.off[e+1]], free) && f.NodeType(a.cand[e]) == t {
			return true
		}
	}
	return false
}

// candidates fills a.cand with at most K nodes of type t that fit d now,
// from the fleet's buckets (see FGD).
func (a *FGD) candidates(f fleet.View, t fleet.TypeID, d fleet.Demand) {
	k := a.Candidates
	a.cand = a.cand[:0]
	a.buckets = a.buckets[:0]
	if n := f.Nodes(); len(a.stamp) != n {
		a.stamp = make([]uint32, n)
		a.gen = 0
	}
	a.gen++
	if a.gen == 0 { // wrapped: clear the stamps
		clear(a.stamp)
		a.gen = 1
	}
	need := int(d.GPUs)
	if d.Milli < fleet.FullGPU {
		// Partly used GPUs with enough free, tightest first, leaving room
		// for the node buckets below.
		room := k - k/4
		for v := f.NextSharedFree(t, int(d.Milli)); v >= 0 && len(a.buckets) < room; v = f.NextSharedFree(t, v+1) {
			a.buckets = append(a.buckets, fgdBucket{gpus: f.SharedGPUsWithFree(t, v)})
		}
		need = 1
	}
	for _, c := range f.Classes(t) {
		for kk := f.NextFreeGPUCount(c, need); kk >= 0 && len(a.buckets) < k; kk = f.NextFreeGPUCount(c, kk+1) {
			a.buckets = append(a.buckets, fgdBucket{nodes: f.NodesWithFreeGPUs(c, kk), one: kk == f.ClassGPUs(c)})
		}
	}
	// Round-robin over the buckets, each from its end (deterministic). A
	// shared bucket may list several GPUs of one node: the rounds are
	// bounded so that duplicates cannot make this a scan.
	for r := 0; len(a.cand) < k && r < 2*k; r++ {
		progress := false
		for i := range a.buckets {
			b := &a.buckets[i]
			if r >= b.len() || b.one && r > 0 {
				continue
			}
			progress = true
			n := b.fromEnd(f, r)
			if a.stamp[n] != a.gen {
				a.stamp[n] = a.gen
				a.cand = append(a.cand, n)
				if len(a.cand) == k {
					break
				}
			}
		}
		if !progress {
			break
		}
	}
}
