package experiment

import (
	"errors"
	"math"
	"path/filepath"
	"slices"

	"github.com/google/renameio/v2"

	"neosim/results"
)

// Defaults of a Precision target.
const (
	// DefaultPrecisionFloor is the absolute floor, in USD, of a precision
	// target's half-width: a Δ net value near 0 is known well enough when
	// its 95% CI is within ±$1,000, however small relative to it.
	DefaultPrecisionFloor = 1000.0
	// DefaultMaxSeeds is the most seeds a cell runs with a precision target.
	DefaultMaxSeeds = 30
)

// Precision is a target for the paired difference in net value of every
// cell against the baseline: seeds are added (common random numbers: the
// same seed numbers, in order, to every cell that needs more, and to the
// baseline) until, for each cell, the 95% CI half-width of its per-seed
// Δ net value is within Rel × |mean Δ| or Floor USD, whichever is larger,
// or the cell has MaxSeeds seeds.
type Precision struct {
	Rel      float64 // R; 0: no target (the seeds given, once)
	Floor    float64 // USD; ≤ 0 means DefaultPrecisionFloor
	MaxSeeds int     // ≤ 0 means DefaultMaxSeeds
}

func (p Precision) on() bool { return p.Rel > 0 }

func (p Precision) withDefaults() Precision {
	if p.Floor <= 0 {
		p.Floor = DefaultPrecisionFloor
	}
	if p.MaxSeeds <= 0 {
		p.MaxSeeds = DefaultMaxSeeds
	}
	return p
}

// check refuses what a precision target cannot be combined with.
func (p Precision) check(opt execOptions) error {
	switch {
	case p.Rel < 0 || math.IsNaN(p.Rel):
		return errors.New("precision must be > 0")
	case !p.on():
		return nil
	case !opt.Shard.whole():
		// A shard sees only some runs: it cannot know which cells need
		// more seeds, and shards would add different ones.
		return errors.New("a precision target needs every run in one process: it cannot be combined with shards (run without --shard, or give fixed --seeds)")
	case opt.Resume:
		return errors.New("a precision target cannot be combined with --resume (run it again: the seeds it adds depend on every run's result)")
	case opt.Run.NoCounterfactual:
		return errors.New("a precision target is on the net value, which needs the counterfactual (drop --counterfactual=false)")
	}
	return nil
}

// met reports whether a cell's paired Δ net value meets the target, and the
// seeds it is estimated to need (≥ n + 1 when not met).
func (p Precision) met(cell, base [][]float64) (ok bool, need int) {
	n := len(cell)
	mean, half := pairedDiff(cell, base, netValueIdx)
	target := max(p.Rel*math.Abs(mean), p.Floor)
	if !math.IsNaN(half) && half <= target {
		return true, n
	}
	if math.IsNaN(half) {
		return false, max(n+1, 2)
	}
	// half shrinks as 1/√n (t aside): aim at the estimate, but at most
	// double the seeds in a round so that a noisy early estimate does not
	// overshoot far.
	est := int(math.Ceil(float64(n) * (half / target) * (half / target)))
	return false, min(max(est, n+1), 2*n)
}

// refine adds seeds to the cells of a whole matrix that ran once (values
// and sums over m.Seeds) until p is met or MaxSeeds is reached, and returns
// the values of each cell over its own seeds, its summaries likewise, and
// the cells that reached MaxSeeds without meeting p.
func (m *matrix) refine(p Precision, values [][][]float64, sums [][]results.Summary, opt execOptions, prog *runCounter) ([][][]float64, [][]results.Summary, []int, error) {
	p = p.withDefaults()
	n := make([]int, m.cells()) // seeds each cell has run
	for c := range n {
		n[c] = len(m.Seeds)
	}
	for {
		want := make([]int, m.cells())
		copy(want, n)
		for c := range want {
			if c == m.Baseline || n[c] >= p.MaxSeeds {
				continue
			}
			if ok, need := p.met(values[c][:n[c]], values[m.Baseline][:n[m.Baseline]]); !ok {
				want[c] = min(need, p.MaxSeeds)
			}
		}
		most := 0
		for _, w := range want {
			most = max(most, w)
		}
		want[m.Baseline] = max(want[m.Baseline], most) // the baseline pairs with every cell
		if slices.Equal(want, n) {
			break
		}
		m.addSeeds(most)
		for c := range values {
			for len(values[c]) < len(m.Seeds) {
				values[c] = append(values[c], nil)
				sums[c] = append(sums[c], results.Summary{})
			}
		}
		var ks []int
		for c := range want {
			for si := n[c]; si < want[c]; si++ {
				ks = append(ks, c*len(m.Seeds)+si)
			}
		}
		m.CellSeeds = want
		if err := m.rewriteManifest(opt.Out); err != nil {
			return nil, nil, nil, err
		}
		if err := m.runAll(ks, values, sums, opt, prog); err != nil {
			return nil, nil, nil, err
		}
		n = want
	}
	var unmet []int
	for c := range values {
		values[c], sums[c] = values[c][:n[c]], sums[c][:n[c]]
		if c != m.Baseline {
			if ok, _ := p.met(values[c], values[m.Baseline]); !ok {
				unmet = append(unmet, c)
			}
		}
	}
	return values, sums, unmet, nil
}

// addSeeds extends m.Seeds to n seeds: the numbers after the largest seed,
// in order.
func (m *matrix) addSeeds(n int) {
	next := slices.Max(m.Seeds)
	for len(m.Seeds) < n {
		next++
		m.Seeds = append(m.Seeds, next)
	}
}

// rewriteManifest replaces out's manifest with m's (the seeds a precision
// target added), keeping every run folder.
func (m *matrix) rewriteManifest(out string) error {
	b, err := m.manifest()
	if err != nil {
		return err
	}
	return renameio.WriteFile(filepath.Join(out, ManifestFile), b, 0o644)
}
