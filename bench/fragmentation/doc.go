// Package fragmentation reproduces the openb experiment of Weng et al.,
// "Beware of Fragmentation: Scheduling GPU-Sharing Workloads with
// Fragmentation Gradient Descent" (USENIX ATC'23), as the authors'
// simulator runs it (../shared/papers/fgd-openb-protocol.md; section
// numbers below are that file's). `neosim bench fragmentation` runs it.
//
// The experiment has its own small cluster model, because the simulator's
// fleet has no host CPU or memory and the paper's placements depend on
// both: a node is its free CPU, free memory, GPU model and per-GPU free
// milli-GPU; a pod (task) asks CPU, memory, GPUs, a milli-GPU share per GPU
// and optionally a set of GPU models. The fragmentation math is
// policies/frag's, shared with the fgd allocator.
//
// One run (a policy and a seed), §1:
//
//  1. Inputs: every pod of the pod list (CPU-only pods included; phases and
//     times ignored: pods never leave), sorted by name; the nodes of the node
//     list (for the paper, openb_node_list_gpu_node.csv: 1213 nodes, 6212
//     GPUs), sorted by name. gpu_milli is clamped to 1000.
//  2. Random draws from math/rand's original source seeded with the seed,
//     in the authors' order: one Int (discarded), a Shuffle of the pods, one
//     Intn per cloned pod, 10 Float64 (the authors' scheduler starting: one
//     per informer watch, drawn from the same global source), a Perm of the
//     nodes, then the random policy's draws. This is the one place neosim
//     uses math/rand rather than PCG streams (STYLE.md §7): the draw
//     sequence is part of the protocol, and with it the pod order and node
//     ranks are those of the authors' runs. Every curve point of seeds
//     42..51 matches their published curves for every policy but random
//     (TestOpenbDefault; testdata/authors_allo_discrete.csv).
//  3. Inflation to Tune (1.3) × the GPU capacity: pods drawn uniformly with
//     replacement from the originals sorted by name (index Intn(n), the
//     authors' workloadPods) are appended after the shuffled originals
//     until the next draw would pass the target. Quirk kept: the stop test
//     adds the drawn pod's per-GPU milli, the running sum its total. Demand
//     above the target instead removes random pods.
//  4. Node ranks: node i (in name order) is renamed "%04d-name" with the
//     Perm's i-th value; score ties go to the smallest renamed name.
//  5. Pods are submitted one at a time in list order. Filter (§2): CPU and
//     memory; a GPU pod needs an allowed model and GPUs with its share free.
//     No feasible node: the pod fails and is dropped (never retried) but
//     its demand has arrived. One feasible node: taken unscored. Else the
//     policy scores every feasible node and the highest integer score wins.
//  6. GPUs on the chosen node: whole-GPU pods take the lowest-index wholly
//     free GPUs; a shared pod takes a uniformly drawn fitting GPU (random,
//     by reservoir sampling), FGD's choice (fgd), or the fitting GPU with
//     the least free milli (the others).
//
// The policies (§3; MaxSpecCpu 128000, MaxSpecGpu 8000; integer scores):
//
//   - random: a feasible node drawn uniformly (in rank order; the authors'
//     order comes from a parallel filter and is not reproducible).
//   - dotprod: int(100·(1 − d/2)), d = node [cpu free/128000, GPU free/8000]
//     · pod [cpu/128000, GPU/8000].
//   - gpuclustering: 25·(8000 − GPU free)/8000 plus 75 if the node's GPU
//     pods all share the pod's tag (share-gpu, n-gpu), 50 if the tag is
//     among several, 25 if the node has no GPU pod; CPU pods 0.
//   - gpupacking: max(33 − G, G) on an idle G-GPU node; max(50 − f, 33) if
//     the pod would take f > 0 wholly free GPUs; else
//     max(100 − (Σ_g free_g·100/1000)/10, 50) with the sum over the GPUs
//     the pod would use (the authors' gpuToUse: for a shared pod, its
//     fitting GPU with the least free milli). CPU pods 0.
//   - bestfit: int(100·(1 − [0.5·(cpu free − cpu)/128000 + 0.5·(GPU free −
//     GPU)/8000])), min–max normalized to 0..100 over the feasible nodes.
//   - fgd: int(100·σ((F − F′)/1000)), F and F′ the node's expected
//     fragmentation before and after (frag.Workload; memory ignored), the
//     target workload being the most popular (CPU, milli, GPUs, models)
//     shapes covering 95% of the original pods (35 of 91 for openb
//     default); a shared pod tries each fitting GPU and keeps the first
//     with the best score. Ties on the model set are ordered by the set's
//     bits rather than by the spec string (no effect on the default trace,
//     which has no GPU-type constraints).
//
// Metric (§4): after every pod, arrived = Σ GPUs·milli of the pods so far
// and used = allocated milli-GPU. The curve's point X (0..130) is the mean,
// over the pods whose arrived demand rounds (half to even) to X% of the
// GPU capacity, of used as a percentage of the capacity rounded to 2
// decimals; a point with no pods takes those within X ± 1 (and, if there
// are none either, the previous point). The mean and the roundings are
// those of the authors' analysis script (numpy 1.24's pairwise mean,
// Python's round), so that the points are theirs to the last digit. The
// output has one row per (policy, seed, X): policy, seed, arrived_pct = X,
// alloc_pct.
//
// Runs are independent and deterministic per seed; RunInputs runs them in
// parallel. On the openb default trace a run takes 0.2 s (bestfit) to 1.5 s
// (fgd, which evaluates F′ for every feasible node and GPU with frag.Eval's
// O(shapes) update) on one core of the development machine.
package fragmentation
