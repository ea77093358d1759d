package fragmentation

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	"neosim/policies/frag"
)

// Policy is one of the paper's scheduling policies (protocol §3).
type Policy int

// The policies, in the paper's order.
const (
	Random Policy = iota
	DotProd
	GPUClustering
	GPUPacking
	BestFit
	FGD
	numPolicies
)

var policyNames = [numPolicies]string{"random", "dotprod", "gpuclustering", "gpupacking", "bestfit", "fgd"}

// String returns the policy's name.
func (p Policy) String() string {
	if p >= 0 && p < numPolicies {
		return policyNames[p]
	}
	return fmt.Sprintf("policy(%d)", int(p))
}

// PolicyNames returns the known policy names, in the paper's order.
func PolicyNames() []string { return policyNames[:] }

// ParsePolicy returns the policy named name.
func ParsePolicy(name string) (Policy, error) {
	for p, n := range policyNames {
		if strings.EqualFold(strings.TrimSpace(name), n) {
			return Policy(p), nil
		}
	}
	return 0, fmt.Errorf("fragmentation: unknown policy %q (known: %s)", name, strings.Join(policyNames[:], ", "))
}

// Default input files, relative to the repository root.
const (
	DefaultPods  = "../shared/traces/alibaba-openb-2023/openb_pod_list_default.csv"
	DefaultNodes = "../shared/traces/alibaba-openb-2023/openb_node_list_gpu_node.csv"
)

// Config is one experiment: policies × seeds on one pod and node list.
type Config struct {
	Pods  string // pod list (openb_pod_list_*.csv)
	Nodes string // node list (openb_node_list_*.csv)
	// Seeds are the tune seeds; the paper runs 42..51.
	Seeds    []int64
	Policies []Policy
	// Tune is the arrived GPU demand to stop at, a multiple of the GPU
	// capacity (the paper's -tune 1.3).
	Tune float64
	// Coverage is the share of pods the FGD target workload covers with its
	// most popular shapes (the paper's popularity 95%).
	Coverage float64
	// Workers runs this many runs at once (default runtime.NumCPU()).
	Workers int
	// Progress, if set, gets a plain line per finished run.
	Progress io.Writer
}

// DefaultConfig returns the paper's experiment: the six policies, seeds
// 42..51, tune 1.3, on the openb default pod list and GPU node list.
func DefaultConfig() Config {
	c := Config{Pods: DefaultPods, Nodes: DefaultNodes, Tune: 1.3, Coverage: 0.95}
	for s := int64(42); s < 52; s++ {
		c.Seeds = append(c.Seeds, s)
	}
	for p := range numPolicies {
		c.Policies = append(c.Policies, p)
	}
	return c
}

// EnsureDefaults fills the zero fields from DefaultConfig.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.Pods == "" {
		c.Pods = d.Pods
	}
	if c.Nodes == "" {
		c.Nodes = d.Nodes
	}
	if c.Seeds == nil {
		c.Seeds = d.Seeds
	}
	if c.Policies == nil {
		c.Policies = d.Policies
	}
	if c.Tune == 0 {
		c.Tune = d.Tune
	}
	if c.Coverage == 0 {
		c.Coverage = d.Coverage
	}
	if c.Workers <= 0 {
		c.Workers = runtime.NumCPU()
	}
}

// Validate checks the settings.
func (c *Config) Validate() error {
	switch {
	case len(c.Seeds) == 0:
		return errors.New("fragmentation: no seeds")
	case len(c.Policies) == 0:
		return errors.New("fragmentation: no policies")
	case !(c.Tune > 0 && c.Tune <= 10):
		return fmt.Errorf("fragmentation: tune %v outside (0, 10]", c.Tune)
	case !(c.Coverage > 0 && c.Coverage <= 1):
		return fmt.Errorf("fragmentation: coverage %v outside (0, 1]", c.Coverage)
	}
	for _, p := range c.Policies {
		if p < 0 || p >= numPolicies {
			return fmt.Errorf("fragmentation: unknown policy %d", p)
		}
	}
	return nil
}

// MaxPct returns the last arrived-demand percentage of the curves.
func (c *Config) MaxPct() int { return int(math.Round(c.Tune * 100)) }

// RunResult is one policy on one seed.
type RunResult struct {
	Policy Policy
	Seed   int64
	// Alloc[x] is the GPU allocation ratio (allocated milli-GPU over the
	// capacity, in percent) when the arrived GPU demand is x percent of the
	// capacity, x = 0..MaxPct (the paper's allo_discrete).
	Alloc []float64
	// Pods is the number submitted, Failed those that fit nowhere.
	Pods, Failed int
	// ArrivedMilli and UsedMilli are the totals after the last pod.
	ArrivedMilli, UsedMilli int64
	Wall                    time.Duration
}

// Result is a finished experiment.
type Result struct {
	Config Config
	GPUs   int // cluster GPUs
	// Typical is the number of task shapes in FGD's target workload, of
	// Shapes distinct shapes in the pod list.
	Typical, Shapes int
	Runs            []RunResult // policy-major, in Config order
	Wall            time.Duration
}

// Run loads the inputs and runs the experiment.
func Run(cfg Config) (*Result, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	in, err := Load(cfg.Pods, cfg.Nodes)
	if err != nil {
		return nil, fmt.Errorf("fragmentation: %w", err)
	}
	return RunInputs(in, cfg)
}

// TargetWorkload is FGD's target workload for a pod list: the most popular
// task shapes of all its pods (CPU-only ones included) covering coverage
// of them (protocol §3, GetTypicalPods).
func TargetWorkload(in *Inputs, coverage float64) frag.Workload {
	return frag.Typical(countsOf(in), coverage)
}

// RunInputs runs the experiment on loaded inputs: every (policy, seed) in
// parallel on cfg.Workers goroutines. Each run is deterministic given its
// seed, so the result does not depend on the number of workers.
func RunInputs(in *Inputs, cfg Config) (*Result, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	target := TargetWorkload(in, cfg.Coverage)
	res := &Result{Config: cfg, GPUs: in.GPUs(), Typical: target.Len(), Shapes: frag.Typical(countsOf(in), 1).Len()}
	res.Runs = make([]RunResult, len(cfg.Policies)*len(cfg.Seeds))
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range min(cfg.Workers, len(res.Runs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				p, seed := cfg.Policies[k/len(cfg.Seeds)], cfg.Seeds[k%len(cfg.Seeds)]
				rr := runOne(in, &target, p, seed, cfg.Tune, cfg.MaxPct())
				res.Runs[k] = rr
				if cfg.Progress != nil {
					mu.Lock()
					done++
					fmt.Fprintf(cfg.Progress, "fragmentation: %d/%d runs · %s seed %d: %.2f%% of GPUs allocated at 100%% arrived, %d of %d pods failed · %.1fs (%.0fs elapsed)\n",
						done, len(res.Runs), p, seed, rr.At(100), rr.Failed, rr.Pods, rr.Wall.Seconds(), time.Since(start).Seconds())
					mu.Unlock()
				}
			}
		}()
	}
	for k := range res.Runs {
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	res.Wall = time.Since(start)
	return res, nil
}

func countsOf(in *Inputs) []frag.Count {
	counts := make([]frag.Count, len(in.Pods))
	for i := range in.Pods {
		counts[i] = frag.Count{Task: in.Pods[i].Task(), N: 1}
	}
	return counts
}

func runOne(in *Inputs, target *frag.Workload, p Policy, seed int64, tune float64, maxPct int) RunResult {
	t0 := time.Now()
	w := build(in, seed, tune)
	r := newRun(in, p, w, target)
	events := r.simulate()
	rr := RunResult{Policy: p, Seed: seed, Alloc: discrete(events, in.GPUs(), maxPct), Pods: len(events), Failed: r.failed}
	if len(events) > 0 {
		rr.ArrivedMilli, rr.UsedMilli = events[len(events)-1].arrived, events[len(events)-1].used
	}
	rr.Wall = time.Since(t0)
	return rr
}

// At returns the allocation ratio (percent) at pct percent arrived
// demand, or NaN outside the curve.
func (r *RunResult) At(pct int) float64 {
	if pct < 0 || pct >= len(r.Alloc) {
		return math.NaN()
	}
	return r.Alloc[pct]
}

// PolicySummary is a policy's curves summarized over the seeds.
type PolicySummary struct {
	Policy Policy
	// Mean and SD of the allocation ratio (percent) at 100% arrived demand.
	Mean100, SD100 float64
	// Mean allocation ratio at the last point (Tune).
	MeanEnd float64
	// Unallocated100 is the mean number of GPUs left unallocated at 100%
	// arrived demand.
	Unallocated100 float64
	// FailedPods is the mean number of pods that fit nowhere.
	FailedPods float64
}

// Summary returns one PolicySummary per policy, in Config order.
func (r *Result) Summary() []PolicySummary {
	var out []PolicySummary
	ns := len(r.Config.Seeds)
	for pi, p := range r.Config.Policies {
		runs := r.Runs[pi*ns : (pi+1)*ns]
		s := PolicySummary{Policy: p}
		var sum, sq, end, failed float64
		for i := range runs {
			v := runs[i].At(100)
			sum += v
			sq += v * v
			end += runs[i].At(r.Config.MaxPct())
			failed += float64(runs[i].Failed)
		}
		n := float64(ns)
		s.Mean100 = sum / n
		if ns > 1 {
			s.SD100 = math.Sqrt(max(0, (sq-sum*sum/n)/(n-1)))
		}
		s.MeanEnd = end / n
		s.FailedPods = failed / n
		s.Unallocated100 = (100 - s.Mean100) / 100 * float64(r.GPUs)
		out = append(out, s)
	}
	return out
}

// WriteSummary prints the per-policy table.
func (r *Result) WriteSummary(w io.Writer) {
	fmt.Fprintf(w, "fragmentation: %d GPUs, %d policies × %d seeds, FGD target workload %d of %d task shapes, %.1fs wall\n\n",
		r.GPUs, len(r.Config.Policies), len(r.Config.Seeds), r.Typical, r.Shapes, r.Wall.Seconds())
	fmt.Fprintf(w, "%-14s %14s %8s %18s %12s %12s\n", "policy", "alloc@100%", "sd", "unallocated GPUs", fmt.Sprintf("alloc@%d%%", r.Config.MaxPct()), "failed pods")
	for _, s := range r.Summary() {
		fmt.Fprintf(w, "%-14s %13.2f%% %8.2f %18.1f %11.2f%% %12.1f\n", s.Policy, s.Mean100, s.SD100, s.Unallocated100, s.MeanEnd, s.FailedPods)
	}
}
