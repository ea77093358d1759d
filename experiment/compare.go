package experiment

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"neosim/policies"
	"neosim/results"
	"neosim/runner"
	"neosim/scenario"
)

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
	// Warn receives the runs' warnings, a write at a time (never two at
	// once), each line prefixed with the run it is about; nil discards
	// them.
	Warn io.Writer
	// Done, if set, is called after each run that succeeded, one call at
	// a time.
	Done func(RunDone)
	// Run holds the per-run options (Out and Warn are set per run).
	Run runner.Options
	// Precision, if set, adds seeds after Seeds until each pair's paired
	// Δ net value against the baseline is known to within it.
	Precision Precision
}

// Comparison is a finished comparison or sweep (or this shard's part of a
// sweep, whose Rows are then nil).
type Comparison struct {
	Out      string
	Params   []results.SweepParam // nil in a comparison
	Variants []Variant            // one, unnamed, in a comparison
	Pairs    []Pair
	Seeds    []uint64
	Baseline Cell
	// Summaries[c][k] is cell c's run with seed k (zero for runs of other
	// shards); cell c is variant c / len(Pairs), pair c % len(Pairs). With
	// a precision target, cell c ran the first len(Summaries[c]) seeds.
	Summaries [][]results.Summary
	Rows      []results.ComparisonRow // one per cell; nil for a shard
	// Precision is the target the seeds were added for (zero: none), and
	// Unmet the cells that reached its MaxSeeds without meeting it.
	Precision Precision
	Unmet     []Cell
}

// DefaultCompareOut returns the default output folder of a comparison.
func DefaultCompareOut(s *scenario.Scenario) string {
	return filepath.Join("results", "compare", s.Name)
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
	if opt.Out == "" {
		opt.Out = DefaultCompareOut(base)
	}
	m := &matrix{Name: base.Name, Variants: []Variant{{load: load}}}
	if err := m.setPairs(opt.Allocators, opt.Pricers, opt.Seeds); err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	if err := m.setBaseline(Cell{Pair: opt.Baseline}); err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	if err := m.setDigests(); err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	c, err := m.run(execOptions{Out: opt.Out, Jobs: opt.Jobs, Warn: opt.Warn, Done: opt.Done, Run: opt.Run, Precision: opt.Precision})
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	return c, nil
}

// setPairs checks the policy names and seeds and sets m's pairs and seeds.
func (m *matrix) setPairs(allocators, pricers []string, seeds []uint64) error {
	if len(seeds) == 0 {
		seeds = []uint64{1, 2, 3}
	}
	seen := map[uint64]bool{}
	for _, s := range seeds {
		if s == 0 || seen[s] {
			return fmt.Errorf("seeds must be ≥ 1 and distinct (got %d twice or 0)", s)
		}
		seen[s] = true
	}
	m.Seeds = seeds
	for _, a := range allocators {
		if _, err := policies.Allocators.New(a); err != nil {
			return err
		}
	}
	for _, p := range pricers {
		if _, err := policies.Pricers.New(p); err != nil {
			return err
		}
	}
	for _, a := range allocators {
		for _, p := range pricers {
			pr := Pair{a, p}
			for _, q := range m.Pairs {
				if q == pr {
					return fmt.Errorf("pair %s listed twice", pr)
				}
			}
			m.Pairs = append(m.Pairs, pr)
		}
	}
	return nil
}

// setBaseline sets the baseline cell; empty fields mean the first variant,
// allocator or pricer.
func (m *matrix) setBaseline(b Cell) error {
	if b.Variant == "" {
		b.Variant = m.Variants[0].Name
	}
	if b.Allocator == "" {
		b.Allocator = m.Pairs[0].Allocator
	}
	if b.Pricer == "" {
		b.Pricer = m.Pairs[0].Pricer
	}
	for c := range m.cells() {
		if m.cell(c) == b {
			m.Baseline = c
			return nil
		}
	}
	return fmt.Errorf("baseline %s is not one of the cells compared", b)
}

// run executes the matrix (this shard of it) and, when it ran whole,
// writes comparison.arrow.
func (m *matrix) run(opt execOptions) (*Comparison, error) {
	if err := opt.Precision.check(opt); err != nil {
		return nil, err
	}
	prog := &runCounter{started: time.Now()}
	values, sums, err := m.execute(opt, prog)
	if err != nil {
		return nil, err
	}
	var unmet []Cell
	if opt.Precision.on() {
		var cells []int
		if values, sums, cells, err = m.refine(opt.Precision, values, sums, opt, prog); err != nil {
			return nil, err
		}
		for _, ci := range cells {
			unmet = append(unmet, m.cell(ci))
		}
		opt.Precision = opt.Precision.withDefaults()
	}
	c := &Comparison{Out: opt.Out, Params: m.Params, Variants: m.Variants, Pairs: m.Pairs, Seeds: m.Seeds,
		Baseline: m.cell(m.Baseline), Summaries: sums, Precision: opt.Precision, Unmet: unmet}
	if !opt.Shard.whole() {
		return c, nil
	}
	c.Rows = m.rows(values)
	if err := results.WriteComparison(opt.Out, m.Params, c.Rows); err != nil {
		return nil, err
	}
	return c, nil
}
