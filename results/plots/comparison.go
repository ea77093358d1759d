package plots

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"neosim/results"
	"neosim/sim"
)

// File names of a comparison folder (as packages results and runner name
// them).
const (
	comparisonFile = "comparison.arrow"
	summaryFile    = "summary.arrow"
)

// Comparison draws a comparison's figures from dir/comparison.arrow and
// the runs' summary.arrow files (dir/[variant=V/]allocator=A/pricer=P/
// seed=N/summary.arrow) into dir: frontier and breakdown, each as .png and
// .svg. It returns the paths written. A missing file or column is an error
// that names it, and then no file is written.
func Comparison(dir string) ([]string, error) {
	path := filepath.Join(dir, comparisonFile)
	rows, err := readComparison(path)
	if err != nil {
		return nil, err
	}
	costs := make([]pairCosts, len(rows))
	for i, r := range rows {
		if costs[i], err = readPairCosts(dir, r); err != nil {
			return nil, err
		}
	}
	fr := frontierFigure(rows)
	fr.errCtx = comparisonFile
	br := breakdownFigure(rows, costs)
	br.errCtx = "the runs' " + summaryFile
	return save(dir, []*figure{fr, br})
}

// pairRow is the part of one comparison.arrow row the figures use.
type pairRow struct {
	variant           string // a sweep's variant; "" without a variant column
	allocator, pricer string
	runs              int
	value, valueCI    float64 // net value (USD); NaN: null
	delay, delayCI    float64 // internal delay caused (GPU-h); NaN: null
	// The paired difference of net value from the baseline (USD; NaN:
	// null or no such column) and whether the pair is the best or tied
	// with it (false without the column).
	diff, diffCI float64
	tied         bool
	pareto       bool
}

// label names the pair: "allocator/pricer", or "variant · allocator/pricer".
func (r *pairRow) label() string {
	l := r.allocator + "/" + r.pricer
	if r.variant != "" {
		l = r.variant + " · " + l
	}
	return l
}

// dir is the pair's folder in the run dataset under out.
func (r *pairRow) dir(out string) string {
	d := filepath.Join("allocator="+r.allocator, "pricer="+r.pricer)
	if r.variant != "" { // as experiment.RunDir: variant= only in a sweep
		d = filepath.Join("variant="+r.variant, d)
	}
	return filepath.Join(out, d)
}

func readComparison(path string) ([]pairRow, error) {
	cols := []col{
		{"variant", kStr, true},
		{"allocator", kStr, false},
		{"pricer", kStr, false},
		{"runs", kNum, false},
		{"net_value_mean", kNum, false},
		{"net_value_ci95", kNum, false},
		{"internal_delay_caused_mean", kNum, false},
		{"internal_delay_caused_ci95", kNum, false},
		{"pareto", kBool, false},
		// Optional: comparison files of older neosim versions lack them.
		{"net_value_diff_mean", kNum, true},
		{"net_value_diff_ci95", kNum, true},
		{"tied_with_best", kBool, true},
	}
	var rows []pairRow
	err := scan(path, cols, func(a []arrow.Array) error {
		for i := 0; i < a[1].Len(); i++ {
			r := pairRow{
				allocator: str(a[1], i),
				pricer:    str(a[2], i),
				value:     num(a[4], i),
				valueCI:   num(a[5], i),
				delay:     num(a[6], i),
				delayCI:   num(a[7], i),
				pareto:    boolean(a[8], i),
				diff:      math.NaN(),
				diffCI:    math.NaN(),
			}
			if a[9] != nil && a[10] != nil {
				r.diff, r.diffCI = num(a[9], i), num(a[10], i)
			}
			if a[11] != nil {
				r.tied = boolean(a[11], i)
			}
			if a[0] != nil {
				r.variant = str(a[0], i)
			}
			runs := num(a[3], i)
			if math.IsNaN(runs) || runs < 0 {
				return fmt.Errorf("plots: %s: column %q: %v is not a number of runs", path, "runs", runs)
			}
			r.runs = int(runs)
			if r.allocator == "" || r.pricer == "" {
				return fmt.Errorf("plots: %s: columns \"allocator\", \"pricer\": empty name in row %d", path, len(rows)+1)
			}
			rows = append(rows, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("plots: %s: no rows", path)
	}
	return rows, nil
}

// costKinds are the kinds of the external business's cost
// (docs/economics.md): the summary.arrow column and the legend name.
var costKinds = []struct{ column, name string }{
	{"external_direct_cost_usd", "cost: direct"},
	{"cost_support_usd", "cost: support"},
	{"internal_delay_caused_usd", "cost: delay caused"},
}

// pairCosts are one pair's revenue and costs, averaged over its runs.
type pairCosts struct {
	revenue [sim.NumSegments]float64 // external segments only; USD
	cost    []float64                // in costKinds order; USD
	found   int                      // run folders read
}

// readPairCosts averages the summary.arrow of every seed=N folder of the
// pair. A null (a run without a ledger) is skipped; a value no run has is
// 0.
func readPairCosts(out string, r pairRow) (pairCosts, error) {
	dir := r.dir(out)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return pairCosts{}, fmt.Errorf("plots: pair %s of %s: %w", r.label(), filepath.Join(out, comparisonFile), err)
	}
	cols := []col{{"external_revenue_usd", kNum, false}}
	for s := sim.SegOnDemand; s < sim.NumSegments; s++ {
		cols = append(cols, col{"revenue_usd_" + segColName(s), kNum, false})
	}
	for _, k := range costKinds {
		cols = append(cols, col{k.column, kNum, false})
	}
	sums := make([]float64, len(cols))
	ns := make([]float64, len(cols))
	var pc pairCosts
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "seed=") {
			continue
		}
		path := results.DataFile(filepath.Join(dir, e.Name()), "summary")
		rows := 0
		err := scan(path, cols, func(a []arrow.Array) error {
			for i := 0; i < a[0].Len(); i++ {
				rows++
				for c := range cols {
					if v := num(a[c], i); !math.IsNaN(v) {
						sums[c] += v
						ns[c]++
					}
				}
			}
			return nil
		})
		if err != nil {
			return pairCosts{}, err
		}
		if rows != 1 {
			return pairCosts{}, fmt.Errorf("plots: %s: %d rows, want 1", path, rows)
		}
		pc.found++
	}
	if pc.found == 0 {
		return pairCosts{}, fmt.Errorf("plots: %s: no run folder (seed=N) with a %s for pair %s", dir, summaryFile, r.label())
	}
	mean := func(c int) float64 {
		if ns[c] == 0 {
			return 0
		}
		return sums[c] / ns[c]
	}
	for s := sim.SegOnDemand; s < sim.NumSegments; s++ {
		pc.revenue[s] = mean(int(s)) // column 1 + (s − SegOnDemand) = s
	}
	base := int(sim.NumSegments)
	for k := range costKinds {
		pc.cost = append(pc.cost, mean(base+k))
	}
	return pc, nil
}

// moneyUnit picks the unit of a money axis whose largest magnitude is
// maxUSD.
func moneyUnit(maxUSD float64) (div float64, name string) { return scaledUnit(maxUSD, "USD") }

// scaledUnit picks the unit of an axis of quantities of unit whose largest
// magnitude is max: unit itself, or thousands or millions of it, so that
// tick labels stay short (gonum's default ticks print 10,000,000 GPU-hours
// as "10000000" and 100,000,000 as "1e+08").
func scaledUnit(max float64, unit string) (div float64, name string) {
	switch {
	case max < 1e4:
		return 1, unit
	case max < 1e7:
		return 1e3, "thousand " + unit
	}
	return 1e6, "million " + unit
}

var (
	paretoColor = rgb(0xd62728)
	pairColor   = rgb(0x7f7f7f)
)

// frontierFigure plots every pair's mean operating margin against its
// mean internal p99 wait with 95% CI bars on both, the Pareto pairs
// highlighted and joined, each point labelled.
func frontierFigure(rows []pairRow) *figure {
	f := newFigure("frontier", "Net value vs internal delay caused (mean ± 95% CI over seeds)",
		"internal delay caused (GPU-hours over the window)", "")
	var pts []*pairRow
	var idx []int // the pairs' rows
	maxV, maxD := 0.0, 0.0
	header, names := keyNames(rows)
	for i := range rows {
		r := &rows[i]
		if math.IsNaN(r.value) || math.IsNaN(r.delay) || math.IsInf(r.value, 0) || math.IsInf(r.delay, 0) {
			continue
		}
		pts = append(pts, r)
		idx = append(idx, i)
		maxV = max(maxV, math.Abs(r.value)+finite(r.valueCI))
		maxD = max(maxD, math.Abs(r.delay)+finite(r.delayCI))
	}
	div, unit := moneyUnit(maxV)
	f.p.Y.Label.Text = "net value (" + unit + " over the window)"
	xdiv, xunit := scaledUnit(maxD, "GPU-hours")
	f.p.X.Label.Text = "internal delay caused (" + xunit + " over the window)"
	if skipped := len(rows) - len(pts); skipped > 0 {
		f.p.Title.Text += fmt.Sprintf("\n%d of %d pairs have no net value (no counterfactual) and are not drawn", skipped, len(rows))
	}
	if len(pts) == 0 {
		f.p.X.Min, f.p.X.Max, f.p.Y.Min, f.p.Y.Max = 0, 1, 0, 1
		f.note("no pair has a net value and a caused delay (were the runs made with --counterfactual=false?)")
		return f
	}
	var (
		xys          = make(plotter.XYs, len(pts))
		xerr         = make(plotter.Errors, len(pts))
		yerr         = make(plotter.Errors, len(pts))
		front, other plotter.XYs
	)
	f.keyHeader = header
	for i, r := range pts {
		xys[i] = plotter.XY{X: r.delay / xdiv, Y: r.value / div}
		xerr[i].High = finite(r.delayCI) / xdiv
		xerr[i].Low = xerr[i].High
		yerr[i].Low = finite(r.valueCI) / div
		yerr[i].High = yerr[i].Low
		if r.pareto {
			front = append(front, xys[i])
		} else {
			other = append(other, xys[i])
		}
	}
	ep := struct {
		plotter.XYs
		plotter.XErrors
		plotter.YErrors
	}{xys, plotter.XErrors(xerr), plotter.YErrors(yerr)}
	xb, err := plotter.NewXErrorBars(ep)
	if err != nil {
		panic(err) // finite by construction
	}
	yb, err := plotter.NewYErrorBars(ep)
	if err != nil {
		panic(err)
	}
	xb.LineStyle.Color, yb.LineStyle.Color = pairColor, pairColor
	f.p.Add(xb, yb)

	pairDot := func(xys plotter.XYs, c color.Color, radius vg.Length) *plotter.Scatter {
		s, err := plotter.NewScatter(xys)
		if err != nil {
			panic(err)
		}
		s.GlyphStyle.Shape = draw.CircleGlyph{}
		s.GlyphStyle.Radius = radius
		s.GlyphStyle.Color = c
		return s
	}
	dots := pairDot(other, pairColor, vg.Points(3))
	f.p.Add(dots)
	f.legend("pair (bars: its own 95% CI)", dots)
	if len(front) > 0 {
		slices.SortFunc(front, func(a, b plotter.XY) int {
			if a.X != b.X {
				return cmpFloat(a.X, b.X)
			}
			return cmpFloat(a.Y, b.Y)
		})
		line, err := plotter.NewLine(front)
		if err != nil {
			panic(err)
		}
		line.LineStyle.Color = paretoColor
		line.LineStyle.Width = vg.Points(1.5)
		fd := pairDot(front, paretoColor, vg.Points(4))
		f.p.Add(line, fd)
		f.legend("Pareto frontier", line, fd)
	}
	// The best pair and those the paired test cannot tell from it are
	// ringed: two pairs' own bars can overlap when every seed ranks them
	// the same way (common random numbers), so the bars are no test.
	markR := vg.Points(4) // the largest marker's radius, which labels keep clear of
	if tied := tiedPoints(pts, xys); len(tied) > 0 {
		markR = vg.Points(7)
		ring, err := plotter.NewScatter(tied)
		if err != nil {
			panic(err)
		}
		ring.GlyphStyle.Shape = draw.RingGlyph{}
		ring.GlyphStyle.Radius = markR
		ring.GlyphStyle.Color = color.Black
		f.p.Add(ring)
		f.legend("best, or tied with it (paired Δ)", ring)
	}
	// Each point is labelled with its pair's number; the key under the plot
	// names them, with the paired Δ net value when comparison.arrow has it.
	if withDiff := slices.ContainsFunc(pts, func(r *pairRow) bool { return !math.IsNaN(r.diff) }); withDiff {
		h := "Δ: net value minus the baseline's, paired by seed, ± its 95% CI, in " + unit + "; n.s.: the seeds cannot tell the two apart"
		if header != "" {
			h = header + "; " + h
		}
		f.keyHeader = h
	}
	nums := make([]string, len(pts))
	colors := make([]color.Color, len(pts))
	for i, r := range pts {
		nums[i], colors[i] = pairNumber(idx[i]), pairColor
		if r.pareto {
			colors[i] = paretoColor
		}
	}
	for i, r := range pts {
		name := names[idx[i]]
		if !math.IsNaN(r.diff) {
			name += "   Δ " + formatDiff(r.diff/div, r.diffCI/div)
		}
		f.key = append(f.key, keyEntry{num: nums[i], name: name, color: colors[i]})
	}
	f.p.Add(&pointLabels{xys: xys, texts: nums, colors: colors, style: keyStyle(f.p), radius: markR})
	return f
}

// tiedPoints returns the points xys[i] of the pairs pts[i] tied with the
// best (the best included).
func tiedPoints(pts []*pairRow, xys plotter.XYs) plotter.XYs {
	var tied plotter.XYs
	for i, r := range pts {
		if r.tied {
			tied = append(tied, xys[i])
		}
	}
	return tied
}

// formatDiff writes a paired difference and its 95% CI half-width ci as
// the comparison table does: "−1.47 ± 0.09", "+0.009 ± 0.025 n.s." when the
// interval spans 0, "0 ± 0" for the baseline, the mean alone (with "(one
// seed)") when ci is null. Decimals: enough for two significant digits of
// ci.
func formatDiff(d, ci float64) string {
	if d == 0 && ci == 0 {
		return "0 ± 0"
	}
	prec := 2
	switch {
	case ci > 0 && !math.IsInf(ci, 0):
		prec = max(0, 1-int(math.Floor(math.Log10(ci))))
	case d != 0:
		prec = max(0, 2-int(math.Floor(math.Log10(math.Abs(d)))))
	}
	s := strconv.FormatFloat(d, 'f', prec, 64)
	if d > 0 {
		s = "+" + s
	}
	s = strings.Replace(s, "-", "−", 1)
	if math.IsNaN(ci) {
		return s + " (one seed)"
	}
	s += " ± " + strconv.FormatFloat(ci, 'f', prec, 64)
	if !(results.MetricStats{DiffMean: d, DiffCI95: ci}).DiffSignificant() {
		s += " n.s."
	}
	return s
}

// finite returns v, or 0 for NaN or ±Inf (a CI that is null: one seed).
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// costColors are the colors of costKinds.
var costColors = []color.Color{rgb(0x595959), rgb(0xbcbd22), rgb(0x8c564b)}

// breakdownFigure draws two stacked bars per pair: external revenue by
// segment, and the external business's cost by kind.
func breakdownFigure(rows []pairRow, costs []pairCosts) *figure {
	f := newFigure("breakdown", "External revenue vs cost per pair (mean over its runs)",
		"left: revenue by segment · right: cost by kind (direct = capex + overhead + power)", "")
	f.h = 5 * vg.Inch
	var notes []string
	labels := make([]string, len(rows))
	top := 0.0
	for i := range rows {
		labels[i] = rows[i].label()
		if costs[i].found != rows[i].runs {
			notes = append(notes, fmt.Sprintf("%s: %d run folders, comparison.arrow says %d runs", labels[i], costs[i].found, rows[i].runs))
		}
		var rev, cost float64
		for _, v := range costs[i].revenue {
			rev += max(v, 0)
		}
		for _, v := range costs[i].cost {
			cost += max(v, 0)
		}
		top = max(top, rev, cost)
	}
	if len(notes) > 0 {
		f.p.Title.Text += "\nnote: " + strings.Join(notes, "; ")
	}
	div, unit := 1.0, "USD"
	switch {
	case top >= 1e6:
		div, unit = 1e6, "million USD"
	case top >= 1e4:
		div, unit = 1e3, "thousand USD"
	}
	f.p.Y.Label.Text = unit + " over the run"
	// Two bars per pair in a slot of about 5.5 in / pairs, named under the
	// slot if every name fits its slot, else numbered, with the names in
	// the key.
	slot := 5.5 * vg.Inch / vg.Length(len(rows))
	w := min(vg.Points(36), slot*0.35)
	header, names := keyNames(rows)
	ticks := labels
	for _, l := range labels {
		if f.p.X.Tick.Label.Width(l) > 0.9*slot {
			ticks = make([]string, len(rows))
			for i := range rows {
				ticks[i] = pairNumber(i)
				f.key = append(f.key, keyEntry{num: ticks[i], name: names[i]})
			}
			f.keyHeader = header
			break
		}
	}
	f.p.NominalX(ticks...)
	values := func(get func(pc *pairCosts) float64) plotter.Values {
		v := make(plotter.Values, len(costs))
		for i := range costs {
			v[i] = max(get(&costs[i]), 0) / div // a negative amount is not stackable
		}
		return v
	}
	stack := func(vs plotter.Values, below *plotter.BarChart, offset vg.Length, c color.Color) *plotter.BarChart {
		b, err := plotter.NewBarChart(vs, w)
		if err != nil {
			panic(err) // finite by construction
		}
		b.Offset = offset
		b.Color = c
		b.LineStyle.Width = vg.Points(0.3)
		if below != nil {
			b.StackOn(below)
		}
		f.p.Add(b)
		return b
	}
	var below *plotter.BarChart
	for s := sim.SegOnDemand; s < sim.NumSegments; s++ {
		used := false
		for i := range costs {
			used = used || costs[i].revenue[s] > 0
		}
		if !used {
			continue
		}
		below = stack(values(func(pc *pairCosts) float64 { return pc.revenue[s] }), below, -w/2, segColors[s])
		f.legend("revenue: "+s.String(), below)
	}
	if below == nil {
		f.legend("revenue: none")
	}
	below = nil
	for k, ck := range costKinds {
		below = stack(values(func(pc *pairCosts) float64 { return pc.cost[k] }), below, w/2, costColors[k])
		f.legend(ck.name, below)
	}
	f.p.Y.Min = 0
	f.p.Y.Max *= 1.05 // headroom above the tallest bar
	return f
}
