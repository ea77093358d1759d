package results

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
)

func TestMeanCI95(t *testing.T) {
	nan := math.NaN()
	// t(0.975, 2) = 4.302652729911275 (tables: 4.303); s = 1 for 1, 2, 3.
	for _, tc := range []struct {
		xs         []float64
		mean, half float64
	}{
		{[]float64{1, 2, 3}, 2, 4.302652729911275 / math.Sqrt(3)},
		{[]float64{5, 5, 5, 5}, 5, 0},
		// t(0.975, 1) = 12.706204736174698; s = √2 for 1, 3.
		{[]float64{1, 3}, 2, 12.706204736174698 * math.Sqrt2 / math.Sqrt2},
		{[]float64{1, nan, 3}, 2, 12.706204736174698},
		{[]float64{7}, 7, nan},
		{nil, nan, nan},
		{[]float64{nan}, nan, nan},
	} {
		mean, half := MeanCI95(tc.xs)
		if !approx(mean, tc.mean) || !approx(half, tc.half) {
			t.Errorf("MeanCI95(%v) = %v, %v, want %v, %v", tc.xs, mean, half, tc.mean, tc.half)
		}
	}
	if _, half := MeanCI95([]float64{1, 2, 3}); math.Abs(half-2.484) > 0.001 {
		t.Errorf("MeanCI95(1, 2, 3) half-width = %v, want 4.303/√3 ≈ 2.484", half)
	}
}

// TestMeanCI95Coverage: on normal samples with a known mean, the 95%
// interval covers it in about 95% of repetitions (and a z interval, which
// ignores the t correction, covers it clearly less often at n = 5).
func TestMeanCI95Coverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const reps, n, mu, sigma = 4000, 5, 10.0, 3.0
	covered, zCovered := 0, 0
	xs := make([]float64, n)
	for range reps {
		for i := range xs {
			xs[i] = mu + sigma*rng.NormFloat64()
		}
		mean, half := MeanCI95(xs)
		if math.Abs(mean-mu) <= half {
			covered++
		}
		if math.Abs(mean-mu) <= half*1.959964/2.776445 { // z instead of t(0.975, 4)
			zCovered++
		}
	}
	t.Logf("t interval covered the mean in %.2f%%, z interval in %.2f%% of %d repetitions (n = %d)",
		100*float64(covered)/reps, 100*float64(zCovered)/reps, reps, n)
	// Binomial(4000, 0.95): sd 0.34%; ±1.2% is 3.5 sd.
	if got := float64(covered) / reps; math.Abs(got-0.95) > 0.012 {
		t.Errorf("95%% interval covered the mean in %.1f%% of %d repetitions", 100*got, reps)
	}
	if got := float64(zCovered) / reps; got > 0.91 {
		t.Errorf("a z interval covered %.1f%% at n = 5: the test cannot tell t from z", 100*got)
	}
}

// TestMetricValuesRoundTrip: the metric values of a run read back from its
// summary file, in either format, are the ones taken from the Summary in
// memory, bit for bit.
func TestMetricValuesRoundTrip(t *testing.T) { forEachFormat(t, testMetricValuesRoundTrip) }

func testMetricValuesRoundTrip(t *testing.T, format Format) {
	dir := t.TempDir()
	s := writeFixtureFormat(t, dir, format).Summary()
	// The fixture's one internal job completed: submitted at 10 s, ended at
	// 370 s after 280 s of running, so its bounded slowdown is 360 / 280.
	if got, want := s.Segments[0].SlowdownMean, 360.0/280; !approx(got, want) {
		t.Errorf("internal slowdown %v, want %v", got, want)
	}
	path, err := RunSummaryFile(dir)
	if err != nil || filepath.Base(path) != format.File("summary") {
		t.Fatalf("RunSummaryFile = %q, %v", path, err)
	}
	got, err := ReadMetricValues(path)
	if err != nil {
		t.Fatal(err)
	}
	want := MetricValues(&s)
	nonNaN := 0
	for i, m := range ComparisonMetrics {
		if !math.IsNaN(want[i]) {
			nonNaN++
		}
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
			t.Errorf("%s: read %v, in memory %v", m.Name, got[i], want[i])
		}
	}
	if nonNaN < 5 {
		t.Errorf("only %d metrics have values: the fixture tests little", nonNaN)
	}
	if _, err := ReadMetricValues(filepath.Join(dir, "nope.arrow")); err == nil {
		t.Error("a missing file is not an error")
	}
	if _, err := RunSummaryFile(t.TempDir()); err == nil {
		t.Error("a folder without a summary is not an error")
	}
}

func TestWriteSweepComparison(t *testing.T) {
	dir := t.TempDir()
	ms := make([]MetricStats, len(ComparisonMetrics))
	params := []SweepParam{{Path: "allocator_params.internal_share", Numeric: true}, {Path: "fleet.spec"}}
	rows := []ComparisonRow{
		{Variant: "a", Params: []any{0.5, "8x8xH100"}, Allocator: "partition", Pricer: "flat", Runs: 2, Metrics: ms},
		{Variant: "b", Params: []any{1.0, "8x8xH100"}, Allocator: "partition", Pricer: "flat", Runs: 2, Metrics: ms},
	}
	if err := WriteComparison(dir, params, rows); err != nil {
		t.Fatal(err)
	}
	f := readArrow(t, filepath.Join(dir, ComparisonFile))
	names := []string{"variant", "allocator_params.internal_share", "fleet.spec", "allocator"}
	for i, n := range names {
		if got := f.schema.Field(i).Name; got != n {
			t.Errorf("column %d = %q, want %q", i, got, n)
		}
	}
	if got := f.cols["allocator_params.internal_share"]; len(got) != 2 || got[1] != 1.0 {
		t.Errorf("internal_share = %v, want [0.5 1]", got)
	}
	if got := f.cols["variant"]; len(got) != 2 || got[0] != "a" {
		t.Errorf("variant = %v, want [a b]", got)
	}
}

func approx(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*max(1, math.Abs(b))
}

// A Δ whose 95% CI spans 0 is not significant; one that excludes 0 is.
func TestDiffSignificant(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		mean, ci float64
		want     bool
	}{
		{5, 4, true}, {-5, 4, true}, // the CI [1, 9] (or [−9, −1]) excludes 0
		{3, 4, false}, {-3, 4, false}, // [−1, 7] spans 0: n.s.
		{4, 4, false},                    // touches 0
		{0, 0, false},                    // the baseline against itself
		{2, 0, true},                     // a constant per-seed difference
		{5, nan, false}, {nan, 1, false}, // one seed, or no value
	} {
		if got := (MetricStats{DiffMean: c.mean, DiffCI95: c.ci}).DiffSignificant(); got != c.want {
			t.Errorf("Δ %v ± %v: significant = %v, want %v", c.mean, c.ci, got, c.want)
		}
	}
}

func TestPareto(t *testing.T) {
	nan := math.NaN()
	up := []float64{0.5, 0.6, 0.4, 0.6, 0.7, nan, 0.5}
	down := []float64{10, 20, 5, 20, 100, 1, 10}
	// 0: (0.5,10) not dominated (2 has lower wait but lower margin).
	// 1 and 3 tie at (0.6,20): neither dominates the other.
	// 2: best wait. 4: best margin. 5: NaN. 6 ties 0.
	want := []bool{true, true, true, true, true, false, true}
	got := Pareto(up, down)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Pareto point %d (%v, %v) = %v, want %v", i, up[i], down[i], got[i], want[i])
		}
	}
	got = Pareto([]float64{0.5, 0.6, 0.6}, []float64{10, 10, 5})
	if want := []bool{false, false, true}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("Pareto dominated points = %v, want %v", got, want)
	}
}

func TestWriteComparison(t *testing.T) {
	dir := t.TempDir()
	nan := math.NaN()
	ms := make([]MetricStats, len(ComparisonMetrics))
	for i := range ms {
		ms[i] = MetricStats{Mean: float64(i), CI95: nan, DiffMean: 0, DiffCI95: 0.5}
	}
	rows := []ComparisonRow{
		{Allocator: "fifo", Pricer: "flat", Runs: 3, Metrics: ms, Pareto: true},
		{Allocator: "priority", Pricer: "flat", Runs: 5, Metrics: ms, TiedWithBest: true},
	}
	if err := WriteComparison(dir, nil, rows); err != nil {
		t.Fatal(err)
	}
	r := openArrow(t, filepath.Join(dir, ComparisonFile))
	if v, _ := r.Schema().Metadata().GetValue(MetaSchemaVersion); v != SchemaVersion {
		t.Errorf("schema version %q, want %q", v, SchemaVersion)
	}
	wantCols := 3 + 4*len(ComparisonMetrics) + 2
	if n := r.Schema().NumFields(); n != wantCols {
		t.Fatalf("%d columns, want %d", n, wantCols)
	}
	for _, name := range []string{"allocator", "pricer", "runs", "operating_margin_mean", "operating_margin_ci95",
		"operating_margin_diff_mean", "operating_margin_diff_ci95", "internal_wait_p99_mean", "net_value_mean", "internal_delay_caused_diff_ci95", "internal_slowdown_caused_mean", "pareto", "tied_with_best"} {
		if len(r.Schema().FieldIndices(name)) != 1 {
			t.Errorf("no column %s", name)
		}
	}
	rec, err := r.Record(0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.NumRows() != 2 {
		t.Fatalf("%d rows, want 2", rec.NumRows())
	}
	if a := rec.Column(0).(*array.String).Value(1); a != "priority" {
		t.Errorf("allocator of row 1 = %q", a)
	}
	if !rec.Column(4).IsNull(0) {
		t.Errorf("a NaN CI is not null")
	}
	if p := rec.Column(wantCols - 2).(*array.Boolean); !p.Value(0) || p.Value(1) {
		t.Errorf("pareto = %v, %v, want true, false", p.Value(0), p.Value(1))
	}
	if p := rec.Column(wantCols - 1).(*array.Boolean); p.Value(0) || !p.Value(1) {
		t.Errorf("tied_with_best = %v, %v, want false, true", p.Value(0), p.Value(1))
	}
	if n := rec.Column(2).(*array.Int64); n.Value(0) != 3 || n.Value(1) != 5 {
		t.Errorf("runs = %d, %d, want each row's own 3, 5", n.Value(0), n.Value(1))
	}
	if _, err := os.Stat(filepath.Join(dir, "."+ComparisonFile+".tmp")); err == nil {
		t.Errorf("temporary file left behind")
	}
}
