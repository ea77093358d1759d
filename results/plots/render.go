package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/renameio/v2"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"neosim/sim"
)

const (
	figW   = 8 * vg.Inch
	figH   = 4.5 * vg.Inch
	pngDPI = 150 // 1200 × 675 pixels at figW × figH
	// maxPoints bounds the points of one curve: a timeseries is averaged
	// over buckets of consecutive samples, a CDF sampled at this many
	// evenly spaced probabilities. 1,000 points are more than an 8-inch
	// figure can show apart.
	maxPoints = 1000
)

// figure is one plot, its legend, drawn to the right of the data area
// and below the title so that it never hides either, and its key (the
// names of numbered pairs), drawn under the plot.
type figure struct {
	name      string // file name without extension
	p         *plot.Plot
	leg       plot.Legend
	nLeg      int
	w, h      vg.Length // the figure without its key: the key adds to h
	key       []keyEntry
	keyHeader string // said once for every entry of the key
	errCtx    string // the files the figure is drawn from, for errors
}

func newFigure(name, title, xLabel, yLabel string) *figure {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
	leg := plot.NewLegend()
	leg.Top = true
	leg.Padding = vg.Points(3) // between entries: descenders clear the next line
	return &figure{name: name, p: p, leg: leg, w: figW, h: figH}
}

// legend adds a legend entry.
func (f *figure) legend(name string, thumbs ...plot.Thumbnailer) {
	f.leg.Add(name, thumbs...)
	f.nLeg++
}

// note writes a line of text in the middle of the data area (set its
// ranges first).
func (f *figure) note(msg string) {
	x := (f.p.X.Min + f.p.X.Max) / 2
	y := (f.p.Y.Min + f.p.Y.Max) / 2
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: x, Y: y}}, Labels: []string{msg}})
	if err != nil {
		panic(err) // finite coordinates: cannot fail
	}
	l.TextStyle[0].XAlign = text.XCenter
	f.p.Add(l)
}

// height is the figure's height, its key included.
func (f *figure) height() vg.Length {
	_, _, kh := f.keyLayout(f.w)
	return f.h + kh
}

// draw draws the figure on c: a white background, the key along the
// bottom, the plot above it, and the legend in a column to the plot's
// right, starting below the title.
func (f *figure) draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	if _, _, kh := f.keyLayout(c.Max.X - c.Min.X); kh > 0 {
		f.drawKey(draw.Crop(c, 0, 0, 0, -(c.Max.Y - c.Min.Y - kh)))
		c = draw.Crop(c, 0, 0, kh, 0)
	}
	if f.nLeg == 0 {
		f.p.Draw(c)
		return
	}
	r := f.leg.Rectangle(c)
	lw := r.Max.X - r.Min.X + vg.Points(12)
	top := vg.Points(6)
	if f.p.Title.Text != "" {
		top += f.p.Title.TextStyle.Rectangle(f.p.Title.Text).Size().Y + f.p.Title.Padding
	}
	f.p.Draw(draw.Crop(c, 0, -lw, 0, 0))
	f.leg.Draw(draw.Crop(c, c.Max.X-c.Min.X-lw, -vg.Points(6), 0, -top))
}

// render draws f as PNG and SVG. A panic of the plotting library is
// returned as an error naming the figure.
func (f *figure) render() (pngData, svgData []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plots: drawing %s from %s: %v", f.name, f.errCtx, r)
		}
	}()
	h := f.height()
	sc := vgsvg.New(f.w, h)
	f.draw(draw.New(sc))
	var sb bytes.Buffer
	if _, err := sc.WriteTo(&sb); err != nil {
		return nil, nil, fmt.Errorf("plots: %s.svg: %w", f.name, err)
	}
	ic := vgimg.NewWith(vgimg.UseWH(f.w, h), vgimg.UseDPI(pngDPI))
	f.draw(draw.New(ic))
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: ic}).WriteTo(&pb); err != nil {
		return nil, nil, fmt.Errorf("plots: %s.png: %w", f.name, err)
	}
	return pb.Bytes(), sb.Bytes(), nil
}

// save renders every figure, then writes each as dir/NAME.png and
// dir/NAME.svg, each through a temporary file renamed into place. It
// returns the paths written, in order.
func save(dir string, figs []*figure) ([]string, error) {
	type file struct {
		path string
		data []byte
	}
	var files []file
	for _, f := range figs {
		pngData, svgData, err := f.render()
		if err != nil {
			return nil, err
		}
		files = append(files,
			file{filepath.Join(dir, f.name+".png"), pngData},
			file{filepath.Join(dir, f.name+".svg"), svgData})
	}
	var paths []string
	for _, fl := range files {
		if err := writeFile(fl.path, fl.data); err != nil {
			return paths, err
		}
		paths = append(paths, fl.path)
	}
	return paths, nil
}

// writeFile writes data to path atomically (a temporary file in the same
// folder, synced and renamed into place).
func writeFile(path string, data []byte) error {
	if err := renameio.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}

// rgb is a color from a 0xRRGGBB constant.
func rgb(c uint32) color.Color {
	return color.RGBA{R: uint8(c >> 16), G: uint8(c >> 8), B: uint8(c), A: 0xff}
}

// segColors are the segments' colors, the same in every figure (the first
// five of matplotlib's "tab10").
var segColors = [sim.NumSegments]color.Color{
	sim.SegInternal: rgb(0x1f77b4),
	sim.SegOnDemand: rgb(0xff7f0e),
	sim.SegSpot:     rgb(0x2ca02c),
	sim.SegReserved: rgb(0x9467bd),
	sim.SegServing:  rgb(0xd62728),
}

// otherColor draws a segment name this version does not know.
var otherColor = rgb(0x7f7f7f)

// segColName is a segment's column-name suffix ("on-demand" → "on_demand").
func segColName(s sim.Segment) string {
	n := []byte(s.String())
	for i, c := range n {
		if c == '-' {
			n[i] = '_'
		}
	}
	return string(n)
}

// segByName maps the segment names of jobs.arrow to segments.
var segByName = func() map[string]sim.Segment {
	m := make(map[string]sim.Segment, sim.NumSegments)
	for s := sim.SegInternal; s < sim.NumSegments; s++ {
		m[s.String()] = s
	}
	return m
}()

// plainTicks are gonum's default ticks labelled with no more decimals
// than their values need: gonum gives every label two decimals when the
// step is 2.5 × 10ⁿ, whatever n ("2500.00", "25.00").
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	var labelled []float64
	for _, t := range ticks {
		if t.Label != "" {
			labelled = append(labelled, t.Value)
		}
	}
	if len(labelled) < 2 {
		return ticks
	}
	// The fewest decimals (at most 6) that write each labelled value to
	// within a millionth of the step between them.
	tol := math.Abs(labelled[1]-labelled[0]) * 1e-6
	prec := 0
	for ; prec < 6; prec++ {
		exact := true
		for _, v := range labelled {
			r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', prec, 64), 64)
			exact = exact && math.Abs(r-v) <= tol
		}
		if exact {
			break
		}
	}
	for i, t := range ticks {
		if t.Label != "" {
			l := strconv.FormatFloat(t.Value, 'f', prec, 64)
			if l == "-0" || strings.Trim(l, "-0.") == "" {
				l = strings.TrimPrefix(l, "-") // no "-0" or "-0.0"
			}
			ticks[i].Label = l
		}
	}
	return ticks
}

// durTicks marks a logarithmic axis of seconds at readable durations.
type durTicks struct{}

var durMarks = []struct {
	s     float64
	label string
}{
	{1, "1s"}, {10, "10s"}, {60, "1m"}, {600, "10m"}, {3600, "1h"}, {6 * 3600, "6h"},
	{86400, "1d"}, {7 * 86400, "7d"}, {30 * 86400, "30d"}, {365 * 86400, "1y"},
}

func (durTicks) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for _, m := range durMarks {
		if m.s >= lo && m.s <= hi {
			t = append(t, plot.Tick{Value: m.s, Label: m.label})
		}
	}
	return t
}

// timeUnit picks the unit of a time axis that ends at endS seconds.
func timeUnit(endS float64) (div float64, name string) {
	if endS <= 3*86400 {
		return 3600, "hours"
	}
	return 86400, "days"
}
