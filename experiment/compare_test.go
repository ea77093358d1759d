package experiment

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"neosim/results"
	"neosim/runner"
	"neosim/scenario"
	"neosim/sim"
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
	if len(c.Rows) != 2 || c.Rows[0].Allocator != "fifo" || c.Rows[1].Allocator != "priority" || c.Baseline != (Cell{Pair: Pair{"fifo", "flat"}}) {
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
			vals = append(vals, results.MetricValues(&c.Summaries[1][k])[i])
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

// readArrivals reads (job_id, submit_s, gpus) of every row of a jobs.arrow.
func readArrivals(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	col := func(rec arrow.RecordBatch, name string) arrow.Array {
		idx := rec.Schema().FieldIndices(name)
		if len(idx) != 1 {
			t.Fatalf("%s: no column %s", path, name)
		}
		return rec.Column(idx[0])
	}
	var rows []string
	for i := range r.NumRecords() {
		rec, err := r.RecordBatch(i)
		if err != nil {
			t.Fatal(err)
		}
		ids, submit, gpus := col(rec, "job_id").(*array.String), col(rec, "submit_s").(*array.Float64), col(rec, "gpus").(*array.Int32)
		for k := range int(rec.NumRows()) {
			rows = append(rows, fmt.Sprintf("%s %v %d", ids.Value(k), submit.Value(k), gpus.Value(k)))
		}
	}
	slices.Sort(rows)
	return rows
}

// TestCommonRandomNumbers: for a seed, every pair sees the same arrivals
// (job ids, submit times, sizes), so the paired differences against the
// baseline have narrower intervals than unpaired ones would.
func TestCommonRandomNumbers(t *testing.T) {
	out := filepath.Join(t.TempDir(), "crn")
	load := func() (*scenario.Scenario, error) { return defaultFor(t, 2*sim.Day), nil }
	c, err := Compare(load, CompareOptions{Allocators: []string{"priority", "backfill"}, Pricers: []string{"flat", "utilization"},
		Seeds: []uint64{1, 2, 3, 4, 5}, Out: out, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []uint64{1, 4} {
		base := readArrivals(t, filepath.Join(RunDir(out, Cell{Pair: c.Pairs[0]}, seed), results.JobsFile))
		if len(base) == 0 {
			t.Fatal("no jobs")
		}
		for _, p := range c.Pairs[1:] {
			if got := readArrivals(t, filepath.Join(RunDir(out, Cell{Pair: p}, seed), results.JobsFile)); !slices.Equal(got, base) {
				t.Errorf("seed %d: %s saw %d arrivals, %s %d, or different ones", seed, p, len(got), c.Pairs[0], len(base))
			}
		}
	}
	// Paired vs unpaired 95% half-widths of the difference to the
	// baseline, for the metrics the policies move.
	tq := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(c.Seeds) - 1)}.Quantile(0.975)
	narrower := 0
	for mi, m := range results.ComparisonMetrics {
		for pi := 1; pi < len(c.Pairs); pi++ {
			st := c.Rows[pi].Metrics[mi]
			if math.IsNaN(st.DiffCI95) || st.DiffMean == 0 {
				continue
			}
			var a, b []float64
			for k := range c.Seeds {
				a = append(a, results.MetricValues(&c.Summaries[pi][k])[mi])
				b = append(b, results.MetricValues(&c.Summaries[0][k])[mi])
			}
			n := float64(len(a))
			unpaired := tq * math.Sqrt((stat.Variance(a, nil)+stat.Variance(b, nil))/n)
			t.Logf("%s %s: paired ±%.4g, unpaired ±%.4g", c.Pairs[pi], m.Name, st.DiffCI95, unpaired)
			if st.DiffCI95 < unpaired {
				narrower++
			} else if m.Name == "external_revenue" || m.Name == "utilization" {
				t.Errorf("%s %s: paired half-width %.4g is not below the unpaired %.4g", c.Pairs[pi], m.Name, st.DiffCI95, unpaired)
			}
		}
	}
	if narrower == 0 {
		t.Error("no metric differed between the pairs")
	}
}

// TestCompareAgain: a comparison run again into its folder with other
// settings replaces the earlier one: runs no longer part of it are removed.
func TestCompareAgain(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cmp")
	load := func() (*scenario.Scenario, error) { return defaultFor(t, 6*sim.Hour), nil }
	if _, err := Compare(load, CompareOptions{Allocators: []string{"fifo", "priority"}, Seeds: []uint64{1, 2, 3}, Out: out}); err != nil {
		t.Fatal(err)
	}
	c, err := Compare(load, CompareOptions{Allocators: []string{"fifo"}, Seeds: []uint64{1, 2}, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 1 || c.Rows[0].Runs != 2 {
		t.Fatalf("rows %+v", c.Rows)
	}
	for _, gone := range []string{"allocator=priority", "allocator=fifo/pricer=flat/seed=3"} {
		if _, err := os.Stat(filepath.Join(out, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there (%v)", gone, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "allocator=fifo/pricer=flat/seed=2", results.RunFile)); err != nil {
		t.Error(err)
	}
}

// TestCompareWarningsNameTheRun: among many runs' warnings, each line says
// which run it is about, and a run that wrote no jobs file does not send
// the reader to one.
func TestCompareWarningsNameTheRun(t *testing.T) {
	load := func() (*scenario.Scenario, error) {
		s := defaultFor(t, sim.Day)
		s.Fleet = scenario.Fleet{Spec: "2x8xH100"} // 16 GPUs: the larger jobs can never fit
		return s, nil
	}
	var warn bytes.Buffer
	if _, err := Compare(load, CompareOptions{Allocators: []string{"fifo"}, Pricers: []string{"flat"}, Seeds: []uint64{1, 2},
		Out: filepath.Join(t.TempDir(), "cmp"), Jobs: 2, Warn: &warn, Run: runner.Options{Outputs: results.OutSummary}}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(warn.String(), "\n"), "\n")
	var seeds []string
	for _, l := range lines {
		label, msg, ok := strings.Cut(l, ": neosim: ")
		if !ok || !strings.HasPrefix(label, "run allocator=fifo pricer=flat seed=") {
			t.Errorf("a warning that names no run: %q", l)
			continue
		}
		if strings.Contains(msg, "rejected") {
			seeds = append(seeds, strings.TrimPrefix(label, "run allocator=fifo pricer=flat "))
			if !strings.Contains(msg, "wrote no jobs file") {
				t.Errorf("a summary-only run's warning sends the reader to a jobs file: %q", l)
			}
		}
	}
	slices.Sort(seeds)
	if !slices.Equal(seeds, []string{"seed=1", "seed=2"}) {
		t.Errorf("rejection warnings of %v, want one for each of seed=1 and seed=2; stderr:\n%s", seeds, warn.String())
	}
}
