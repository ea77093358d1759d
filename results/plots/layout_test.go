package plots_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"

	"neosim/results/plots"
)

// The layout tests read the SVG files back, compute the box of every text
// from its position, transforms, font and size (the ink of its glyphs in
// the font the SVG names), and check that no two texts overlap, that every text
// lies inside the figure and that no text covers a point marker.

// affine is the SVG matrix (a b c d e f): x' = a·x + c·y + e, y' = b·x + d·y + f.
type affine [6]float64

func (m affine) mul(n affine) affine {
	return affine{
		m[0]*n[0] + m[2]*n[1], m[1]*n[0] + m[3]*n[1],
		m[0]*n[2] + m[2]*n[3], m[1]*n[2] + m[3]*n[3],
		m[0]*n[4] + m[2]*n[5] + m[4], m[1]*n[4] + m[3]*n[5] + m[5],
	}
}

func (m affine) apply(x, y float64) [2]float64 {
	return [2]float64{m[0]*x + m[2]*y + m[4], m[1]*x + m[3]*y + m[5]}
}

var (
	identity = affine{1, 0, 0, 1, 0, 0}
	transRe  = regexp.MustCompile(`(scale|translate|rotate)\(([^)]*)\)`)
	sizeRe   = regexp.MustCompile(`font-size:([0-9.]+)px`)
	familyRe = regexp.MustCompile(`font-family:([^;]+)`)
	circleRe = regexp.MustCompile(`^M([-0-9.e]+),([-0-9.e]+)A([0-9.e]+),`)
)

// parseTransform parses an SVG transform list of scale, translate and
// rotate.
func parseTransform(t *testing.T, s string) affine {
	m := identity
	for _, g := range transRe.FindAllStringSubmatch(s, -1) {
		var v []float64
		for _, f := range strings.Split(g[2], ",") {
			x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				t.Fatalf("transform %q: %v", s, err)
			}
			v = append(v, x)
		}
		var n affine
		switch {
		case g[1] == "scale" && len(v) == 2:
			n = affine{v[0], 0, 0, v[1], 0, 0}
		case g[1] == "translate" && len(v) == 2:
			n = affine{1, 0, 0, 1, v[0], v[1]}
		case g[1] == "rotate" && len(v) == 1:
			sin, cos := math.Sincos(v[0] * math.Pi / 180)
			n = affine{cos, sin, -sin, cos, 0, 0}
		default:
			t.Fatalf("transform %q: cannot read %q", s, g[0])
		}
		m = m.mul(n)
	}
	return m
}

// svgBox is a text's box or a marker's square, as 4 corners in the SVG's
// coordinates (y down), in order around the box.
type svgBox struct {
	what    string
	corners [4][2]float64
}

// inkFace is the face of the SVGs' font (package plot's default) at size
// pt, for the glyphs' ink bounds.
func inkFace(t *testing.T, size float64) xfont.Face {
	f, err := opentype.NewFace(font.DefaultCache.Lookup(plot.DefaultFont, vg.Length(size)).Face,
		&opentype.FaceOptions{Size: size, DPI: 72, Hinting: xfont.HintingNone})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func fix(v fixed.Int26_6) float64 { return float64(v) / 64 }

// svgLayout reads an SVG written by package plots: the figure's size, the
// boxes of its texts and of its circle markers.
func svgLayout(t *testing.T, path string) (w, h float64, texts, markers []svgBox) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := xml.NewDecoder(f)
	stack := []affine{identity}
	type pending struct {
		m          affine
		x, y, size float64
		s          strings.Builder
	}
	var txt *pending
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			attr := map[string]string{}
			for _, a := range e.Attr {
				attr[a.Name.Local] = a.Value
			}
			m := stack[len(stack)-1].mul(parseTransform(t, attr["transform"]))
			stack = append(stack, m)
			num := func(k string) float64 {
				v, err := strconv.ParseFloat(strings.TrimSuffix(attr[k], "pt"), 64)
				if err != nil {
					t.Fatalf("%s: <%s %s=%q>: %v", path, e.Name.Local, k, attr[k], err)
				}
				return v
			}
			switch e.Name.Local {
			case "svg":
				w, h = num("width"), num("height")
			case "text":
				sz := sizeRe.FindStringSubmatch(attr["style"])
				fam := familyRe.FindStringSubmatch(attr["style"])
				if sz == nil || fam == nil || fam[1] != "Liberation Serif" {
					t.Fatalf("%s: text style %q: want Liberation Serif and a size", path, attr["style"])
				}
				size, _ := strconv.ParseFloat(sz[1], 64)
				txt = &pending{m: m, x: num("x"), y: num("y"), size: size}
			case "path":
				if c := circleRe.FindStringSubmatch(attr["d"]); c != nil {
					x, _ := strconv.ParseFloat(c[1], 64)
					y, _ := strconv.ParseFloat(c[2], 64)
					r, _ := strconv.ParseFloat(c[3], 64)
					cx := x - r // the path starts at the circle's right end
					markers = append(markers, svgBox{fmt.Sprintf("marker at (%.1f, %.1f)", cx, y), [4][2]float64{
						m.apply(cx-r, y-r), m.apply(cx+r, y-r), m.apply(cx+r, y+r), m.apply(cx-r, y+r)}})
				}
			}
		case xml.CharData:
			if txt != nil {
				txt.s.Write(e)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if e.Name.Local == "text" && txt != nil {
				s := txt.s.String()
				// The ink of the glyphs, from the baseline's start (x, y);
				// above the baseline is -y in the text's coordinates.
				b, _ := xfont.BoundString(inkFace(t, txt.size), s)
				x0, x1 := txt.x+fix(b.Min.X), txt.x+fix(b.Max.X)
				y0, y1 := txt.y+fix(b.Min.Y), txt.y+fix(b.Max.Y)
				texts = append(texts, svgBox{fmt.Sprintf("%q", s), [4][2]float64{
					txt.m.apply(x0, y0), txt.m.apply(x1, y0), txt.m.apply(x1, y1), txt.m.apply(x0, y1)}})
				txt = nil
			}
		}
	}
	return w, h, texts, markers
}

// separated reports whether two convex quadrilaterals are apart (touching
// allowed, to 0.05 pt): some edge's normal separates their projections.
func separated(a, b [4][2]float64) bool {
	for _, q := range [][4][2]float64{a, b} {
		for i := range 4 {
			p, r := q[i], q[(i+1)%4]
			nx, ny := -(r[1] - p[1]), r[0]-p[0]
			l := math.Hypot(nx, ny)
			if l == 0 {
				continue
			}
			nx, ny = nx/l, ny/l
			proj := func(c [4][2]float64) (lo, hi float64) {
				lo, hi = math.Inf(1), math.Inf(-1)
				for _, v := range c {
					d := v[0]*nx + v[1]*ny
					lo, hi = min(lo, d), max(hi, d)
				}
				return lo, hi
			}
			alo, ahi := proj(a)
			blo, bhi := proj(b)
			if ahi <= blo+0.05 || bhi <= alo+0.05 {
				return true
			}
		}
	}
	return false
}

// layoutProblems lists the texts of an SVG that overlap each other or a
// marker or leave the figure.
func layoutProblems(t *testing.T, path string) []string {
	t.Helper()
	w, h, texts, markers := svgLayout(t, path)
	if len(texts) == 0 {
		t.Fatalf("%s: no text", path)
	}
	var out []string
	for i, a := range texts {
		for _, c := range a.corners {
			if c[0] < -0.05 || c[0] > w+0.05 || c[1] < -0.05 || c[1] > h+0.05 {
				out = append(out, fmt.Sprintf("%s leaves the %gx%g figure (corner %.1f, %.1f)", a.what, w, h, c[0], c[1]))
				break
			}
		}
		for _, b := range texts[i+1:] {
			if !separated(a.corners, b.corners) {
				out = append(out, fmt.Sprintf("%s overlaps %s", a.what, b.what))
			}
		}
		for _, m := range markers {
			if !separated(a.corners, m.corners) {
				out = append(out, fmt.Sprintf("%s covers the %s", a.what, m.what))
			}
		}
	}
	return out
}

func TestLayoutChecker(t *testing.T) {
	// The checker itself: boxes that overlap, touch, are rotated apart.
	sq := func(x, y, s float64) [4][2]float64 {
		return [4][2]float64{{x, y}, {x + s, y}, {x + s, y + s}, {x, y + s}}
	}
	if separated(sq(0, 0, 10), sq(5, 5, 10)) {
		t.Error("overlapping squares separated")
	}
	if !separated(sq(0, 0, 10), sq(10, 0, 10)) {
		t.Error("touching squares not separated")
	}
	// Two long thin boxes rotated 30°, one above the other: their
	// axis-aligned bounding boxes overlap, the boxes do not.
	rot := parseTransform(t, "rotate(30)")
	thin := func(y float64) [4][2]float64 {
		var q [4][2]float64
		for i, c := range [4][2]float64{{0, y}, {100, y}, {100, y + 8}, {0, y + 8}} {
			q[i] = rot.apply(c[0], c[1])
		}
		return q
	}
	if !separated(thin(0), thin(10)) {
		t.Error("rotated boxes 2 pt apart not separated")
	}
	if separated(thin(0), thin(5)) {
		t.Error("rotated boxes sharing 3 pt separated")
	}
	m := parseTransform(t, "scale(1, -1) translate(0, -324)")
	if p := m.apply(10, 300); p != [2]float64{10, 24} {
		t.Errorf("scale(1, -1) translate(0, -324) maps (10, 300) to %v, want (10, 24)", p)
	}
}

// crowded writes a comparison folder that crowds a plot: a sweep of 4
// variants with long names, 2 pairs each, several at exactly the same
// point and others a hair apart, and one run per pair.
// NEOSIM_CROWDED_OUT names a folder to write it to instead of a temporary
// one, to look at it (neosim plot DIR draws it again).
func crowded(t *testing.T) string {
	dir := os.Getenv("NEOSIM_CROWDED_OUT")
	if dir == "" {
		dir = t.TempDir()
	}
	var (
		variant, alloc, pricer               []string
		runs, margin, marginCI, wait, waitCI []float64
		pareto                               []bool
	)
	for vi, v := range []string{"1", "0.95", "0.9", "0.85"} {
		for pi, p := range [][2]string{{"partition", "flat"}, {"backfill", "utilization"}} {
			variant = append(variant, "rate_per_hour-1000_internal_share-"+v)
			alloc, pricer = append(alloc, p[0]), append(pricer, p[1])
			runs = append(runs, 1)
			// Variants 1 and 0.95 tie exactly; 0.9 is a hair off them.
			m := 0.76 - 0.01*float64(pi)
			wt := 0.0
			switch vi {
			case 2:
				m += 1e-5
			case 3:
				m, wt = 0.70, 3600
			}
			margin, marginCI = append(margin, m*1e6), append(marginCI, 4e3)
			wait, waitCI = append(wait, wt), append(waitCI, 60)
			pareto = append(pareto, pi == 0)
			run := filepath.Join(dir, "variant="+variant[len(variant)-1], "allocator="+p[0], "pricer="+p[1], "seed=1")
			if err := os.MkdirAll(run, 0o755); err != nil {
				t.Fatal(err)
			}
			names := []string{"external_revenue_usd", "revenue_usd_on_demand", "revenue_usd_spot", "revenue_usd_reserved", "revenue_usd_serving",
				"external_direct_cost_usd", "cost_support_usd", "internal_delay_caused_usd"}
			cols := []any{[]float64{1e5}, []float64{4e4}, []float64{3e4}, []float64{2e4}, []float64{1e4}, []float64{3e4}, []float64{5e3}, []float64{1e3}}
			writeArrow(t, filepath.Join(run, "summary.arrow"), names, cols)
		}
	}
	writeArrow(t, filepath.Join(dir, "comparison.arrow"),
		[]string{"variant", "allocator", "pricer", "runs", "net_value_mean", "net_value_ci95", "internal_delay_caused_mean", "internal_delay_caused_ci95", "pareto"},
		[]any{variant, alloc, pricer, runs, margin, marginCI, wait, waitCI, pareto})
	return dir
}

// TestLayoutCrowded: a crowded comparison (ties, near-ties, long variant
// names) draws no text over another, over a marker or off the figure.
func TestLayoutCrowded(t *testing.T) {
	dir := crowded(t)
	if _, err := plots.Comparison(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"frontier.svg", "breakdown.svg"} {
		for _, p := range layoutProblems(t, filepath.Join(dir, f)) {
			t.Errorf("%s: %s", f, p)
		}
	}
}

// TestLayoutRealOutput: the figures of a real comparison and a real run.
func TestLayoutRealOutput(t *testing.T) {
	cmp := t.TempDir()
	copyTree(t, cmpOutput(t), cmp)
	if _, err := plots.Comparison(cmp); err != nil {
		t.Fatal(err)
	}
	run := t.TempDir()
	copyTree(t, runOutput(t), run)
	if _, err := plots.Run(run); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		filepath.Join(cmp, "frontier.svg"), filepath.Join(cmp, "breakdown.svg"),
		filepath.Join(run, "utilization.svg"), filepath.Join(run, "spot_price.svg"), filepath.Join(run, "wait_cdf.svg"),
	} {
		for _, msg := range layoutProblems(t, p) {
			t.Errorf("%s: %s", filepath.Base(p), msg)
		}
	}
}
