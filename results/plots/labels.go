package plots

import (
	"image/color"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// A figure names its pairs by number (1 for comparison.arrow's first row,
// the same number in every figure) and lists the names in a key under the
// plot, so that long names and pairs at the same point never put text on
// top of text.

// keyEntry is one line of a figure's key: a pair's number and its name.
type keyEntry struct {
	num, name string
	color     color.Color // the number's color; nil: black
}

// pairNumber is the number of comparison.arrow's row i.
func pairNumber(i int) string { return strconv.Itoa(i + 1) }

// keyNames names the rows for a key: a header and one name per row. The
// parts every row shares are said once, in the header: the pair, when a
// sweep has one; the start and end of the variant names, when they share
// them (rate_per_hour-1000_internal_share-0.9 → X = 0.9 under "variant
// rate_per_hour-1000_internal_share-X").
func keyNames(rows []pairRow) (header string, names []string) {
	names = make([]string, len(rows))
	onePair, variants := true, false
	vs := make([]string, len(rows))
	for i := range rows {
		r := &rows[i]
		onePair = onePair && r.allocator == rows[0].allocator && r.pricer == rows[0].pricer
		variants = variants || r.variant != ""
		vs[i] = r.variant
	}
	if !variants {
		for i := range rows {
			names[i] = rows[i].label()
		}
		return "", names
	}
	pre, suf := commonAffixes(vs)
	var hdr []string
	if pre != "" || suf != "" {
		hdr = append(hdr, "variant "+pre+"X"+suf)
	}
	if onePair {
		hdr = append(hdr, "allocator/pricer "+rows[0].allocator+"/"+rows[0].pricer)
	}
	for i := range rows {
		r := &rows[i]
		n := r.variant
		if pre != "" || suf != "" {
			n = "X = " + strings.TrimSuffix(strings.TrimPrefix(n, pre), suf)
		}
		if !onePair {
			n += " · " + r.allocator + "/" + r.pricer
		}
		names[i] = n
	}
	if len(hdr) > 0 {
		header = strings.Join(hdr, "; ")
	}
	return header, names
}

// commonAffixes returns the longest prefix and suffix that all of names
// share, cut at a separator ('-', '_', '=', ' '; not '.', which numbers
// hold) so that no name is split inside a word or a number, or "", "" if
// that would leave a name empty or there are fewer than two distinct
// names.
func commonAffixes(names []string) (pre, suf string) {
	distinct := map[string]bool{}
	for _, n := range names {
		distinct[n] = true
	}
	if len(distinct) < 2 {
		return "", ""
	}
	pre, suf = names[0], names[0]
	for _, n := range names[1:] {
		k := 0
		for k < len(pre) && k < len(n) && pre[k] == n[k] {
			k++
		}
		pre = pre[:k]
		k = 0
		for k < len(suf) && k < len(n) && suf[len(suf)-1-k] == n[len(n)-1-k] {
			k++
		}
		suf = suf[len(suf)-k:]
	}
	const seps = "-_= "
	pre = pre[:strings.LastIndexAny(pre, seps)+1]
	if i := strings.IndexAny(suf, seps); i >= 0 {
		suf = suf[i:]
	} else {
		suf = ""
	}
	for _, n := range names {
		if len(pre)+len(suf) >= len(n) {
			return "", ""
		}
	}
	return pre, suf
}

// keyStyle is the text of a key and of point labels.
func keyStyle(p *plot.Plot) text.Style {
	s := p.X.Tick.Label
	s.Rotation = 0
	s.XAlign, s.YAlign = text.XLeft, text.YBottom
	return s
}

// keyPad is the space around a key and between its columns.
const keyPad = 6 * vg.Millimeter / 2

// keyLayout returns the columns of f's key on a canvas width wide and
// the height it takes (0 without a key): as many columns (at most 3) as
// fit the longest entry.
func (f *figure) keyLayout(width vg.Length) (cols int, colW, height vg.Length) {
	if len(f.key) == 0 {
		return 0, 0, 0
	}
	sty := keyStyle(f.p)
	lineH := sty.Height("0") * 1.25
	var widest vg.Length
	for _, e := range f.key {
		widest = max(widest, f.entryWidth(sty, e))
	}
	cols = 1
	for c := 3; c > 1; c-- {
		if vg.Length(c)*(widest+2*keyPad) <= width-2*keyPad {
			cols = c
			break
		}
	}
	rows := (len(f.key) + cols - 1) / cols
	if f.keyHeader != "" {
		rows++
	}
	return cols, (width - 2*keyPad) / vg.Length(cols), vg.Length(rows)*lineH + 2*keyPad
}

// numW is the width of a key's number column.
func (f *figure) numW(sty text.Style) vg.Length {
	var w vg.Length
	for _, e := range f.key {
		w = max(w, sty.Width(e.num))
	}
	return w + sty.Width("  ")
}

func (f *figure) entryWidth(sty text.Style, e keyEntry) vg.Length {
	return f.numW(sty) + sty.Width(e.name)
}

// drawKey draws f's key on c, column by column: the header, then each
// number and its name.
func (f *figure) drawKey(c draw.Canvas) {
	cols, colW, _ := f.keyLayout(c.Max.X - c.Min.X)
	if cols == 0 {
		return
	}
	sty := keyStyle(f.p)
	lineH := sty.Height("0") * 1.25
	y := c.Max.Y - keyPad
	if f.keyHeader != "" {
		y -= lineH
		c.FillText(sty, vg.Point{X: c.Min.X + keyPad, Y: y}, "key: "+f.keyHeader)
	}
	rows := (len(f.key) + cols - 1) / cols
	nw := f.numW(sty)
	for i, e := range f.key {
		x := c.Min.X + keyPad + vg.Length(i/rows)*colW
		yy := y - vg.Length(i%rows+1)*lineH
		ns := sty
		if e.color != nil {
			ns.Color = e.color
		}
		c.FillText(ns, vg.Point{X: x, Y: yy}, e.num)
		c.FillText(sty, vg.Point{X: x + nw, Y: yy}, e.name)
	}
}

// pointLabels writes a short text next to each of its points. Points
// whose markers overlap on the canvas share one label, their texts joined
// by commas (mergeLabels). Each label goes where it overlaps no other label and no
// marker, inside the data area: the first free place of 8 directions at
// growing distances, joined to its point by a thin line when it had to
// move away; if there is none, the place with the least overlap.
type pointLabels struct {
	xys    plotter.XYs
	texts  []string
	colors []color.Color
	style  text.Style
	radius vg.Length // of a marker
}

// labelDirs are the directions tried, in order of preference.
var labelDirs = [][2]int{{1, 1}, {1, -1}, {-1, 1}, {-1, -1}, {1, 0}, {-1, 0}, {0, 1}, {0, -1}}

// Plot implements plot.Plotter.
func (l *pointLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	marks := make([]vg.Point, len(l.xys))
	var taken []vg.Rectangle // labels placed and markers
	r := vg.Point{X: l.radius, Y: l.radius}
	for i, xy := range l.xys {
		marks[i] = vg.Point{X: trX(xy.X), Y: trY(xy.Y)}
		taken = append(taken, vg.Rectangle{Min: marks[i].Sub(r), Max: marks[i].Add(r)})
	}
	pts, texts, colors := mergeLabels(marks, l.texts, l.colors, l.radius)
	area := c.Rectangle
	for i, pt := range pts {
		txt := texts[i]
		sty := l.style
		sty.Color = colors[i]
		ext := sty.Rectangle(txt) // at (0, 0), XLeft/YBottom
		w, h := ext.Size().X, ext.Size().Y
		var best vg.Rectangle
		bestCost := vg.Length(-1)
		bestD := vg.Length(0)
	search:
		for _, d := range []vg.Length{2, 6, 12, 20, 30, 44, 60} {
			for _, dir := range labelDirs {
				var b vg.Rectangle
				switch dir[0] {
				case 1:
					b.Min.X = pt.X + l.radius + d
				case -1:
					b.Min.X = pt.X - l.radius - d - w
				default:
					b.Min.X = pt.X - w/2
				}
				switch dir[1] {
				case 1:
					b.Min.Y = pt.Y + l.radius/2 + d
				case -1:
					b.Min.Y = pt.Y - l.radius/2 - d - h
				default:
					b.Min.Y = pt.Y - h/2
				}
				b.Max = b.Min.Add(vg.Point{X: w, Y: h})
				cost := vg.Length(0)
				for _, t := range taken {
					cost += overlapArea(b, t)
				}
				// Outside the data area: the share outside, weighted heavily.
				cost += 100 * (w*h - overlapArea(b, area))
				if bestCost < 0 || cost < bestCost {
					best, bestCost, bestD = b, cost, d
				}
				if cost == 0 {
					break search
				}
			}
		}
		if bestD > 6 { // moved away: a line from the marker to the label
			q := vg.Point{X: min(max(pt.X, best.Min.X), best.Max.X), Y: min(max(pt.Y, best.Min.Y), best.Max.Y)}
			c.StrokeLine2(draw.LineStyle{Color: sty.Color, Width: vg.Points(0.4)}, pt.X, pt.Y, q.X, q.Y)
		}
		c.SetColor(color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xcc})
		c.Fill(best.Path())
		c.FillText(sty, best.Min.Sub(ext.Min), txt)
		taken = append(taken, best)
	}
}

// mergeLabels gives the labels of points on the canvas: one per group of
// points whose markers (of radius r) overlap, at the group's first point,
// its texts joined by commas. A label is in its points' color if they all
// have one, else in the default, pairColor: a Pareto point's color on a
// label it shares with other points would claim them for the frontier.
func mergeLabels(marks []vg.Point, texts []string, colors []color.Color, r vg.Length) (pts []vg.Point, merged []string, cols []color.Color) {
	for i, pt := range marks {
		k := slices.IndexFunc(pts, func(q vg.Point) bool {
			d := q.Sub(pt)
			return d.X*d.X+d.Y*d.Y < r*r
		})
		if k < 0 {
			pts, merged, cols = append(pts, pt), append(merged, texts[i]), append(cols, colors[i])
			continue
		}
		merged[k] += "," + texts[i]
		if cols[k] != colors[i] {
			cols[k] = pairColor
		}
	}
	return pts, merged, cols
}

// overlapArea is the area that a and b share.
func overlapArea(a, b vg.Rectangle) vg.Length {
	w := min(a.Max.X, b.Max.X) - max(a.Min.X, b.Min.X)
	h := min(a.Max.Y, b.Max.Y) - max(a.Min.Y, b.Min.Y)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}
