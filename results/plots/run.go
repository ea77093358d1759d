package plots

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"neosim/results"
	"neosim/sim"
)

// Run draws a run's figures from dir/jobs.arrow and dir/timeseries.arrow
// (or their .parquet twins) into dir: utilization, spot_price and wait_cdf,
// each as .png and .svg. It returns the paths written. A missing file or
// column is an error that names it, and then no file is written.
func Run(dir string) ([]string, error) {
	tsFile, jobsFile := results.DataFile(dir, "timeseries"), results.DataFile(dir, "jobs")
	ts, err := readTimeseries(tsFile)
	if err != nil {
		return nil, err
	}
	waits, err := readWaits(jobsFile)
	if err != nil {
		return nil, err
	}
	figs := []*figure{utilizationFigure(ts), spotPriceFigure(ts), waitCDFFigure(waits)}
	figs[0].errCtx = filepath.Base(tsFile)
	figs[1].errCtx = filepath.Base(tsFile)
	figs[2].errCtx = filepath.Base(jobsFile)
	return save(dir, figs)
}

// series is timeseries.arrow, the columns the figures use.
type series struct {
	t     []float64
	total []float64
	busy  [sim.NumSegments][]float64
	spot  []float64 // NaN: null
}

func readTimeseries(path string) (*series, error) {
	cols := []col{{"t_s", kNum, false}, {"gpus_total", kNum, false}, {"spot_price_usd_per_gpu_h", kNum, false}}
	for s := sim.SegInternal; s < sim.NumSegments; s++ {
		cols = append(cols, col{"busy_gpus_" + segColName(s), kNum, false})
	}
	ts := &series{}
	err := scan(path, cols, func(a []arrow.Array) error {
		for i := 0; i < a[0].Len(); i++ {
			t, total := num(a[0], i), num(a[1], i)
			if math.IsNaN(t) || math.IsInf(t, 0) {
				return fmt.Errorf("plots: %s: column %q: null or not finite at a row", path, "t_s")
			}
			ts.t = append(ts.t, t)
			ts.total = append(ts.total, total)
			ts.spot = append(ts.spot, num(a[2], i))
			for s := range ts.busy {
				ts.busy[s] = append(ts.busy[s], num(a[3+s], i))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ts, nil
}

// timeAxis returns the sample times in the unit of the time axis (hours
// or days, whichever fits the run), the axis's end (> 0) and the unit.
func (ts *series) timeAxis() (xs []float64, end float64, unit string) {
	endS := 0.0
	if len(ts.t) > 0 {
		endS = ts.t[len(ts.t)-1]
	}
	div, unit := timeUnit(endS)
	xs = make([]float64, len(ts.t))
	for i, t := range ts.t {
		xs[i] = t / div
	}
	return xs, max(endS/div, 1e-9), unit
}

// bucketMeans averages ys (and their xs) over buckets of consecutive
// points so that at most maxPoints remain. NaN values are skipped; a bucket
// of NaNs gives no point.
func bucketMeans(xs, ys []float64) plotter.XYs {
	k := (len(xs) + maxPoints - 1) / maxPoints
	if k < 1 {
		k = 1
	}
	var out plotter.XYs
	for lo := 0; lo < len(xs); lo += k {
		hi := min(lo+k, len(xs))
		var sx, sy, n float64
		for i := lo; i < hi; i++ {
			if math.IsNaN(ys[i]) || math.IsInf(ys[i], 0) {
				continue
			}
			sx += xs[i]
			sy += ys[i]
			n++
		}
		if n > 0 {
			out = append(out, plotter.XY{X: sx / n, Y: sy / n})
		}
	}
	return out
}

// utilizationFigure stacks each segment's share of the fleet's GPUs (busy
// GPUs of the segment / gpus_total) over time. Segments that never held a
// GPU are left out.
func utilizationFigure(ts *series) *figure {
	xs, xEnd, unit := ts.timeAxis()
	f := newFigure("utilization", "Utilization by segment (stacked)", "time ("+unit+")", "GPUs busy (% of the fleet)")
	f.p.Y.Min, f.p.Y.Max = 0, 100
	f.p.X.Min, f.p.X.Max = 0, xEnd
	if len(ts.t) == 0 {
		f.note("no samples in timeseries.arrow")
		return f
	}
	cum := make([]float64, len(ts.t))
	type layer struct {
		seg sim.Segment
		xys plotter.XYs
	}
	var layers []layer
	for s := sim.SegInternal; s < sim.NumSegments; s++ {
		used := false
		for i, b := range ts.busy[s] {
			if b > 0 && ts.total[i] > 0 {
				cum[i] += 100 * b / ts.total[i]
				used = true
			}
		}
		if used {
			layers = append(layers, layer{s, bucketMeans(xs, cum)})
		}
	}
	if len(layers) == 0 {
		f.note("no GPU was ever busy")
		return f
	}
	// Draw the top of the stack first: each layer fills down to 0 and the
	// ones below paint over it, leaving each segment its band.
	for i := len(layers) - 1; i >= 0; i-- {
		l, err := plotter.NewLine(layers[i].xys)
		if err != nil {
			panic(err) // bucketMeans gives finite points only
		}
		l.FillColor = segColors[layers[i].seg]
		l.LineStyle.Width = vg.Points(0.5)
		l.LineStyle.Color = segColors[layers[i].seg]
		f.p.Add(l)
	}
	for i := len(layers) - 1; i >= 0; i-- { // legend top to bottom, as stacked
		s := layers[i].seg
		sw, _ := plotter.NewPolygon(plotter.XYs{{}, {X: 1}, {X: 1, Y: 1}})
		sw.Color = segColors[s]
		sw.LineStyle.Width = 0
		f.legend(s.String(), sw)
	}
	return f
}

// spotPriceFigure draws spot_price_usd_per_gpu_h over time, skipping nulls.
// When every value is null (the pricer quotes no spot price) the figure is
// an empty frame with a note saying so, so that a run always has the same
// files.
func spotPriceFigure(ts *series) *figure {
	xs, xEnd, unit := ts.timeAxis()
	f := newFigure("spot_price", "Spot price", "time ("+unit+")", "USD per GPU-hour")
	xys := bucketMeans(xs, ts.spot)
	if len(xys) == 0 {
		f.p.X.Min, f.p.X.Max = 0, xEnd
		f.p.Y.Min, f.p.Y.Max = 0, 1
		f.note("no spot price: spot_price_usd_per_gpu_h is null throughout (the pricer quotes none)")
		return f
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		panic(err)
	}
	l.LineStyle.Color = segColors[sim.SegSpot]
	l.LineStyle.Width = vg.Points(1.5)
	f.p.Add(l)
	f.p.Y.Min = 0
	f.p.Y.Max *= 1.1 // headroom: a flat price is not hidden by the frame
	f.p.X.Min = 0
	f.legend("spot price", l)
	return f
}

// waitSample is the waits of one segment's jobs that started, as float32
// seconds (4 bytes a job, like package results' exact quantiles).
type waitSample struct {
	name  string
	waits []float32
}

// readWaits streams jobs.arrow and keeps each started job's wait by
// segment, known segments in their order, then unknown names sorted.
func readWaits(path string) ([]*waitSample, error) {
	bySeg := map[string]*waitSample{}
	var last *waitSample
	lastName := ""
	err := scan(path, []col{{"segment", kStr, false}, {"wait_s", kNum, false}}, func(a []arrow.Array) error {
		for i := 0; i < a[0].Len(); i++ {
			w := num(a[1], i)
			if math.IsNaN(w) {
				continue // never started
			}
			if w < 0 || math.IsInf(w, 0) {
				return fmt.Errorf("plots: %s: column %q: %v is not a wait", path, "wait_s", w)
			}
			name := str(a[0], i)
			if last == nil || name != lastName {
				ws := bySeg[name]
				if ws == nil {
					ws = &waitSample{name: name}
					bySeg[name] = ws
				}
				last, lastName = ws, name
			}
			last.waits = append(last.waits, float32(w))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []*waitSample
	for s := sim.SegInternal; s < sim.NumSegments; s++ {
		if ws := bySeg[s.String()]; ws != nil {
			out = append(out, ws)
			delete(bySeg, s.String())
		}
	}
	var rest []string
	for name := range bySeg {
		rest = append(rest, name)
	}
	slices.Sort(rest)
	for _, name := range rest {
		out = append(out, bySeg[name])
	}
	return out, nil
}

// minWaitS is the left end of the wait CDF's logarithmic axis: shorter
// waits (0 included) are drawn at 1 s, so the curve starts at the share of
// jobs that waited at most 1 s.
const minWaitS = 1

// cdfPoints returns the empirical CDF of sorted waits at at most maxPoints
// probabilities p = k/m: the point (w, p) with w the smallest wait such that
// at least p of the waits are ≤ w (rank ⌈p·n⌉), drawn at no less than
// minWaitS. Points with the same wait keep the largest p.
func cdfPoints(sorted []float32) plotter.XYs {
	n := len(sorted)
	m := min(n, maxPoints)
	var out plotter.XYs
	for k := 1; k <= m; k++ {
		p := float64(k) / float64(m)
		rank := int(math.Ceil(p*float64(n) - 1e-9))
		rank = min(max(rank, 1), n)
		x := max(float64(sorted[rank-1]), minWaitS)
		if len(out) > 0 && out[len(out)-1].X == x {
			out[len(out)-1].Y = p
			continue
		}
		out = append(out, plotter.XY{X: x, Y: p})
	}
	return out
}

// waitCDFFigure draws each segment's empirical wait CDF on a logarithmic
// time axis.
func waitCDFFigure(samples []*waitSample) *figure {
	f := newFigure("wait_cdf", "Wait until first start, jobs that started (empirical CDF)",
		"wait (log scale; waits under 1s drawn at 1s)", "share of started jobs with wait ≤ x")
	f.p.Y.Min, f.p.Y.Max = 0, 1.05 // headroom: a curve at 1 is not hidden by the frame
	f.p.X.Scale = plot.LogScale{}
	f.p.X.Tick.Marker = durTicks{}
	f.p.X.Min = minWaitS
	hi := 60.0 // the axis spans at least 1s to 1m
	for _, ws := range samples {
		if len(ws.waits) > 0 {
			slices.Sort(ws.waits)
			hi = max(hi, float64(ws.waits[len(ws.waits)-1]))
		}
	}
	drawn := 0
	for _, ws := range samples {
		if len(ws.waits) == 0 {
			continue
		}
		// Each curve runs to the right edge at 1, so that a segment whose
		// waits are all under 1 s still shows as a line.
		xys := append(cdfPoints(ws.waits), plotter.XY{X: hi, Y: 1})
		l, err := plotter.NewLine(xys)
		if err != nil {
			panic(err)
		}
		l.StepStyle = plotter.PostStep
		l.LineStyle.Width = vg.Points(1.5)
		l.LineStyle.Color = otherColor
		if s, ok := segByName[ws.name]; ok {
			l.LineStyle.Color = segColors[s]
		}
		f.p.Add(l)
		f.legend(fmt.Sprintf("%s (%d jobs)", ws.name, len(ws.waits)), l)
		drawn++
	}
	f.p.X.Max = hi
	if drawn == 0 {
		f.note("no job started: wait_s is null throughout")
	}
	return f
}
