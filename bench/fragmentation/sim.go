package fragmentation

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand"
	"slices"
	"strconv"
	"strings"

	"neosim/policies/frag"
)

// The scoring constants of the authors' plugins (protocol §3).
const (
	maxSpecCPU = 128000 // milli-CPU of the largest node the scores normalize by
	maxSpecGPU = 8000   // milli-GPU of the largest node
)

// node is a node's state during a run.
type node struct {
	spec      int // index in Inputs.Nodes
	cpu, mem  int64
	model     int
	free      []uint16 // free milli of each GPU
	freeTotal int64
	whole     int    // wholly free GPUs
	maxFree   uint16 // the largest free milli of a GPU
	tags      uint64 // gpuclustering: bit 0 share-gpu, bit n "n-gpu", of the GPU pods placed here
	ev        frag.Eval
	evOK      bool // ev is up to date
}

func (n *node) refresh() {
	n.freeTotal, n.whole, n.maxFree = 0, 0, 0
	for _, r := range n.free {
		n.freeTotal += int64(r)
		if r == frag.FullGPU {
			n.whole++
		}
		n.maxFree = max(n.maxFree, r)
	}
	n.evOK = false
}

func (n *node) frag() frag.Node {
	return frag.Node{CPU: n.cpu, Memory: n.mem, Model: n.model, Free: n.free}
}

// fits is the filter of the authors' scheduler (protocol §2): CPU and
// memory (NodeResourcesFit), then Open-Gpu-Share: a CPU pod passes, a GPU
// pod needs an allowed model and GPUs with its share free.
func (n *node) fits(p *Pod) bool {
	if n.cpu < p.CPU || n.mem < p.Memory {
		return false
	}
	switch {
	case p.GPUs == 0:
		return true
	case len(n.free) == 0 || !p.Models.Has(n.model):
		return false
	case p.Milli < frag.FullGPU:
		return n.maxFree >= p.Milli // 1 GPU (Load rejects shared multi-GPU pods)
	default:
		return n.whole >= p.GPUs
	}
}

// workload is one seed's submission: the pods in order, the nodes in
// tie-break order and the random source, as the authors' simulator builds
// them (protocol §1).
type workload struct {
	pods  []int // indexes into Inputs.Pods, in submission order
	nodes []int // indexes into Inputs.Nodes, best tie-break rank first
	rng   *rand.Rand
}

// informerDraws is the number of draws the authors' scheduler takes from
// the shared global source when it starts, between the inflation and the
// node Perm: one rand.Float64 per informer whose watch starts (client-go's
// reflector draws its watch timeout). 10 is the count with which the node
// prefixes and every per-seed curve of seeds 42..51 match the authors'
// published ones (testdata/authors_allo_discrete.csv).
const informerDraws = 10

// build makes seed's workload. It uses math/rand's original source seeded
// with seed and draws in the authors' order (Int, Shuffle, Intn per
// clone, the scheduler's informerDraws, Perm), so that the pod sequence
// and the node ranks are those of their runs for the same seed (checked
// against their published curves, TestOpenbDefault). STYLE.md prefers
// PCG streams; here the draw sequence itself is part of the protocol.
func build(in *Inputs, seed int64, tune float64) *workload {
	rng := rand.New(rand.NewSource(seed))
	_ = rng.Int() // a Debugf argument in Simulate, drawn even with debug off
	n := len(in.Pods)
	pods := make([]int, n, n+n/2)
	var sum int64
	for i := range pods {
		pods[i] = i
		sum += in.Pods[i].TotalMilli()
	}
	rng.Shuffle(n, func(i, j int) { pods[i], pods[j] = pods[j], pods[i] })
	target := tune * float64(in.GPUs()*frag.FullGPU)
	switch {
	case float64(sum) < target:
		// tuneUpPods: clone uniformly drawn originals, appended after the
		// shuffled list, until the next draw would pass the target. The
		// draw indexes the originals sorted by name (the authors'
		// workloadPods), not the shuffled list. Quirk kept: the check adds
		// the drawn pod's per-GPU milli, the sum its total milli.
		for {
			p := rng.Intn(n) // in.Pods is sorted by name
			if float64(sum+int64(in.Pods[p].Milli)) > target {
				break
			}
			pods = append(pods, p)
			sum += in.Pods[p].TotalMilli()
		}
	case float64(sum) > target:
		// tuneDownPods: remove random pods until at or below the target.
		for float64(sum) > target && len(pods) > 0 {
			i := rng.Intn(len(pods))
			sum -= in.Pods[pods[i]].TotalMilli()
			pods = slices.Delete(pods, i, i+1)
		}
	}
	// The scheduler starts: its informers draw from the same source.
	for range informerDraws {
		rng.Float64()
	}
	// Nodes, sorted by name, get a random "%04d-" prefix; the scheduler
	// breaks score ties by the smallest prefixed name.
	perm := rng.Perm(len(in.Nodes))
	names := make([]string, len(in.Nodes))
	nodes := make([]int, len(in.Nodes))
	for i := range nodes {
		names[i] = fmt.Sprintf("%04d-%s", perm[i], in.Nodes[i].Name)
		nodes[i] = i
	}
	slices.SortFunc(nodes, func(a, b int) int { return strings.Compare(names[a], names[b]) })
	return &workload{pods: pods, nodes: nodes, rng: rng}
}

// event is the state after one pod: demand arrived so far and GPU milli
// allocated, both in milli-GPU.
type event struct{ arrived, used int64 }

// run is one policy on one seed's workload.
type run struct {
	in       *Inputs
	policy   Policy
	w        *workload
	target   *frag.Workload // FGD's target workload
	nodes    []node         // in tie-break order
	feasible []int
	scores   []int64
	used     int64
	failed   int
}

func newRun(in *Inputs, p Policy, w *workload, target *frag.Workload) *run {
	r := &run{in: in, policy: p, w: w, target: target, nodes: make([]node, len(w.nodes))}
	backing := make([]uint16, in.GPUs())
	for i, s := range w.nodes {
		spec := &in.Nodes[s]
		n := &r.nodes[i]
		*n = node{spec: s, cpu: spec.CPU, mem: spec.Memory, model: spec.Model, free: backing[:spec.GPUs:spec.GPUs]}
		backing = backing[spec.GPUs:]
		for g := range n.free {
			n.free[g] = frag.FullGPU
		}
		n.refresh()
	}
	return r
}

// simulate submits every pod once, in order, and returns one event per pod.
func (r *run) simulate() []event {
	events := make([]event, 0, len(r.w.pods))
	var arrived int64
	for _, pi := range r.w.pods {
		p := &r.in.Pods[pi]
		arrived += p.TotalMilli()
		if !r.schedule(p) {
			r.failed++ // dropped: pods never retry
		}
		events = append(events, event{arrived, r.used})
	}
	return events
}

// schedule places p, or reports that it fits nowhere.
func (r *run) schedule(p *Pod) bool {
	r.feasible = r.feasible[:0]
	for i := range r.nodes {
		if r.nodes[i].fits(p) {
			r.feasible = append(r.feasible, i)
		}
	}
	if len(r.feasible) == 0 {
		return false
	}
	var pick int
	var mask uint64
	if len(r.feasible) == 1 {
		// The scheduler takes a single feasible node unscored; the GPUs are
		// still chosen by the policy's selector (FGD's in Reserve).
		pick = r.feasible[0]
		mask = r.selectGPUs(&r.nodes[pick], p)
	} else {
		pick, mask = r.choose(p)
	}
	r.place(pick, p, mask)
	return true
}

// choose scores the feasible nodes and returns the best one, ties to the
// first in tie-break order, with the GPUs to use.
func (r *run) choose(p *Pod) (int, uint64) {
	switch r.policy {
	case Random:
		// PreScore draws among the feasible nodes. Their order in the
		// authors' run comes from a parallel filter; here it is tie-break
		// order.
		pick := r.feasible[r.w.rng.Intn(len(r.feasible))]
		return pick, r.selectGPUs(&r.nodes[pick], p)
	case FGD:
		best, bestS, bestMask := -1, int64(0), uint64(0)
		for _, i := range r.feasible {
			if s, m := r.fgdScore(&r.nodes[i], p); best < 0 || s > bestS {
				best, bestS, bestMask = i, s, m
			}
		}
		return best, bestMask
	}
	r.scores = r.scores[:0]
	for _, i := range r.feasible {
		n := &r.nodes[i]
		var s int64
		switch r.policy {
		case DotProd:
			s = dotProdScore(n, p)
		case GPUClustering:
			s = clusteringScore(n, p)
		case GPUPacking:
			s = packingScore(n, p)
		case BestFit:
			s = bestFitRaw(n, p)
		}
		r.scores = append(r.scores, s)
	}
	if r.policy == BestFit {
		normalize(r.scores)
	}
	best := 0
	for k, s := range r.scores {
		if s > r.scores[best] {
			best = k
		}
	}
	pick := r.feasible[best]
	return pick, r.selectGPUs(&r.nodes[pick], p)
}

// selectGPUs picks the GPUs of node n for p with the policy's selector
// (protocol §2): whole-GPU pods take the lowest-index wholly free GPUs
// whatever the policy; a shared pod takes a uniformly drawn fitting GPU
// (random), FGD's choice (fgd), or the fitting GPU with the least free
// milli, lowest index first (the others: "best").
func (r *run) selectGPUs(n *node, p *Pod) uint64 {
	switch {
	case p.GPUs == 0:
		return 0
	case p.Milli == frag.FullGPU:
		return frag.LowestFree(n.free, p.GPUs)
	case r.policy == Random:
		pick, seen := -1, 0
		for g, f := range n.free {
			if f >= p.Milli {
				seen++
				if r.w.rng.Intn(seen) == 0 { // reservoir sampling
					pick = g
				}
			}
		}
		return 1 << pick
	case r.policy == FGD:
		_, m := r.fgdScore(n, p)
		return m
	default:
		pick := -1
		for g, f := range n.free {
			if f >= p.Milli && (pick < 0 || f < n.free[pick]) {
				pick = g
			}
		}
		return 1 << pick
	}
}

// place gives p the GPUs of mask on node i.
func (r *run) place(i int, p *Pod, mask uint64) {
	n := &r.nodes[i]
	n.cpu -= p.CPU
	n.mem -= p.Memory
	for m := mask; m != 0; m &= m - 1 {
		g := bits.TrailingZeros64(m)
		n.free[g] -= p.Milli
	}
	if p.GPUs > 0 {
		n.tags |= tagOf(p)
	}
	n.refresh()
	r.used += p.TotalMilli()
}

// fgdScore is the FGD plugin's score of node n for p and the GPUs it
// would use (protocol §3): for each way to place p, F′ is the node's
// expected fragmentation after it and the score int(100·σ((F − F′)/1000));
// a shared pod tries each fitting GPU and keeps the first reaching the
// best score; a whole-GPU or CPU pod has one way. Scores truncate to
// integers, so close placements tie; ties go to the lower GPU index here
// and to the tie-break order across nodes.
func (r *run) fgdScore(n *node, p *Pod) (int64, uint64) {
	if !n.evOK {
		r.target.Eval(n.frag(), &n.ev)
		n.evOK = true
	}
	t := p.Task()
	f := n.ev.F
	switch {
	case p.GPUs == 0:
		return fgdPoints(f - n.ev.After(t, 0, 0)), 0
	case p.Milli == frag.FullGPU:
		return fgdPoints(f - n.ev.After(t, frag.FullGPU, p.GPUs)), frag.LowestFree(n.free, p.GPUs)
	}
	best, bestS := -1, int64(0)
	for g, fr := range n.free {
		if fr < p.Milli || slices.Contains(n.free[:g], fr) {
			continue // a GPU with the same free milli as an earlier one scores the same
		}
		if s := fgdPoints(f - n.ev.After(t, fr, 1)); best < 0 || s > bestS {
			best, bestS = g, s
		}
	}
	return bestS, 1 << best
}

func fgdPoints(decrease float64) int64 { return int64(100 * frag.Sigmoid(decrease/1000)) }

// dotProdScore: node [cpu free/128000, GPU free/8000] · pod [cpu/128000,
// GPU/8000], both before placement; score int(100·(1 − dot/2)).
func dotProdScore(n *node, p *Pod) int64 {
	dot := float64(n.cpu)/maxSpecCPU*(float64(p.CPU)/maxSpecCPU) +
		float64(n.freeTotal)/maxSpecGPU*(float64(p.TotalMilli())/maxSpecGPU)
	return int64(100 * (1 - dot/2))
}

// tagOf is a GPU pod's gpuclustering tag: share-gpu (bit 0) or n-gpu (bit n).
func tagOf(p *Pod) uint64 {
	if p.Milli < frag.FullGPU {
		return 1
	}
	return 1 << min(p.GPUs, 63)
}

// clusteringScore: 25·(8000 − GPU free)/8000 plus 75 if the node's GPU
// pods all have p's tag, 50 if p's tag is among several, 25 if the node
// has no GPU pod; CPU pods score 0.
func clusteringScore(n *node, p *Pod) int64 {
	if p.GPUs == 0 {
		return 0
	}
	s := 25 * (maxSpecGPU - n.freeTotal) / maxSpecGPU
	tag := tagOf(p)
	switch {
	case n.tags == tag:
		s += 75
	case n.tags&tag != 0:
		s += 50
	case n.tags == 0:
		s += 25
	}
	return s
}

// packingScore is the authors' getPackingScore (CPU pods score 0):
//   - every GPU of the node free: max(33 − G, G) for a G-GPU node;
//   - else, of the p.GPUs fitting GPUs with the least free milli (their
//     gpuToUse), f are wholly free: max(50 − f, 33) if f > 0;
//   - else (p fits on GPUs in use): max(100 − (Σ free_g·100/1000)/10, 50),
//     Σ over gpuToUse only. Whole-GPU pods always take wholly free GPUs,
//     so this case is a shared pod's: gpuToUse is its one fitting GPU
//     with the least free milli.
func packingScore(n *node, p *Pod) int64 {
	if p.GPUs == 0 {
		return 0
	}
	g := len(n.free)
	if n.whole == g {
		return int64(max(33-g, g))
	}
	// The p.GPUs fitting GPUs with the least free milli: count how many of
	// them are wholly free. Fitting GPUs below FullGPU sort first.
	partial := 0
	for _, f := range n.free {
		if f >= p.Milli && f < frag.FullGPU {
			partial++
		}
	}
	if f := p.GPUs - partial; f > 0 {
		return int64(max(50-f, 33))
	}
	least := uint16(frag.FullGPU)
	for _, f := range n.free {
		if f >= p.Milli {
			least = min(least, f)
		}
	}
	return max(100-int64(least)*100/frag.FullGPU/10, 50)
}

// bestFitRaw: int(100·(1 − [0.5·(cpu free − cpu)/128000 + 0.5·(GPU free −
// GPU)/8000])), before normalize.
func bestFitRaw(n *node, p *Pod) int64 {
	return int64(100 * (1 - (0.5*float64(n.cpu-p.CPU)/maxSpecCPU + 0.5*float64(n.freeTotal-p.TotalMilli())/maxSpecGPU)))
}

// normalize maps scores to 0..100 by integer min–max (BestFit's
// NormalizeScore); equal scores all become 0.
func normalize(s []int64) {
	lo, hi := slices.Min(s), slices.Max(s)
	for i := range s {
		if hi == lo {
			s[i] = 0
		} else {
			s[i] = (s[i] - lo) * 100 / (hi - lo)
		}
	}
}

// discrete turns a run's events into the paper's curve (protocol §4) as
// the authors' pandas script computes it: point X (0..maxPct) is the mean
// allocation over the events whose arrived demand rounds (half to even) to
// X percent of the GPU capacity, each allocation first rounded to 2
// decimals; a point without events takes those within X ± 1, and if there
// are none either, the previous point's value. Means are numpy's
// (numpyMean) and roundings Python's round(v, 2) (correctly rounded), so
// that the points equal the authors' to the last digit.
func discrete(events []event, gpus int, maxPct int) []float64 {
	// Arrived demand never falls, so each point's events are a contiguous
	// run of vals: from[x] up to from[x+1].
	vals := make([]float64, 0, len(events))
	from := make([]int, maxPct+2)
	x := 0
	for _, e := range events {
		ex := int(math.RoundToEven(float64(e.arrived) / float64(gpus) / 10))
		if ex > maxPct {
			break
		}
		for ; x < ex; x++ {
			from[x+1] = len(vals)
		}
		vals = append(vals, round2(float64(e.used)/float64(gpus)/10))
	}
	for ; x <= maxPct; x++ {
		from[x+1] = len(vals)
	}
	out := make([]float64, maxPct+1)
	for x := range out {
		lo, hi := from[x], from[x+1]
		if lo == hi {
			lo, hi = from[max(x-1, 0)], from[min(x+2, maxPct+1)]
		}
		switch {
		case hi > lo:
			out[x] = round2(numpyMean(vals[lo:hi]))
		case x > 0:
			out[x] = out[x-1]
		}
	}
	return out
}

// numpyMean is numpy's mean of a non-empty float64 array (numpy 1.24, the
// authors' requirements.txt, under pandas' Series.mean): its add.reduce
// starts from the first value and adds the pairwise sum of the others,
// then divides by the count. Summed sequentially, 6 of the 6550 points
// compared with the authors' differ in the last digit; pairwise from 0, 1.
func numpyMean(a []float64) float64 {
	return (a[0] + pairwiseSum(a[1:])) / float64(len(a))
}

// pairwiseSum is numpy's pairwise_sum of float64 values
// (numpy/core/src/umath/loops_utils.h.src): below 8 values a plain loop;
// up to 128, eight interleaved partial sums combined pairwise, then the
// rest; beyond, the two halves (split at a multiple of 8) recursively.
func pairwiseSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		var s float64
		for _, v := range a {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], a)
		i := 8
		for ; i < n-n%8; i += 8 {
			for k := range r {
				r[k] += a[i+k]
			}
		}
		s := (r[0] + r[1]) + (r[2] + r[3]) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	}
	h := n / 2
	h -= h % 8
	return pairwiseSum(a[:h]) + pairwiseSum(a[h:])
}

// round2 is Python's round(v, 2): v correctly rounded to 2 decimals, an
// exact tie to even.
func round2(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 2, 64), 64)
	return r
}
