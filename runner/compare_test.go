package runner

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"neosim/results"
	"neosim/sim"
	"neosim/sim/scenario"
)

func smallCompare(t *testing.T, out string, jobs int) *Comparison {
	t.Helper()
	load := func() (*scenario.Scenario, error) { return defaultFor(t, sim.Day), nil }
	c, err := Compare(load, CompareOptions{Allocators: []string{"fifo", "priority"}, Pricers: []string{"flat"},
		Seeds: []uint64{1, 2, 3}, Out: out, Jobs: jobs})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCompare(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cmp")
	var done int
	load := func() (*scenario.Scenario, error) { return defaultFor(t, sim.Day), nil }
	c, err := Compare(load, CompareOptions{Allocators: []string{"fifo", "priority"}, Pricers: []string{"flat"},
		Seeds: []uint64{1, 2, 3}, Out: out, Jobs: 3, Done: func(RunDone) { done++ }})
	if err != nil {
		t.Fatal(err)
	}
	if done != 6 {
		t.Errorf("Done called %d times, want 6", done)
	}
	for _, a := range []string{"fifo", "priority"} {
		for _, seed := range []string{"1", "2", "3"} {
			dir := filepath.Join(out, "allocator="+a, "pricer=flat", "seed="+seed)
			for _, f := range []string{results.JobsFile, results.TimeseriesFile, results.SummaryFile, results.RunFile} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("missing %v", err)
				}
			}
		}
	}
	if len(c.Rows) != 2 || c.Rows[0].Allocator != "fifo" || c.Rows[1].Allocator != "priority" || c.Baseline != (Pair{"fifo", "flat"}) {
		t.Fatalf("rows %+v, baseline %v", c.Rows, c.Baseline)
	}
	for i, m := range results.ComparisonMetrics {
		st := c.Rows[0].Metrics[i]
		if !math.IsNaN(st.Mean) && (st.DiffMean != 0 || st.DiffCI95 != 0) {
			t.Errorf("baseline row: %s difference %v ± %v, want 0 ± 0", m.Name, st.DiffMean, st.DiffCI95)
		}
		// The mean and CI are those of the per-seed values.
		var vals []float64
		for k := range c.Seeds {
			vals = append(vals, m.Value(&c.Summaries[1][k]))
		}
		mean, half := results.MeanCI95(vals)
		if got := c.Rows[1].Metrics[i]; !same(got.Mean, mean) || !same(got.CI95, half) {
			t.Errorf("priority %s = %v ± %v, want %v ± %v", m.Name, got.Mean, got.CI95, mean, half)
		}
	}
	// Common random numbers: every pair saw the same jobs for a seed.
	for k := range c.Seeds {
		if a, b := c.Summaries[0][k].Jobs, c.Summaries[1][k].Jobs; a != b {
			t.Errorf("seed %d: %d jobs under fifo, %d under priority", c.Seeds[k], a, b)
		}
	}
	if _, err := os.Stat(filepath.Join(out, results.ComparisonFile)); err != nil {
		t.Error(err)
	}
}

func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// TestCompareDeterministic: same inputs, same comparison.arrow bytes,
// whatever the number of runs at once.
func TestCompareDeterministic(t *testing.T) {
	dir := t.TempDir()
	smallCompare(t, filepath.Join(dir, "a"), 1)
	smallCompare(t, filepath.Join(dir, "b"), 4)
	a, err := os.ReadFile(filepath.Join(dir, "a", results.ComparisonFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "b", results.ComparisonFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("comparison.arrow differs between -j 1 and -j 4")
	}
}

func TestCompareErrors(t *testing.T) {
	load := func() (*scenario.Scenario, error) { return defaultFor(t, sim.Day), nil }
	out := filepath.Join(t.TempDir(), "cmp")
	_, err := Compare(load, CompareOptions{Allocators: []string{"fifo", "nope"}, Out: out})
	if err == nil || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "known:") {
		t.Errorf("unknown allocator: err = %v, want one listing the known names", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an unknown name still created %s", out)
	}
	_, err = Compare(load, CompareOptions{Pricers: []string{"nope"}, Out: out})
	if err == nil || !strings.Contains(err.Error(), "known:") {
		t.Errorf("unknown pricer: err = %v", err)
	}
	_, err = Compare(load, CompareOptions{Baseline: Pair{"backfill", "flat"}, Out: out})
	if err == nil || !strings.Contains(err.Error(), "baseline") {
		t.Errorf("baseline not compared: err = %v", err)
	}

	// A run that fails aborts the comparison, naming the run.
	bad := func() (*scenario.Scenario, error) {
		s := defaultFor(t, sim.Day)
		s.SampleInterval = -1
		return s, nil
	}
	_, err = Compare(bad, CompareOptions{Allocators: []string{"fifo", "priority"}, Seeds: []uint64{4, 5}, Out: out, Jobs: 2})
	if err == nil || !strings.Contains(err.Error(), "allocator=fifo pricer=flat seed=4") {
		t.Errorf("failing run: err = %v, want the first run's coordinates", err)
	}
	if _, err := os.Stat(filepath.Join(out, results.ComparisonFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed comparison left %s", results.ComparisonFile)
	}
}
