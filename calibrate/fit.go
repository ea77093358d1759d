package calibrate

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"

	"neosim/sim/econ"
)

// FitOptions tune Fit.
type FitOptions struct {
	// Window is the length of the windows samples are averaged over into
	// one (utilization, power) point. 0: the run's duty period, so that a
	// window holds whole on/off cycles, else DefaultWindow.
	Window time.Duration
	// Source is the profile's source; "": one is made from the run info.
	Source string
}

// DefaultWindow is the fit window of runs without a duty period.
const DefaultWindow = 10 * time.Second

// Exponent search range of FitCurve: beyond 0.1–10 the curve is a step
// and the data cannot tell one exponent from another.
const (
	minExponent = 0.1
	maxExponent = 10
)

// idleUtil is the utilization (fraction) at or below which a passive
// window counts as idle.
const idleUtil = 0.01

// Curve is a fitted power curve P(u) = Base + (Full − Base) · u^Exponent.
type Curve struct {
	Base, Full, Exponent float64
	RMSE                 float64 // watts
	R2                   float64 // NaN when every point has the same power
	N                    int     // points
	// Fixed is true when no point lies between 5% and 95% utilization:
	// the exponent is then unidentifiable and set to 1.
	Fixed bool
}

// FitCurve fits P(u) = a + b·u^k to points (u in [0, 1], p in watts) by
// least squares: for each k of a log-spaced grid over [0.1, 10] the best
// a, b are a linear regression (gonum stat.LinearRegression) of p on u^k;
// the k with the least squared error is refined by golden-section search.
// It needs 3 points spanning at least 20% of utilization.
func FitCurve(u, p []float64) (Curve, error) {
	if len(u) != len(p) {
		return Curve{}, errors.New("calibrate: fit: utilization and power differ in length")
	}
	if len(u) < 3 {
		return Curve{}, fmt.Errorf("calibrate: fit: %d points; need at least 3", len(u))
	}
	lo, hi, interior := math.Inf(1), math.Inf(-1), 0
	for _, x := range u {
		if math.IsNaN(x) || x < 0 || x > 1 {
			return Curve{}, fmt.Errorf("calibrate: fit: utilization %v outside [0, 1]", x)
		}
		lo, hi = min(lo, x), max(hi, x)
		if x > 0.05 && x < 0.95 {
			interior++
		}
	}
	// 20%: below it the slope extrapolates too far to 0% and 100%.
	if hi-lo < 0.2 {
		return Curve{}, fmt.Errorf("calibrate: fit: utilization spans only %.0f–%.0f%%; run a load (--load-cmd with --duty 0,…,100)", lo*100, hi*100)
	}
	xs := make([]float64, len(u))
	sse := func(k float64) (a, b, s float64) {
		for i, x := range u {
			xs[i] = math.Pow(x, k)
		}
		a, b = stat.LinearRegression(xs, p, nil, false)
		for i := range xs {
			r := p[i] - (a + b*xs[i])
			s += r * r
		}
		return a, b, s
	}
	k := 1.0
	if interior > 0 {
		// Grid in log k, then golden section between the best point's
		// neighbours: the error is smooth in k, and the grid keeps the
		// search from a local minimum.
		const n = 200
		lk0, lk1 := math.Log(minExponent), math.Log(maxExponent)
		best, bestS := 0, math.Inf(1)
		for i := 0; i <= n; i++ {
			_, _, s := sse(math.Exp(lk0 + (lk1-lk0)*float64(i)/n))
			if s < bestS {
				best, bestS = i, s
			}
		}
		a := lk0 + (lk1-lk0)*float64(max(best-1, 0))/n
		b := lk0 + (lk1-lk0)*float64(min(best+1, n))/n
		g := (math.Sqrt(5) - 1) / 2
		c, d := b-g*(b-a), a+g*(b-a)
		_, _, sc := sse(math.Exp(c))
		_, _, sd := sse(math.Exp(d))
		for b-a > 1e-7 {
			if sc < sd {
				b, d, sd = d, c, sc
				c = b - g*(b-a)
				_, _, sc = sse(math.Exp(c))
			} else {
				a, c, sc = c, d, sd
				d = a + g*(b-a)
				_, _, sd = sse(math.Exp(d))
			}
		}
		k = math.Exp((a + b) / 2)
	}
	a, b, s := sse(k)
	mean := stat.Mean(p, nil)
	var tss float64
	for _, y := range p {
		tss += (y - mean) * (y - mean)
	}
	r2 := math.NaN()
	if tss > 0 {
		r2 = 1 - s/tss
	}
	return Curve{Base: a, Full: a + b, Exponent: k, RMSE: math.Sqrt(s / float64(len(p))), R2: r2, N: len(p), Fixed: interior == 0}, nil
}

// point is one window's mean utilization (fraction) and power (watts).
type point struct {
	mode  string
	level float64
	u, p  float64
}

// segment is one device's samples at one step, in time order.
type segment struct {
	mode  string
	level float64
	ss    []Sample
}

// segments splits one device's samples (sorted by time) at each change of
// mode or level.
func segments(ss []Sample) []segment {
	var out []segment
	for i := 0; i < len(ss); {
		j := i + 1
		for j < len(ss) && ss[j].Mode == ss[i].Mode && sameLevel(ss[j].Level, ss[i].Level) {
			j++
		}
		out = append(out, segment{ss[i].Mode, ss[i].Level, ss[i:j]})
		i = j
	}
	return out
}

func sameLevel(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }

// meanPower returns the mean power over samples ss: Δenergy/Δt from the
// first valid energy reading to the last one, in ss or next (the sample
// after ss, or nil), when there are two and the counter did not go back
// (driver reload); else the mean of the power readings in ss.
func meanPower(ss []Sample, next *Sample) (float64, bool) {
	first, last := -1, -1
	for i := range ss {
		if !math.IsNaN(ss[i].EnergyJ) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first >= 0 {
		end := &ss[last]
		if next != nil && !math.IsNaN(next.EnergyJ) {
			end = next
		}
		de, dt := end.EnergyJ-ss[first].EnergyJ, (end.T - ss[first].T).Seconds()
		if de >= 0 && dt > 0 {
			return de / dt, true
		}
	}
	var sum float64
	n := 0
	for i := range ss {
		if !math.IsNaN(ss[i].PowerW) {
			sum += ss[i].PowerW
			n++
		}
	}
	if n == 0 {
		return nan, false
	}
	return sum / float64(n), true
}

// meanUtil returns the mean GPU utilization as a fraction.
func meanUtil(ss []Sample) (float64, bool) {
	var sum float64
	n := 0
	for i := range ss {
		if !math.IsNaN(ss[i].UtilGPU) {
			sum += ss[i].UtilGPU
			n++
		}
	}
	if n == 0 {
		return nan, false
	}
	return min(max(sum/float64(n)/100, 0), 1), true
}

// windows cuts a segment into windows of length w from its first sample
// and returns one point per window with at least two samples and both a
// utilization and a power. Utilization is the mean over the window's
// samples; power runs from its first sample to the next window's first
// (the energy of exactly the window when samples fall on its edges). A
// last window shorter than half of w is dropped with its few samples.
func windows(sg segment, w time.Duration) []point {
	var out []point
	t0 := sg.ss[0].T
	end := sg.ss[len(sg.ss)-1].T
	for i := 0; i < len(sg.ss); {
		k := (sg.ss[i].T - t0) / w
		j := i + 1
		for j < len(sg.ss) && (sg.ss[j].T-t0)/w == k {
			j++
		}
		ws := sg.ss[i:j]
		var next *Sample
		if j < len(sg.ss) {
			next = &sg.ss[j]
		}
		i = j
		if len(ws) < 2 || (end-t0 < (k+1)*w && ws[len(ws)-1].T-ws[0].T < w/2) {
			continue
		}
		u, ok1 := meanUtil(ws)
		p, ok2 := meanPower(ws, next)
		if ok1 && ok2 {
			out = append(out, point{sg.mode, sg.level, u, p})
		}
	}
	return out
}

// modelData gathers one GPU model's data for the fit.
type modelData struct {
	name, nvmlName string
	devices        int
	points         []point
	// caps[level] holds each device's mean power and the last throughput
	// the load command reported at that cap.
	caps map[float64]*capData
}

type capData struct {
	power []float64
	thr   float64 // NaN: none reported
	thrT  time.Duration
}

// Fit fits a profile to the samples of a run: per GPU model (devices
// pooled), the power curve and, if the run had a power-cap sweep, the cap
// curve. The curve is fitted to the load windows if any, else to the
// passive ones; IdleW is the mean of idle passive windows (no process on
// the GPU) if any, else the curve's base; a curve fitted to load windows
// gives ContextIdleW (the load command holds the GPU even when stopped).
func Fit(info RunInfo, samples []Sample, opt FitOptions) (*Profile, error) {
	if len(samples) == 0 {
		return nil, errors.New("calibrate: fit: no samples")
	}
	w := opt.Window
	if w == 0 {
		if d, err := time.ParseDuration(info.Period); err == nil && d > 0 && hasMode(samples, ModeLoad) {
			w = d
		} else {
			w = DefaultWindow
		}
	}
	if w <= 0 {
		return nil, fmt.Errorf("calibrate: fit: window %v must be > 0", w)
	}
	byDev := map[int][]Sample{}
	for _, s := range samples {
		byDev[s.Device] = append(byDev[s.Device], s)
	}
	models := map[string]*modelData{}
	var devs []int
	for d := range byDev {
		devs = append(devs, d)
	}
	sort.Ints(devs)
	for _, d := range devs {
		di := info.device(d)
		if di == nil {
			return nil, fmt.Errorf("calibrate: fit: samples of device %d, which the run info does not list", d)
		}
		name := di.ModelName()
		md := models[name]
		if md == nil {
			md = &modelData{name: name, nvmlName: di.Name, caps: map[float64]*capData{}}
			models[name] = md
		}
		md.devices++
		ss := byDev[d]
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].T < ss[j].T })
		for _, sg := range segments(ss) {
			if sg.mode == ModeCaps {
				p, ok := meanPower(sg.ss, nil)
				if !ok {
					continue
				}
				cd := md.caps[sg.level]
				if cd == nil {
					cd = &capData{thr: nan}
					md.caps[sg.level] = cd
				}
				cd.power = append(cd.power, p)
				for i := len(sg.ss) - 1; i >= 0; i-- {
					if s := sg.ss[i]; !math.IsNaN(s.Throughput) {
						if math.IsNaN(cd.thr) || s.T > cd.thrT {
							cd.thr, cd.thrT = s.Throughput, s.T
						}
						break
					}
				}
				continue
			}
			md.points = append(md.points, windows(sg, w)...)
		}
	}

	p := &Profile{
		Schema:      econ.CalibrationSchema,
		Measured:    true,
		Source:      opt.Source,
		Date:        info.Start,
		Driver:      info.Driver,
		NVMLVersion: info.NVMLVersion,
		Devices:     info.Devices,
	}
	if p.Source == "" {
		p.Source = "neosim calibrate"
		if info.Host != "" {
			p.Source += " on " + info.Host
		}
	}
	if p.Date == "" {
		return nil, errors.New("calibrate: fit: the run info has no start date")
	}
	var names []string
	for n := range models {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []string
	for _, n := range names {
		m, err := fitModel(models[n], w)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		p.Models = append(p.Models, m)
	}
	if len(p.Models) == 0 {
		return nil, fmt.Errorf("calibrate: fit: no model could be fitted: %s", strings.Join(errs, "; "))
	}
	if len(errs) > 0 {
		p.Note = "not fitted: " + strings.Join(errs, "; ")
	}
	return p, p.Validate()
}

func hasMode(ss []Sample, mode string) bool {
	for i := range ss {
		if ss[i].Mode == mode {
			return true
		}
	}
	return false
}

func fitModel(md *modelData, w time.Duration) (ModelProfile, error) {
	m := ModelProfile{NVMLName: md.nvmlName, Devices: md.devices}
	m.Name = md.name
	var notes []string

	var idle []float64
	var us, ps []float64
	fromLoad := false
	for _, pt := range md.points {
		if pt.mode == ModeSample && pt.u <= idleUtil {
			idle = append(idle, pt.p)
		}
		if pt.mode == ModeLoad {
			fromLoad = true
		}
	}
	for _, pt := range md.points {
		if (pt.mode == ModeLoad) == fromLoad {
			us = append(us, pt.u)
			ps = append(ps, pt.p)
		}
	}
	if len(us) == 0 {
		return m, fmt.Errorf("%s: no passive or duty-cycle windows to fit a power curve to (a cap sweep alone gives none): measure with --sample and/or --duty too", md.name)
	}
	c, err := FitCurve(us, ps)
	if err != nil {
		return m, fmt.Errorf("%s: %s", md.name, strings.TrimPrefix(err.Error(), "calibrate: fit: "))
	}
	if c.Full < c.Base {
		return m, fmt.Errorf("%s: power falls with utilization (%.0f W at 0%%, %.0f W at 100%%): check that the load command loads these GPUs", md.name, c.Base, c.Full)
	}
	m.FullW, m.Exponent, m.RMSEW, m.Points, m.ExponentFixed = c.Full, c.Exponent, c.RMSE, c.N, c.Fixed
	if !math.IsNaN(c.R2) {
		r2 := c.R2
		m.R2 = &r2
	}
	if c.Fixed {
		notes = append(notes, "no window between 5% and 95% utilization: exponent set to 1 (duty cycles with a period longer than the window average to a line; see docs/calibration.md)")
	}
	m.IdleW = c.Base
	switch {
	case len(idle) > 0 && fromLoad:
		m.IdleW = stat.Mean(idle, nil)
		if c.Base > m.IdleW {
			m.ContextIdleW = c.Base
		} else {
			notes = append(notes, fmt.Sprintf("the loaded curve's 0%% power %.1f W is not above the passive idle %.1f W: context_idle_w left out", c.Base, m.IdleW))
		}
	case len(idle) > 0:
		notes = append(notes, fmt.Sprintf("idle_w is the curve's 0%% power; idle passive windows averaged %.1f W", stat.Mean(idle, nil)))
	case fromLoad:
		notes = append(notes, "no idle passive windows (run --sample with the GPUs free): idle_w is the loaded curve's 0% power, with the load command's context held, an upper bound on a free GPU's")
	}
	if m.IdleW <= 0 {
		return m, fmt.Errorf("%s: fitted idle power %.1f W is not positive", md.name, m.IdleW)
	}
	if m.FullW < m.BaseW() {
		m.FullW = m.BaseW()
	}
	if m.Exponent < 0.05 {
		m.Exponent = 0.05
	}

	caps, capNote := fitCaps(md.caps)
	m.Caps = caps
	if capNote != "" {
		notes = append(notes, capNote)
	}
	notes = append(notes, fmt.Sprintf("%d points of %v windows", c.N, w))
	m.Note = strings.Join(notes, "; ")
	return m, nil
}

// fitCaps turns the cap levels into the cap curve, relative to 100% (or
// the highest cap measured): throughput_rel = thr/thr_ref and energy per
// unit of work energy_rel = (P/thr)/(P_ref/thr_ref).
func fitCaps(caps map[float64]*capData) ([]econ.CapPoint, string) {
	if len(caps) == 0 {
		return nil, ""
	}
	var levels []float64
	for l := range caps {
		levels = append(levels, l)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(levels)))
	ref := caps[levels[0]]
	refP := stat.Mean(ref.power, nil)
	if math.IsNaN(ref.thr) || ref.thr <= 0 {
		return nil, fmt.Sprintf("power caps measured (%v %%) but the load command printed no positive throughput=<float> at %v%%: caps left out", levels, levels[0])
	}
	var out []econ.CapPoint
	var skipped []string
	for _, l := range levels {
		cd := caps[l]
		pw := stat.Mean(cd.power, nil)
		if math.IsNaN(cd.thr) || cd.thr <= 0 {
			skipped = append(skipped, fmt.Sprintf("%v%%", l))
			continue
		}
		out = append(out, econ.CapPoint{
			CapPct:        l,
			ThroughputRel: cd.thr / ref.thr,
			EnergyRel:     (pw / cd.thr) / (refP / ref.thr),
			PowerW:        pw,
		})
	}
	note := ""
	if levels[0] != 100 {
		note = fmt.Sprintf("caps relative to %v%%, the highest cap measured", levels[0])
	}
	if len(skipped) > 0 {
		note = strings.TrimPrefix(note+"; no throughput at "+strings.Join(skipped, ", "), "; ")
	}
	return out, note
}
