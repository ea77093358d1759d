package plots

import (
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

func TestCDFPoints(t *testing.T) {
	for _, tc := range []struct {
		waits []float32
		want  plotter.XYs
	}{
		// Waits under 1 s are drawn at 1 s; equal x keep the largest p.
		{[]float32{0, 0, 5, 10}, plotter.XYs{{X: 1, Y: 0.5}, {X: 5, Y: 0.75}, {X: 10, Y: 1}}},
		{[]float32{3600}, plotter.XYs{{X: 3600, Y: 1}}},
		{[]float32{0.5, 0.7}, plotter.XYs{{X: 1, Y: 1}}},
	} {
		if got := cdfPoints(tc.waits); !slices.Equal(got, tc.want) {
			t.Errorf("cdfPoints(%v) = %v, want %v", tc.waits, got, tc.want)
		}
	}

	// A large sample: at most maxPoints points, increasing in x and p,
	// ending at the largest wait with p = 1, each on the empirical CDF.
	rng := rand.New(rand.NewPCG(1, 2))
	w := make([]float32, 100_003)
	for i := range w {
		w[i] = float32(rng.ExpFloat64() * 3600)
	}
	slices.Sort(w)
	got := cdfPoints(w)
	if len(got) > maxPoints || len(got) < maxPoints/2 {
		t.Fatalf("%d points, want at most %d (and not far fewer)", len(got), maxPoints)
	}
	if last := got[len(got)-1]; last.Y != 1 || last.X != float64(w[len(w)-1]) {
		t.Errorf("last point %v, want (%v, 1)", last, w[len(w)-1])
	}
	for i, p := range got {
		if i > 0 && (p.X <= got[i-1].X || p.Y <= got[i-1].Y) {
			t.Fatalf("points %d, %d not increasing: %v, %v", i-1, i, got[i-1], p)
		}
		// p.Y of the waits are ≤ p.X (empirical quantile, rank ⌈p·n⌉).
		le, _ := slices.BinarySearch(w, float32(p.X)) // first index ≥ x
		for le < len(w) && float64(w[le]) <= p.X {
			le++
		}
		if frac := float64(le) / float64(len(w)); frac < p.Y-1e-9 {
			t.Fatalf("point %v: only %.6f of the waits are ≤ x", p, frac)
		}
	}
}

func TestBucketMeans(t *testing.T) {
	xs := make([]float64, 2500)
	ys := make([]float64, 2500)
	for i := range xs {
		xs[i], ys[i] = float64(i), 2
	}
	got := bucketMeans(xs, ys)
	if len(got) > maxPoints || len(got) < maxPoints/2 {
		t.Fatalf("%d points from 2500, want at most %d", len(got), maxPoints)
	}
	for _, p := range got {
		if p.Y != 2 {
			t.Fatalf("mean %v of a constant 2", p.Y)
		}
	}
	// Nulls (NaN) are skipped; a bucket of NaNs gives no point.
	short := bucketMeans([]float64{0, 1, 2}, []float64{1, math.NaN(), 3})
	if want := (plotter.XYs{{X: 0, Y: 1}, {X: 2, Y: 3}}); !slices.Equal(short, want) {
		t.Errorf("bucketMeans with a null = %v, want %v", short, want)
	}
}

func TestCommonAffixes(t *testing.T) {
	for _, tc := range []struct {
		names    []string
		pre, suf string
	}{
		{[]string{"rate_per_hour-1000_internal_share-1", "rate_per_hour-1000_internal_share-0.95"}, "rate_per_hour-1000_internal_share-", ""},
		// Cut at a separator: "share-0.9" and "share-0.95" share "share-0.9".
		{[]string{"share-0.9", "share-0.95"}, "share-", ""},
		{[]string{"a-1_mult-2", "a-3_mult-2"}, "a-", "_mult-2"},
		{[]string{"today", "cheap"}, "", ""},
		{[]string{"same", "same"}, "", ""},
		{[]string{"x-1", "x-1-2"}, "x-", ""},
		// No name may become empty.
		{[]string{"x-", "x-1"}, "", ""},
	} {
		pre, suf := commonAffixes(tc.names)
		if pre != tc.pre || suf != tc.suf {
			t.Errorf("commonAffixes(%q) = %q, %q; want %q, %q", tc.names, pre, suf, tc.pre, tc.suf)
		}
	}
}

func TestKeyNames(t *testing.T) {
	rows := []pairRow{{allocator: "fifo", pricer: "flat"}, {allocator: "priority", pricer: "flat"}}
	if h, n := keyNames(rows); h != "" || !slices.Equal(n, []string{"fifo/flat", "priority/flat"}) {
		t.Errorf("a comparison: %q, %q", h, n)
	}
	rows = []pairRow{
		{variant: "share-1", allocator: "partition", pricer: "flat"},
		{variant: "share-0.9", allocator: "partition", pricer: "flat"},
	}
	h, n := keyNames(rows)
	if h != "variant share-X; allocator/pricer partition/flat" || !slices.Equal(n, []string{"X = 1", "X = 0.9"}) {
		t.Errorf("a sweep of one pair: %q, %q", h, n)
	}
	rows[1].allocator = "fifo"
	h, n = keyNames(rows)
	if h != "variant share-X" || !slices.Equal(n, []string{"X = 1 · partition/flat", "X = 0.9 · fifo/flat"}) {
		t.Errorf("a sweep of two pairs: %q, %q", h, n)
	}
}

// TestMergeLabels: overlapping markers share a label, which keeps its
// points' color only when they all have it (a Pareto point's color on a
// shared label would claim the other points for the frontier).
func TestMergeLabels(t *testing.T) {
	r := vg.Points(4)
	marks := []vg.Point{{X: 10, Y: 10}, {X: 12, Y: 11}, {X: 100, Y: 100}, {X: 101, Y: 100}, {X: 50, Y: 50}}
	texts := []string{"1", "2", "3", "4", "5"}
	colors := []color.Color{paretoColor, pairColor, paretoColor, paretoColor, paretoColor}
	pts, merged, cols := mergeLabels(marks, texts, colors, r)
	if want := []string{"1,2", "3,4", "5"}; !slices.Equal(merged, want) {
		t.Fatalf("labels %q, want %q", merged, want)
	}
	if pts[0] != marks[0] || pts[1] != marks[2] || pts[2] != marks[4] {
		t.Errorf("labels at %v, want the groups' first points", pts)
	}
	if want := []color.Color{pairColor, paretoColor, paretoColor}; !slices.Equal(cols, want) {
		t.Errorf("label colors %v, want %v (a mixed group in the default color)", cols, want)
	}
}

// TestFrontierUnits: a year of a large fleet causes tens of millions of
// GPU-hours of delay and earns hundreds of millions of dollars; both axes
// then count in millions, so that no tick reads "1e+08" or "10000000".
func TestFrontierUnits(t *testing.T) {
	for _, tc := range []struct {
		delay, value float64
		x, y         string
	}{
		{3e3, 5e3, "internal delay caused (GPU-hours over the window)", "net value (USD over the window)"},
		{4e5, 2e6, "internal delay caused (thousand GPU-hours over the window)", "net value (thousand USD over the window)"},
		{3.3e8, 4.1e8, "internal delay caused (million GPU-hours over the window)", "net value (million USD over the window)"},
		// The default scenario's comparison: a caused delay of −0.9 ± 4.2
		// million GPU-hours, whose axis gonum labelled "-5000.00" …
		// "2500.00" (thousand GPU-hours).
		{-9.1e5, 2.7e6, "internal delay caused (thousand GPU-hours over the window)", "net value (million USD over the window)"},
	} {
		rows := []pairRow{
			{allocator: "fifo", pricer: "flat", runs: 2, value: tc.value, valueCI: tc.value / 10, delay: tc.delay, delayCI: tc.delay / 10, pareto: true},
			{allocator: "priority", pricer: "flat", runs: 2, value: tc.value / 2, valueCI: tc.value / 10, delay: tc.delay / 3, delayCI: tc.delay / 10, pareto: true},
		}
		if tc.delay < 0 {
			rows[0].delayCI, rows[0].valueCI = 4.15e6, 9.5e6
		}
		f := frontierFigure(rows)
		if f.p.X.Label.Text != tc.x || f.p.Y.Label.Text != tc.y {
			t.Errorf("delay %g, value %g: axes %q, %q; want %q, %q", tc.delay, tc.value, f.p.X.Label.Text, f.p.Y.Label.Text, tc.x, tc.y)
		}
		for _, ax := range []struct {
			name   string
			lo, hi float64
		}{{"x", f.p.X.Min, f.p.X.Max}, {"y", f.p.Y.Min, f.p.Y.Max}} {
			marker := f.p.X.Tick.Marker
			if ax.name == "y" {
				marker = f.p.Y.Tick.Marker
			}
			for _, tk := range marker.Ticks(ax.lo, ax.hi) {
				if digits := strings.TrimPrefix(tk.Label, "-"); len(digits) > 4 || strings.ContainsRune(tk.Label, 'e') || strings.HasSuffix(tk.Label, ".00") {
					t.Errorf("delay %g, value %g: %s tick %q: want at most 4 digits, no needless decimals", tc.delay, tc.value, ax.name, tk.Label)
				}
			}
		}
	}
}

// TestFrontierPairedDiffs: the key gives each pair's paired Δ net value
// from comparison.arrow, marked n.s. when its CI spans 0, and the pairs
// tied with the best are ringed; without the columns (an older file) the
// key names the pairs alone.
func TestFrontierPairedDiffs(t *testing.T) {
	rows := []pairRow{
		{allocator: "fifo", pricer: "flat", runs: 3, value: 17.86e6, valueCI: 0.53e6, delay: 0, delayCI: 0, diff: 0, diffCI: 0, tied: true, pareto: true},
		{allocator: "fifo", pricer: "utilization", runs: 3, value: 16.39e6, valueCI: 0.62e6, delay: 0, delayCI: 0, diff: -1.468e6, diffCI: 0.0904e6},
		{allocator: "backfill", pricer: "flat", runs: 3, value: 17.87e6, valueCI: 0.56e6, delay: 13, delayCI: 57, diff: 8754, diffCI: 25319, tied: true, pareto: true},
	}
	f := frontierFigure(rows)
	want := []string{"fifo/flat   Δ 0 ± 0", "fifo/utilization   Δ −1.468 ± 0.090", "backfill/flat   Δ +0.009 ± 0.025 n.s."}
	for i, e := range f.key {
		if e.name != want[i] {
			t.Errorf("key %d: %q, want %q", i, e.name, want[i])
		}
	}
	if !strings.Contains(f.keyHeader, "paired by seed") || !strings.Contains(f.keyHeader, "million USD") {
		t.Errorf("key header %q: want the Δ's definition and unit", f.keyHeader)
	}
	pts := []*pairRow{&rows[0], &rows[1], &rows[2]}
	xys := plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}, {X: 2, Y: 2}}
	if got := tiedPoints(pts, xys); !slices.Equal(got, plotter.XYs{xys[0], xys[2]}) {
		t.Errorf("ringed points %v, want the 2 tied with the best", got)
	}

	for i := range rows {
		rows[i].diff, rows[i].diffCI, rows[i].tied = math.NaN(), math.NaN(), false
	}
	f = frontierFigure(rows)
	for i, e := range f.key {
		if e.name != rows[i].label() {
			t.Errorf("without Δ columns, key %d: %q, want %q", i, e.name, rows[i].label())
		}
	}
	if f.keyHeader != "" {
		t.Errorf("without Δ columns: header %q, want none", f.keyHeader)
	}
}

func TestFormatDiff(t *testing.T) {
	for _, tc := range []struct {
		d, ci float64
		want  string
	}{
		{0, 0, "0 ± 0"},
		{-1.468, 0.0904, "−1.468 ± 0.090"},
		{0.008754, 0.025319, "+0.009 ± 0.025 n.s."},
		{-0.025, 0.025, "−0.025 ± 0.025 n.s."}, // |Δ| = CI: spans 0, as the table's n.s.
		{1234, 56, "+1234 ± 56"},
		{-2.5, math.NaN(), "−2.50 (one seed)"},
	} {
		if got := formatDiff(tc.d, tc.ci); got != tc.want {
			t.Errorf("formatDiff(%g, %g) = %q, want %q", tc.d, tc.ci, got, tc.want)
		}
	}
}

// TestPlainTicks: tick labels carry the decimals their values need and no
// more, the same number on every label of an axis: gonum's default writes
// a step of 2.5 × 10ⁿ with two decimals at any n ("-5000.00", "2.50"),
// which the default scenario's frontier showed. Each case names gonum's
// labels for the same range, so a case that stops differing from them
// tests nothing and fails.
func TestPlainTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi      float64
		gonum, want []string
	}{
		{-5500, 3000, []string{"-5000.00", "-2500.00", "0.00", "2500.00"}, []string{"-5000", "-2500", "0", "2500"}},
		{0, 7.5, []string{"0.00", "2.50", "5.00", "7.50"}, []string{"0.0", "2.5", "5.0", "7.5"}},
		{-2.6, 0.2, []string{"-2.50", "0.00"}, []string{"-2.5", "0.0"}},
		{-0.3, 0.6, nil, []string{"-0.25", "0.00", "0.25", "0.50"}}, // as gonum: the decimals are needed
		{24, 26.6, nil, []string{"24", "25", "26"}},
	} {
		labels := func(m plot.Ticker) []string {
			var l []string
			for _, tk := range m.Ticks(tc.lo, tc.hi) {
				if tk.Label != "" {
					l = append(l, tk.Label)
				}
			}
			return l
		}
		got, def := labels(plainTicks{}), labels(plot.DefaultTicks{})
		if !slices.Equal(got, tc.want) {
			t.Errorf("ticks of [%g, %g]: %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
		if tc.gonum == nil {
			tc.gonum = tc.want
		}
		if !slices.Equal(def, tc.gonum) {
			t.Errorf("gonum's ticks of [%g, %g]: %q, the case expects %q", tc.lo, tc.hi, def, tc.gonum)
		}
	}
}
