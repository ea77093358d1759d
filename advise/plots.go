package advise

import (
	"bytes"
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is one rendered plot.
type Figure struct {
	Name, Title string
	PNG, SVG    []byte
}

const (
	figW   = 8 * vg.Inch
	figH   = 4.5 * vg.Inch
	pngDPI = 150
)

// series is one line of a trade-off plot: the candidates that differ only
// in the x variable.
type series struct {
	label string
	idx   []int // candidates, by x
}

// axis returns the x variable of the trade-off plots (the internal share
// when the partition allocator is searched, else the price multiplier),
// and the series: one per price level (or per allocator/pricer).
func (r *Result) axis() (xName string, x func(Candidate) float64, ss []series) {
	byShare := false
	for _, c := range r.Candidates {
		if !math.IsNaN(c.Share) {
			byShare = true
		}
	}
	x = func(c Candidate) float64 { return c.Multiplier }
	xName = "price multiplier (× list prices)"
	key := func(c Candidate) string { return c.Allocator + " / " + c.Pricer }
	if byShare {
		x = func(c Candidate) float64 { return c.Share }
		xName = "share of the fleet kept for internal training (internal_share)"
		key = func(c Candidate) string { return c.Pricer + " ×" + fmtNum(c.Multiplier) }
	}
	pos := map[string]int{}
	for i, c := range r.Candidates {
		if byShare && math.IsNaN(c.Share) {
			continue // the other allocators have no share: in the table only
		}
		k := key(c.Candidate)
		j, ok := pos[k]
		if !ok {
			j = len(ss)
			pos[k] = j
			ss = append(ss, series{label: k})
		}
		ss[j].idx = append(ss[j].idx, i)
	}
	for _, s := range ss {
		slices.SortFunc(s.idx, func(a, b int) int { return cmp.Compare(x(r.Candidates[a].Candidate), x(r.Candidates[b].Candidate)) })
	}
	return xName, x, ss
}

// Figures draws the trade-off plots: net value and caused delay against
// the x variable, each series with its 95% CI band, the bound as a line and
// the recommendation marked; and the slowdown increase when it is bounded.
func (r *Result) Figures() ([]Figure, error) {
	xName, x, ss := r.axis()
	specs := []struct {
		name, title, y string
		f              func(*Obs) float64
		scale, bound   float64
	}{
		{"net_value", "Net value of selling per month (mean, 95% CI)", "net value (million USD / month)", netValue, 1e-6, math.NaN()},
		{"delay_caused", "Internal delay selling causes per month (mean, 95% CI)", "delay caused (GPU-hours / month)", delayCaused, 1, r.Options.MaxDelayGPUHoursPerMonth},
	}
	if !math.IsNaN(r.Options.MaxSlowdownIncrease) {
		specs = append(specs, struct {
			name, title, y string
			f              func(*Obs) float64
			scale, bound   float64
		}{"slowdown_increase", "Internal slowdown increase vs selling nothing (mean, 95% CI)", "slowdown increase (%)", slowdownIncrease, 100, r.Options.MaxSlowdownIncrease * 100})
	}
	var figs []Figure
	for _, sp := range specs {
		p := plot.New()
		p.Title.Text = sp.title
		p.X.Label.Text = xName
		p.Y.Label.Text = sp.y
		p.Add(plotter.NewGrid())
		leg := plot.NewLegend()
		leg.Top, leg.Left = true, true
		xmin, xmax := math.Inf(1), math.Inf(-1)
		for k, s := range ss {
			col := plotutil.Color(k)
			var line, lo, hi plotter.XYs
			for _, i := range s.idx {
				st := statOf(r.Candidates[i].Obs, sp.f)
				if math.IsNaN(st.Mean) || math.IsInf(st.Mean, 0) {
					continue
				}
				h := st.CI95
				if math.IsNaN(h) {
					h = 0
				}
				xv := x(r.Candidates[i].Candidate)
				xmin, xmax = min(xmin, xv), max(xmax, xv)
				line = append(line, plotter.XY{X: xv, Y: st.Mean * sp.scale})
				lo = append(lo, plotter.XY{X: xv, Y: (st.Mean - h) * sp.scale})
				hi = append(hi, plotter.XY{X: xv, Y: (st.Mean + h) * sp.scale})
			}
			if len(line) == 0 {
				continue
			}
			band := append(slices.Clone(lo), reversed(hi)...)
			poly, err := plotter.NewPolygon(band)
			if err != nil {
				return nil, err
			}
			poly.Color = withAlpha(col, 0x40)
			poly.LineStyle.Width = 0
			l, pts, err := plotter.NewLinePoints(line)
			if err != nil {
				return nil, err
			}
			l.Color, pts.Color = col, col
			pts.Shape = draw.CircleGlyph{}
			p.Add(poly, l, pts)
			leg.Add(s.label, l, pts)
		}
		if !math.IsNaN(sp.bound) && !math.IsInf(xmin, 0) {
			b, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: sp.bound}, {X: xmax, Y: sp.bound}})
			if err != nil {
				return nil, err
			}
			b.Color = color.RGBA{R: 0xc0, A: 0xff}
			b.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			b.Width = vg.Points(1.5)
			p.Add(b)
			leg.Add("budget", b)
		}
		if r.Recommended >= 0 {
			c := r.Candidates[r.Recommended]
			st := statOf(c.Obs, sp.f)
			if !byShareMissing(ss, r.Recommended) && !math.IsNaN(st.Mean) {
				m, err := plotter.NewScatter(plotter.XYs{{X: x(c.Candidate), Y: st.Mean * sp.scale}})
				if err != nil {
					return nil, err
				}
				m.Shape = draw.RingGlyph{}
				m.Radius = vg.Points(9)
				m.Color = color.Black
				p.Add(m)
				leg.Add("recommended", m)
			}
		}
		if sp.name == "net_value" {
			// The candidates the search could not separate from the
			// recommendation: their bands are each one's own spread over
			// the seeds, and may sit apart or overlap whatever the paired
			// comparison the search makes says.
			if tied := r.tiedPoints(ss, x, sp.f, sp.scale); len(tied) > 0 {
				m, err := plotter.NewScatter(tied)
				if err != nil {
					return nil, err
				}
				m.Shape = draw.RingGlyph{}
				m.Radius = vg.Points(6)
				m.Color = color.Gray{Y: 0x40}
				p.Add(m)
				leg.Add("not separated from it", m)
			}
		}
		png, svg, err := render(p, leg)
		if err != nil {
			return nil, fmt.Errorf("advise: drawing %s: %w", sp.name, err)
		}
		figs = append(figs, Figure{Name: sp.name, Title: sp.title, PNG: png, SVG: svg})
	}
	return figs, nil
}

// tiedPoints returns the points (x, mean of f × scale) of the candidates
// still tied with the recommendation (Result.Tied) that are on a series of
// ss.
func (r *Result) tiedPoints(ss []series, x func(Candidate) float64, f func(*Obs) float64, scale float64) plotter.XYs {
	var pts plotter.XYs
	for _, i := range r.Tied {
		c := r.Candidates[i]
		st := statOf(c.Obs, f)
		if byShareMissing(ss, i) || math.IsNaN(st.Mean) || math.IsInf(st.Mean, 0) {
			continue
		}
		pts = append(pts, plotter.XY{X: x(c.Candidate), Y: st.Mean * scale})
	}
	return pts
}

// diffStat is candidate i's paired difference from the recommendation
// over the seeds both ran (NaN without a recommendation).
func (r *Result) diffStat(i int, f func(*Obs) float64) Stat {
	if r.Recommended < 0 {
		return Stat{math.NaN(), math.NaN()}
	}
	a, b := r.Candidates[i].Obs, r.Candidates[r.Recommended].Obs
	n := min(len(a), len(b))
	d := make([]Obs, n)
	for j := range n {
		d[j].NetValue = f(&a[j]) - f(&b[j])
	}
	return statOf(d, netValue)
}

// byShareMissing reports whether candidate i is on no series (an
// allocator without a share in a plot against the share).
func byShareMissing(ss []series, i int) bool {
	for _, s := range ss {
		if contains(s.idx, i) {
			return false
		}
	}
	return true
}

func reversed(xs plotter.XYs) plotter.XYs {
	out := slices.Clone(xs)
	slices.Reverse(out)
	return out
}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

// render draws the plot with its legend in a column to its right, as PNG
// and SVG.
func render(p *plot.Plot, leg plot.Legend) (pngData, svgData []byte, err error) {
	defer func() {
		if e := recover(); e != nil {
			err = fmt.Errorf("%v", e)
		}
	}()
	drawAll := func(c draw.Canvas) {
		c.SetColor(color.White)
		c.Fill(c.Rectangle.Path())
		lw := leg.Rectangle(c).Max.X - leg.Rectangle(c).Min.X + vg.Points(12)
		top := p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding + vg.Points(6)
		p.Draw(draw.Crop(c, 0, -lw, 0, 0))
		leg.Draw(draw.Crop(c, c.Max.X-c.Min.X-lw, -vg.Points(6), 0, -top))
	}
	sc := vgsvg.New(figW, figH)
	drawAll(draw.New(sc))
	var sb bytes.Buffer
	if _, err := sc.WriteTo(&sb); err != nil {
		return nil, nil, err
	}
	ic := vgimg.NewWith(vgimg.UseWH(figW, figH), vgimg.UseDPI(pngDPI))
	drawAll(draw.New(ic))
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: ic}).WriteTo(&pb); err != nil {
		return nil, nil, err
	}
	return pb.Bytes(), sb.Bytes(), nil
}
