package runner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"neosim/policies"
	"neosim/results"
	"neosim/sim/scenario"
)

// Pair is one (allocator, pricer) combination of a comparison.
type Pair struct{ Allocator, Pricer string }

func (p Pair) String() string { return p.Allocator + "/" + p.Pricer }

// CompareOptions are a comparison's settings besides the scenario.
type CompareOptions struct {
	// Allocators and Pricers span the matrix; empty means the scenario's.
	// A scenario's allocator_params (pricer_params) apply only to runs of
	// its own allocator (pricer): other policies run with their defaults.
	Allocators, Pricers []string
	// Seeds are the seeds every pair runs with (common random numbers:
	// one seed, the same jobs for every pair). Empty means 1, 2, 3.
	Seeds []uint64
	// Baseline is the pair the differences are taken against; zero means
	// the first pair.
	Baseline Pair
	// Out is the output folder; "" means results/compare/<scenario>.
	Out string
	// Jobs is the number of runs at once; ≤ 0 means runtime.NumCPU().
	Jobs int
	// Warn receives the runs' warnings; nil discards them.
	Warn io.Writer
	// Done, if set, is called after each run that succeeded, one call at
	// a time.
	Done func(RunDone)
}

// RunDone reports one finished run of a comparison.
type RunDone struct {
	Pair
	Seed        uint64
	Out         string
	Wall        time.Duration // the run's
	Elapsed     time.Duration // since the comparison started
	Done, Total int
}

// Comparison is a finished comparison.
type Comparison struct {
	Out      string
	Baseline Pair
	Pairs    []Pair
	Seeds    []uint64
	// Summaries[i][k] is pair i's run with seed k.
	Summaries [][]results.Summary
	Rows      []results.ComparisonRow // one per pair, in Pairs order
}

// DefaultCompareOut returns the default output folder of a comparison.
func DefaultCompareOut(s *scenario.Scenario) string {
	return filepath.Join("results", "compare", s.Name)
}

// RunDir is a run's folder in a comparison's dataset (hive partitioning:
// key=value folders).
func RunDir(out string, p Pair, seed uint64) string {
	return filepath.Join(out, "allocator="+p.Allocator, "pricer="+p.Pricer, "seed="+strconv.FormatUint(seed, 10))
}

// Compare runs every pair of opt.Allocators × opt.Pricers with every seed,
// opt.Jobs runs at once, each into its RunDir, then writes comparison.arrow
// to the output folder. load returns a fresh copy of the scenario (runs
// change the scenario they are given, so they cannot share one). The first
// run error stops the comparison: no comparison.arrow is written.
func Compare(load func() (*scenario.Scenario, error), opt CompareOptions) (*Comparison, error) {
	base, err := load()
	if err != nil {
		return nil, err
	}
	base.EnsureDefaults()
	if len(opt.Allocators) == 0 {
		opt.Allocators = []string{base.Allocator}
	}
	if len(opt.Pricers) == 0 {
		opt.Pricers = []string{base.Pricer}
	}
	if len(opt.Seeds) == 0 {
		opt.Seeds = []uint64{1, 2, 3}
	}
	seen := map[uint64]bool{}
	for _, s := range opt.Seeds {
		if s == 0 || seen[s] {
			return nil, fmt.Errorf("compare: seeds must be ≥ 1 and distinct (got %d twice or 0)", s)
		}
		seen[s] = true
	}
	for _, a := range opt.Allocators {
		if _, err := policies.Allocators.New(a); err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
	}
	for _, p := range opt.Pricers {
		if _, err := policies.Pricers.New(p); err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
	}
	c := &Comparison{Out: opt.Out, Seeds: opt.Seeds}
	if c.Out == "" {
		c.Out = DefaultCompareOut(base)
	}
	for _, a := range opt.Allocators {
		for _, p := range opt.Pricers {
			pr := Pair{a, p}
			for _, q := range c.Pairs {
				if q == pr {
					return nil, fmt.Errorf("compare: pair %s listed twice", pr)
				}
			}
			c.Pairs = append(c.Pairs, pr)
		}
	}
	baseIdx := 0
	if opt.Baseline != (Pair{}) {
		baseIdx = -1
		for i, p := range c.Pairs {
			if p == opt.Baseline {
				baseIdx = i
			}
		}
		if baseIdx < 0 {
			return nil, fmt.Errorf("compare: baseline %s is not one of the pairs compared", opt.Baseline)
		}
	}
	c.Baseline = c.Pairs[baseIdx]
	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	// A stale table must not outlive a comparison that fails.
	if err := os.Remove(filepath.Join(c.Out, results.ComparisonFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("compare: %w", err)
	}

	nSeeds := len(c.Seeds)
	total := len(c.Pairs) * nSeeds
	c.Summaries = make([][]results.Summary, len(c.Pairs))
	for i := range c.Summaries {
		c.Summaries[i] = make([]results.Summary, nSeeds)
	}
	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	jobs = min(jobs, total)
	var (
		next    atomic.Int64 // index of the next run to start
		failed  atomic.Bool
		mu      sync.Mutex // guards errs, done and calls to opt.Done
		errs    = make([]error, total)
		done    int
		wg      sync.WaitGroup
		started = time.Now()
	)
	work := func() {
		defer wg.Done()
		for !failed.Load() {
			k := int(next.Add(1) - 1)
			if k >= total {
				return
			}
			pi, si := k/nSeeds, k%nSeeds
			pr, seed := c.Pairs[pi], c.Seeds[si]
			dir := RunDir(c.Out, pr, seed)
			res, err := c.runOne(load, base, pr, seed, dir, opt.Warn)
			mu.Lock()
			if err != nil {
				errs[k] = fmt.Errorf("compare: run allocator=%s pricer=%s seed=%d: %w", pr.Allocator, pr.Pricer, seed, err)
				failed.Store(true)
			} else {
				c.Summaries[pi][si] = res.Summary
				done++
				if opt.Done != nil {
					opt.Done(RunDone{Pair: pr, Seed: seed, Out: dir, Wall: res.Wall, Elapsed: time.Since(started), Done: done, Total: total})
				}
			}
			mu.Unlock()
		}
	}
	wg.Add(jobs)
	for range jobs {
		go work()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // the first in run order, whatever finished first
		}
	}
	c.Rows = Aggregate(c.Summaries, baseIdx)
	for i := range c.Rows {
		c.Rows[i].Allocator, c.Rows[i].Pricer = c.Pairs[i].Allocator, c.Pairs[i].Pricer
	}
	if err := results.WriteComparison(c.Out, c.Rows); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Comparison) runOne(load func() (*scenario.Scenario, error), base *scenario.Scenario, pr Pair, seed uint64, dir string, warn io.Writer) (*Result, error) {
	s, err := load()
	if err != nil {
		return nil, err
	}
	s.EnsureDefaults()
	if pr.Allocator != base.Allocator {
		s.AllocatorParams = nil
	}
	if pr.Pricer != base.Pricer {
		s.PricerParams = nil
	}
	s.Allocator, s.Pricer, s.Seed = pr.Allocator, pr.Pricer, seed
	return Run(s, Options{Out: dir, Warn: warn})
}

// Aggregate computes the comparison rows (all but the names) from
// summaries[pair][seed]: each metric's mean and 95% CI over the seeds, the
// mean and CI of the per-seed differences against summaries[baseline], and
// the Pareto frontier of (operating margin ↑, internal p99 wait ↓).
func Aggregate(summaries [][]results.Summary, baseline int) []results.ComparisonRow {
	ms := results.ComparisonMetrics
	rows := make([]results.ComparisonRow, len(summaries))
	var opIdx, p99Idx int
	for i, m := range ms {
		switch m.Name {
		case "operating_margin":
			opIdx = i
		case "internal_wait_p99":
			p99Idx = i
		}
	}
	up := make([]float64, len(summaries))
	down := make([]float64, len(summaries))
	for i, runs := range summaries {
		rows[i].Runs = len(runs)
		rows[i].Metrics = make([]results.MetricStats, len(ms))
		vals := make([]float64, len(runs))
		diffs := make([]float64, len(runs))
		for mi, m := range ms {
			for k := range runs {
				vals[k] = m.Value(&runs[k])
				diffs[k] = vals[k] - m.Value(&summaries[baseline][k])
			}
			st := &rows[i].Metrics[mi]
			st.Mean, st.CI95 = results.MeanCI95(vals)
			st.DiffMean, st.DiffCI95 = results.MeanCI95(diffs)
		}
		up[i], down[i] = rows[i].Metrics[opIdx].Mean, rows[i].Metrics[p99Idx].Mean
	}
	for i, on := range results.Pareto(up, down) {
		rows[i].Pareto = on
	}
	return rows
}
