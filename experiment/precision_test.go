package experiment

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"neosim/results"
)

// netValues returns the net value of each of a cell's runs.
func netValues(sums []results.Summary) [][]float64 {
	out := make([][]float64, len(sums))
	for k := range sums {
		out[k] = results.MetricValues(&sums[k])
	}
	return out
}

// TestPrecisionAddsSeeds: from 2 seeds, seeds 3, 4, … are added to the pairs
// whose paired Δ net value is not yet known to ±R (or the floor), and to
// the baseline, until it is or MaxSeeds is reached; each row's runs are its
// own seeds, the manifest records them, and merge reproduces the table.
func TestPrecisionAddsSeeds(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sw")
	sw, err := ParseSweep("p.yaml", []byte("horizon: 12h\nseeds: 1-2\nallocators: [partition]\n"+
		"grid: {allocator_params.internal_share: [1, 0.9, 0.8]}\n"), SweepOverrides{})
	if err != nil {
		t.Fatal(err)
	}
	p := Precision{Rel: 0.5, Floor: 1, MaxSeeds: 12}
	var done, total int
	c, err := sw.Run(SweepOptions{Out: out, Jobs: 2, Precision: p, Done: func(d RunDone) { done, total = d.Done, d.Total }})
	if err != nil {
		t.Fatal(err)
	}
	cell := func(i int) Cell { return Cell{c.Variants[i].Name, c.Pairs[0]} }
	base := netValues(c.Summaries[0])
	added, early := false, false
	for i, row := range c.Rows {
		if row.Runs != len(c.Summaries[i]) || row.Runs < 2 || row.Runs > p.MaxSeeds {
			t.Fatalf("%s: %d runs, %d summaries", cell(i), row.Runs, len(c.Summaries[i]))
		}
		// The seeds are the first Runs of 1, 2, 3, …: the same numbers for every pair.
		for k := range row.Runs {
			if s := c.Summaries[i][k].Seed; s != uint64(k+1) {
				t.Errorf("%s: run %d has seed %d, want %d", cell(i), k, s, k+1)
			}
			if !complete(RunDir(out, cell(i), uint64(k+1))) {
				t.Errorf("%s seed %d: no run folder", cell(i), k+1)
			}
		}
		if complete(RunDir(out, cell(i), uint64(row.Runs+1))) {
			t.Errorf("%s: a run folder beyond its %d seeds", cell(i), row.Runs)
		}
		if i == 0 {
			continue
		}
		if row.Runs > c.Rows[0].Runs {
			t.Errorf("%s has %d seeds, more than the baseline's %d", cell(i), row.Runs, c.Rows[0].Runs)
		}
		// Independently: the criterion on the first n seeds' paired differences.
		vals := netValues(c.Summaries[i])
		holds := func(n int) bool {
			d := make([]float64, n)
			for k := range d {
				d[k] = vals[k][netValueIdx] - base[k][netValueIdx]
			}
			mean, half := results.MeanCI95(d)
			return half <= max(p.Rel*math.Abs(mean), p.Floor)
		}
		st := row.Metrics[netValueIdx]
		if !holds(row.Runs) && row.Runs < p.MaxSeeds {
			t.Errorf("%s: stopped at %d seeds with Δ net value %v ± %v, short of the target and of MaxSeeds", cell(i), row.Runs, st.DiffMean, st.DiffCI95)
		}
		if holds(row.Runs) == contains(c.Unmet, cell(i)) {
			t.Errorf("%s: target met %v, but Unmet = %v", cell(i), holds(row.Runs), c.Unmet)
		}
		early = early || holds(row.Runs) && row.Runs < p.MaxSeeds
		if row.Runs > 2 {
			added = true
			if holds(2) {
				t.Errorf("%s: seeds added although 2 met the target", cell(i))
			}
		}
		t.Logf("%s: %d seeds, Δ net value %.0f ± %.0f", cell(i), row.Runs, st.DiffMean, st.DiffCI95)
	}
	if !added || !early {
		t.Fatalf("seeds added %v, a cell met the target before MaxSeeds %v: the test checks little (change R)", added, early)
	}
	if c.Rows[0].Runs != slices.Max([]int{c.Rows[1].Runs, c.Rows[2].Runs}) {
		t.Errorf("the baseline ran %d seeds, the most of another cell is %d", c.Rows[0].Runs, max(c.Rows[1].Runs, c.Rows[2].Runs))
	}
	if total != done || done != c.Rows[0].Runs+c.Rows[1].Runs+c.Rows[2].Runs {
		t.Errorf("progress %d/%d, want every run counted", done, total)
	}

	// The manifest records each cell's seeds; merge reads the same runs back.
	b, err := os.ReadFile(filepath.Join(out, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		CellSeeds []int `json:"cell_seeds"`
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	for i, row := range c.Rows {
		if len(man.CellSeeds) != len(c.Rows) || man.CellSeeds[i] != row.Runs {
			t.Fatalf("manifest cell_seeds %v, rows' runs differ", man.CellSeeds)
		}
	}
	before, err := os.ReadFile(filepath.Join(out, results.ComparisonFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(out, []string{out}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(out, results.ComparisonFile))
	if !bytes.Equal(before, after) {
		t.Error("merge of a precision comparison wrote another comparison.arrow")
	}
}

func contains(cs []Cell, c Cell) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// TestPrecisionRefused: a precision target with shards, --resume or no
// counterfactual is an error before any run.
func TestPrecisionRefused(t *testing.T) {
	sw, err := ParseSweep("s.yaml", []byte("horizon: 1h\nseeds: 1-2\ngrid: {allocator_params.internal_share: [1, 0.9]}\nallocators: [partition]\n"), SweepOverrides{})
	if err != nil {
		t.Fatal(err)
	}
	p := Precision{Rel: 0.05}
	for _, c := range []struct {
		opt  SweepOptions
		want string
	}{
		{SweepOptions{Shard: Shard{0, 2}, Precision: p}, "shards"},
		{SweepOptions{Resume: true, Precision: p}, "--resume"},
		{SweepOptions{Precision: Precision{Rel: -1}}, "> 0"},
	} {
		c.opt.Out = filepath.Join(t.TempDir(), "sw")
		_, err := sw.Run(c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one about %q", c.opt, err, c.want)
		}
		if _, err := os.Stat(c.opt.Out); err == nil {
			t.Errorf("%+v: ran into %s", c.opt, c.opt.Out)
		}
	}
}

// TestTiedWithBest: on a constructed table, the best mean net value and
// the rows whose paired difference to it spans 0 are tied; a row whose own
// interval overlaps the best's but whose paired difference excludes 0 is
// not; a row without values is not; the Pareto column is on (net value ↑,
// caused delay ↓).
func TestTiedWithBest(t *testing.T) {
	nan := math.NaN()
	common := []float64{0, 500, -300, 800, -1000} // variation every row shares (the seed)
	row := func(net []float64, delay float64) [][]float64 {
		runs := make([][]float64, len(net))
		for k, v := range net {
			runs[k] = make([]float64, len(results.ComparisonMetrics))
			for i := range runs[k] {
				runs[k][i] = nan
			}
			runs[k][netValueIdx] = v
			runs[k][delayCausedIdx] = delay
		}
		return runs
	}
	add := func(off float64, noise []float64) []float64 {
		out := make([]float64, len(common))
		for k := range out {
			out[k] = 1000 + common[k] + off + noise[k]
		}
		return out
	}
	noisy := []float64{90, -80, 60, -70, 0}
	values := [][][]float64{
		row([]float64{0, 0, 0, 0, 0}, 0),              // 0: the baseline, sells nothing
		row(add(0, []float64{0, 0, 0, 0, 0}), 50),     // 1: the best, mean 1,000
		row(add(-10, []float64{1, -1, 2, -2, 0}), 40), // 2: 10 below on every seed: not tied, though its interval overlaps
		row(add(-30, noisy), 2),                       // 3: 30 below on average, noisy: tied
		row([]float64{nan, nan, nan, nan, nan}, 0),    // 4: no values
		row(add(-110, noisy)[:3], 3),                  // 5: 3 seeds, paired with the best's first 3: tied
	}
	rows := Aggregate(values, 0)
	wantTied := []bool{false, true, false, true, false, true}
	wantPareto := []bool{true, true, true, true, false, true}
	for c := range rows {
		if rows[c].TiedWithBest != wantTied[c] {
			t.Errorf("row %d: tied_with_best = %v, want %v (net value %v ± %v)", c, rows[c].TiedWithBest, wantTied[c],
				rows[c].Metrics[netValueIdx].Mean, rows[c].Metrics[netValueIdx].CI95)
		}
		if rows[c].Pareto != wantPareto[c] {
			t.Errorf("row %d: pareto = %v, want %v", c, rows[c].Pareto, wantPareto[c])
		}
	}
	if r1, r2 := rows[1].Metrics[netValueIdx], rows[2].Metrics[netValueIdx]; r2.Mean+r2.CI95 < r1.Mean-r1.CI95 {
		t.Errorf("row 2's interval does not overlap the best's: the test does not show the paired test's power")
	}
	if rows[5].Runs != 3 || rows[5].Metrics[netValueIdx].DiffCI95 != rows[5].Metrics[netValueIdx].DiffCI95 {
		t.Errorf("row 5: %d runs", rows[5].Runs)
	}
}
