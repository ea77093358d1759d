// Package frag is the GPU fragmentation measure of Weng et al., "Beware of
// Fragmentation: Scheduling GPU-Sharing Workloads with Fragmentation
// Gradient Descent" (USENIX ATC'23), and the choice its scheduler (FGD)
// makes: pure functions over small value types, shared by the fgd allocator
// (policies/fgd.go) and the paper-reproduction experiment
// (bench/fragmentation). The definitions follow the paper (§3 the measure,
// §4 the scheduler) in the form of the authors' simulator
// (hkust-adsl/kubernetes-scheduler-simulator, utils/frag.go), as described
// in ../shared/papers/fgd-openb-protocol.md §3.
//
// A node n has free resources: the free milli-GPU R_g of each GPU g, free
// CPU and memory, and one GPU model. A task shape m asks for CPU c_m,
// memory, k_m GPUs of d_m milli-GPU each (d_m < 1000 only when k_m = 1: a
// shared GPU), and optionally a set of allowed GPU models.
//
// Fragmentation of a node with respect to a task (§3: the free GPU
// resources the task cannot use):
//
//	f_m(n) = Σ_{g : R_g < d_m} R_g   if m can run on n
//	f_m(n) = Σ_g R_g                 otherwise
//
// where "m can run on n" means at least k_m GPUs have R_g ≥ d_m, the free
// CPU is at least c_m and the node's model is allowed. A CPU-only task
// (k_m = 0) uses no GPU, so every free GPU milli is a fragment to it.
// Memory is ignored, as in the authors' code.
//
// Expected fragmentation over a target workload M (§3, the statistical
// measure): M is a distribution of task shapes with popularity p_m, and
//
//	F_M(n) = Σ_m p_m · f_m(n)
//
// The cluster's is the sum over its nodes. The target workload is the most
// popular task shapes that together make up a fraction (95% in the paper)
// of the tasks, each weighted by its count (Typical): the long tail of rare
// shapes is left out.
//
// FGD (§4, fragmentation gradient descent) places a task where it
// increases F the least: for every node n that fits the task and every way
// to put it there (a shared-GPU task: each GPU with enough free milli; a
// whole-GPU task: the lowest-index wholly free GPUs) it computes the node
// after placement n′ and
//
//	Δ = F_M(n′) − F_M(n)
//
// and picks the smallest Δ (Choose gives the best way on one node; the
// caller compares nodes).
//
// Every function is pure: it reads its arguments and returns values;
// Node.Free slices are never modified.
package frag

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

// FullGPU is one whole GPU in milli-GPU.
const FullGPU = 1000

// ModelSet is a set of GPU models: bit k stands for model k (0..63) in the
// caller's numbering. The empty set allows every model.
type ModelSet uint64

// Has reports whether the set allows model k (the empty set allows all).
func (s ModelSet) Has(k int) bool { return s == 0 || (k >= 0 && k < 64 && s&(1<<k) != 0) }

// Node is a node's free resources.
type Node struct {
	CPU    int64    // free milli-CPU
	Memory int64    // free memory, MiB
	Model  int      // GPU model, 0..63 in the caller's numbering
	Free   []uint16 // free milli-GPU of each GPU, 0..FullGPU
}

// Task is a task shape: what one task asks of one node.
type Task struct {
	CPU    int64    // milli-CPU
	Memory int64    // MiB
	GPUs   int      // GPUs; 0 for a CPU-only task
	Milli  uint16   // milli-GPU of each GPU: FullGPU for whole GPUs, less for a shared GPU (GPUs = 1)
	Models ModelSet // allowed GPU models; empty: any
}

// Shared reports whether the task shares one GPU with others.
func (t Task) Shared() bool { return t.GPUs == 1 && t.Milli < FullGPU }

// TotalMilli returns the milli-GPU the task holds in all.
func (t Task) TotalMilli() int64 { return int64(t.GPUs) * int64(t.Milli) }

// FreeMilli returns the node's free milli-GPU over all its GPUs.
func FreeMilli(n Node) int64 {
	var s int64
	for _, r := range n.Free {
		s += int64(r)
	}
	return s
}

// usable counts the GPUs with at least milli free and sums the free milli
// of the others.
func usable(n Node, milli uint16) (fit int, below int64) {
	for _, r := range n.Free {
		if r >= milli {
			fit++
		} else {
			below += int64(r)
		}
	}
	return fit, below
}

// Fits reports whether task t can be placed on node n now: enough free CPU
// and memory, an allowed GPU model (for a GPU task), and t.GPUs GPUs with
// t.Milli free each. It is the filter that FGD and the experiment's other
// policies apply before scoring.
func Fits(n Node, t Task) bool {
	if n.CPU < t.CPU || n.Memory < t.Memory {
		return false
	}
	if t.GPUs == 0 {
		return true
	}
	if !t.Models.Has(n.Model) {
		return false
	}
	fit, _ := usable(n, t.Milli)
	return fit >= t.GPUs
}

// Frag returns f_t(n), the free milli-GPU of node n that task shape t
// cannot use (paper §3): all the free GPU milli if t cannot run on n (too
// few GPUs with t.Milli free, too little CPU, a model t does not allow, or
// t is CPU-only), else the free milli of the GPUs with less than t.Milli
// free. Memory is not considered (as in the authors' simulator).
func Frag(n Node, t Task) int64 {
	if t.GPUs == 0 || !t.Models.Has(n.Model) || n.CPU < t.CPU {
		return FreeMilli(n)
	}
	fit, below := usable(n, t.Milli)
	if fit >= t.GPUs {
		return below
	}
	return FreeMilli(n)
}

// Workload is a target workload: task shapes and their popularity
// (probabilities summing to 1). Typical builds one from task counts.
type Workload struct {
	Shapes []Task
	P      []float64
}

// Len returns the number of shapes.
func (w Workload) Len() int { return len(w.Shapes) }

// Expected returns F(n) = Σ_m p_m·f_m(n), the expected fragmentation of
// node n over the workload, in milli-GPU (paper §3).
func (w *Workload) Expected(n Node) float64 {
	var f float64
	for i, t := range w.Shapes {
		f += w.P[i] * float64(Frag(n, t))
	}
	return f
}

// Count is a task shape and how many tasks had it.
type Count struct {
	Task
	N int64
}

// Typical returns the target workload of a task population given as
// counts of shapes (the authors' GetTypicalPods): shapes are grouped by
// (CPU, GPUs, Milli, Models) — memory is not part of a shape —, sorted by
// count, most popular first (ties: larger CPU, then larger Milli, more
// GPUs, larger Models bits), and the shortest prefix whose counts reach
// coverage (0 < coverage ≤ 1; the paper uses 0.95) of all tasks is kept,
// each shape weighted by its count over the prefix's. Counts with N ≤ 0
// are ignored; no tasks give an empty workload.
func Typical(counts []Count, coverage float64) Workload {
	type key struct {
		cpu    int64
		gpus   int
		milli  uint16
		models ModelSet
	}
	idx := map[key]int{}
	var g []Count
	var total int64
	for _, c := range counts {
		if c.N <= 0 {
			continue
		}
		k := key{c.CPU, c.GPUs, c.Milli, c.Models}
		if c.GPUs == 0 {
			k.milli, k.models = 0, 0 // a CPU-only task has no GPU share or model
		}
		i, ok := idx[k]
		if !ok {
			i = len(g)
			idx[k] = i
			g = append(g, Count{Task: Task{CPU: k.cpu, GPUs: k.gpus, Milli: k.milli, Models: k.models}})
		}
		g[i].N += c.N
		total += c.N
	}
	slices.SortFunc(g, func(a, b Count) int {
		return cmp.Or(
			cmp.Compare(b.N, a.N),
			cmp.Compare(b.CPU, a.CPU),
			cmp.Compare(b.Milli, a.Milli),
			cmp.Compare(b.GPUs, a.GPUs),
			cmp.Compare(b.Models, a.Models),
		)
	})
	var w Workload
	var cum int64
	for _, c := range g {
		if cum > 0 && float64(cum) >= coverage*float64(total) {
			break
		}
		cum += c.N
		w.Shapes = append(w.Shapes, c.Task)
	}
	w.P = make([]float64, len(w.Shapes))
	for i := range w.Shapes {
		w.P[i] = float64(g[i].N) / float64(cum)
	}
	return w
}

// Eval is a node's per-shape statistics under a workload: with them, the
// expected fragmentation after a placement costs O(shapes) instead of
// O(shapes × GPUs). Fill one with Workload.Eval; reuse it across nodes to
// avoid allocation.
type Eval struct {
	w     *Workload
	free  int64   // Σ free milli
	cpu   int64   // free CPU
	model int     // the node's GPU model
	fit   []int32 // per shape: GPUs with at least the shape's milli free
	below []int64 // per shape: free milli of the other GPUs
	// F is the node's expected fragmentation F(n).
	F float64
}

// Eval fills e with node n's statistics under w and returns F(n) (also in
// e.F); it equals w.Expected(n).
func (w *Workload) Eval(n Node, e *Eval) float64 {
	e.w = w
	e.free = FreeMilli(n)
	e.cpu = n.CPU
	e.model = n.Model
	e.fit = slices.Grow(e.fit[:0], len(w.Shapes))[:len(w.Shapes)]
	e.below = slices.Grow(e.below[:0], len(w.Shapes))[:len(w.Shapes)]
	for i, t := range w.Shapes {
		fit, below := 0, int64(0)
		if t.GPUs > 0 { // a CPU-only shape's fragments are all the free milli
			fit, below = usable(n, t.Milli)
		}
		e.fit[i], e.below[i] = int32(fit), below
	}
	e.F = e.expected(0, 0, 0, 0, 0)
	return e.F
}

// After returns F(n′), the expected fragmentation of the node after task t
// takes t.Milli from each of k GPUs that had from milli free (k = t.GPUs,
// or 0 for a CPU-only task; from ≥ t.Milli) and t.CPU from its CPU. It equals
// w.Expected(n′), computed in the same order, in O(shapes).
func (e *Eval) After(t Task, from uint16, k int) float64 {
	if k == 0 {
		return e.expected(0, 0, 0, 0, t.CPU)
	}
	return e.expected(from, from-t.Milli, k, t.TotalMilli(), t.CPU)
}

// expected computes F after k GPUs go from `from` to `to` free milli,
// taking took milli-GPU and cpu milli-CPU in all.
func (e *Eval) expected(from, to uint16, k int, took, cpu int64) float64 {
	w := e.w
	free := e.free - took
	left := e.cpu - cpu
	var f float64
	for i, s := range w.Shapes {
		var fr int64
		switch {
		case s.GPUs == 0 || !s.Models.Has(e.model) || left < s.CPU:
			fr = free
		default:
			fit, below := int(e.fit[i]), e.below[i]
			if k > 0 {
				if from >= s.Milli {
					fit -= k
				} else {
					below -= int64(k) * int64(from)
				}
				if to >= s.Milli {
					fit += k
				} else {
					below += int64(k) * int64(to)
				}
			}
			fr = free
			if fit >= s.GPUs {
				fr = below
			}
		}
		f += w.P[i] * float64(fr)
	}
	return f
}

// Choice is where FGD puts a task on a node and what it costs.
type Choice struct {
	// Mask holds the GPUs the task takes (bit g is GPU g); 0 for a
	// CPU-only task.
	Mask uint64
	// Delta is F(n′) − F(n), the increase of the node's expected
	// fragmentation (negative when the placement removes fragments).
	Delta float64
}

// Choose returns FGD's placement of task t on node n (paper §4): a shared-
// GPU task goes to the GPU that increases the expected fragmentation the
// least (the lowest index among equals); a whole-GPU task takes the
// lowest-index wholly free GPUs (how the authors' simulator allocates them;
// which wholly free GPUs does not change F). ok is false if t does not fit
// n (Fits). e is scratch space (nil allocates).
func (w *Workload) Choose(n Node, t Task, e *Eval) (c Choice, ok bool) {
	if !Fits(n, t) {
		return Choice{}, false
	}
	if e == nil {
		e = &Eval{}
	}
	f := w.Eval(n, e)
	switch {
	case t.GPUs == 0:
		return Choice{Delta: e.After(t, 0, 0) - f}, true
	case t.Shared():
		best := -1
		var bestF float64
		for g, r := range n.Free {
			if r < t.Milli || seenBefore(n.Free[:g], r, t.Milli) {
				continue
			}
			if after := e.After(t, r, 1); best < 0 || after < bestF {
				best, bestF = g, after
			}
		}
		return Choice{Mask: 1 << best, Delta: bestF - f}, true
	default:
		return Choice{Mask: LowestFree(n.Free, t.GPUs), Delta: e.After(t, FullGPU, t.GPUs) - f}, true
	}
}

// seenBefore reports whether a GPU among prev, one that fits milli, has r
// free: GPUs with equal free milli give equal F(n′), so only the first
// needs evaluating.
func seenBefore(prev []uint16, r, milli uint16) bool {
	for _, p := range prev {
		if p == r && p >= milli {
			return true
		}
	}
	return false
}

// LowestFree returns the mask of the k lowest-index wholly free GPUs
// (fewer if there are fewer).
func LowestFree(free []uint16, k int) uint64 {
	var m uint64
	for g, r := range free {
		if bits.OnesCount64(m) == k {
			break
		}
		if r == FullGPU {
			m |= 1 << g
		}
	}
	return m
}

// Place returns node n after task t takes the GPUs of mask (each losing
// t.Milli), its CPU and memory. n is not modified: the result has its own
// Free slice.
func Place(n Node, t Task, mask uint64) Node {
	out := n
	out.CPU -= t.CPU
	out.Memory -= t.Memory
	out.Free = slices.Clone(n.Free)
	for m := mask; m != 0; m &= m - 1 {
		out.Free[bits.TrailingZeros64(m)] -= t.Milli
	}
	return out
}

// Sigmoid is the logistic function 1/(1+e^−x), with which the authors'
// FGD plugin maps −Δ (in whole GPUs) to a 0..100 score.
func Sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
