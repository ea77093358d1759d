package calibrate

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestFitCurveExact(t *testing.T) {
	for _, k := range []float64{0.4, 1, 1.7, 3} {
		var us, ps []float64
		for i := 0; i <= 20; i++ {
			u := float64(i) / 20
			us = append(us, u)
			ps = append(ps, 70+630*math.Pow(u, k))
		}
		c, err := FitCurve(us, ps)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(c.Base-70) > 1e-3 || math.Abs(c.Full-700) > 1e-3 || math.Abs(c.Exponent-k) > 1e-4 || c.RMSE > 1e-3 || c.R2 < 0.999999 || c.Fixed {
			t.Errorf("k=%v: got %+v, want base 70, full 700, exponent %v", k, c, k)
		}
	}
}

func TestFitCurveNoisy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2)) // fixed seed
	var us, ps []float64
	for i := 0; i < 400; i++ {
		u := rng.Float64()
		us = append(us, u)
		ps = append(ps, 140+860*math.Pow(u, 1.6)+rng.NormFloat64()*5)
	}
	c, err := FitCurve(us, ps)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.Base-140) > 2 || math.Abs(c.Full-1000) > 3 || math.Abs(c.Exponent-1.6) > 0.03 || math.Abs(c.RMSE-5) > 0.5 {
		t.Errorf("got %+v, want base 140±2, full 1000±3, exponent 1.6±0.03, RMSE ≈ 5 (seed 1, 2)", c)
	}
}

// With points only near 0% and 100% every exponent fits as well: it is
// fixed at 1.
func TestFitCurveEndsOnly(t *testing.T) {
	us := []float64{0, 0, 0.02, 1, 0.98, 1}
	ps := []float64{130, 131, 140, 700, 690, 699}
	c, err := FitCurve(us, ps)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Fixed || c.Exponent != 1 {
		t.Errorf("got %+v, want the exponent fixed at 1", c)
	}
}

func TestFitCurveErrors(t *testing.T) {
	for _, tc := range []struct {
		u, p []float64
		want string
	}{
		{[]float64{0, 1}, []float64{1, 2}, "2 points; need at least 3"},
		{[]float64{0.4, 0.5, 0.55}, []float64{1, 2, 3}, "utilization spans only 40–55%"},
		{[]float64{0, 0.5, 1.5}, []float64{1, 2, 3}, "utilization 1.5 outside [0, 1]"},
		{[]float64{0, 0.5}, []float64{1, 2, 3}, "differ in length"},
	} {
		if _, err := FitCurve(tc.u, tc.p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FitCurve(%v, %v) = %v, want …%q…", tc.u, tc.p, err, tc.want)
		}
	}
}

// synth appends one device's samples for a step of dur at interval dt:
// util(el) and power(el) give the readings at el into the step; energy
// integrates power exactly (power is constant between samples).
func synth(ss []Sample, dev int, mode string, level float64, t0, dur, dt time.Duration, e0 *float64, util, power func(el time.Duration) float64, thr float64) []Sample {
	for el := time.Duration(0); el <= dur; el += dt {
		s := Sample{T: t0 + el, Device: dev, UUID: "GPU-x", Mode: mode, Level: level,
			PowerW: power(el), EnergyJ: *e0, UtilGPU: util(el), UtilMem: nan, SMMHz: 1980, MemMHz: 2619, TempC: 50, Throughput: nan}
		if el > dur/2 {
			s.Throughput = thr
		}
		ss = append(ss, s)
		*e0 += power(el) * dt.Seconds()
	}
	return ss
}

func synthInfo(n int) RunInfo {
	info := RunInfo{Start: "2026-10-01T12:00:00Z", Driver: "550.54.15", Interval: "100ms", Period: "2s", LevelTime: "10s"}
	for i := range n {
		info.Devices = append(info.Devices, DeviceInfo{Index: i, Name: "NVIDIA H100 80GB HBM3", Model: "H100-SXM", UUID: "GPU-x"})
	}
	return info
}

// A load sweep with duty cycles longer than the fit window's resolution:
// each window averages whole on/off cycles, so power is linear in the
// mean utilization (exponent ≈ 1), from the context-idle power to full;
// a passive idle step gives the idle power; a cap sweep gives the curve.
func TestFitLoadAndCaps(t *testing.T) {
	const idle, ctxIdle, full = 69.0, 130.0, 700.0
	dt, period, level := 100*time.Millisecond, 2*time.Second, 10*time.Second
	var ss []Sample
	for dev := range 2 {
		e := 1e6 * float64(dev+1)
		t0 := time.Duration(0)
		ss = synth(ss, dev, ModeSample, nan, t0, level, dt, &e,
			func(time.Duration) float64 { return 0 }, func(time.Duration) float64 { return idle }, nan)
		t0 += level
		for _, d := range []float64{0, 25, 50, 75, 100} {
			on := func(el time.Duration) bool { o, _ := dutyPhase(d, period, el); return o }
			ss = synth(ss, dev, ModeLoad, d, t0, level, dt, &e,
				func(el time.Duration) float64 { return map[bool]float64{true: 100, false: 0}[on(el)] },
				func(el time.Duration) float64 { return map[bool]float64{true: full, false: ctxIdle}[on(el)] }, nan)
			t0 += level
		}
		for _, c := range []float64{100, 80, 60} {
			p := min(full, c/100*full)
			ss = synth(ss, dev, ModeCaps, c, t0, level, dt, &e,
				func(time.Duration) float64 { return 100 }, func(time.Duration) float64 { return p }, 1000*math.Sqrt(c/100))
			t0 += level
		}
	}
	p, err := Fit(synthInfo(2), ss, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Models) != 1 {
		t.Fatalf("got %d models, want 1", len(p.Models))
	}
	m := p.Models[0]
	if m.Name != "H100-SXM" || m.Devices != 2 || m.NVMLName != "NVIDIA H100 80GB HBM3" {
		t.Errorf("model %q, %d devices, NVML name %q", m.Name, m.Devices, m.NVMLName)
	}
	if math.Abs(m.IdleW-idle) > 0.5 || math.Abs(m.ContextIdleW-ctxIdle) > 2 || math.Abs(m.FullW-full) > 2 || math.Abs(m.Exponent-1) > 0.03 {
		t.Errorf("idle %.2f ctx %.2f full %.2f k %.3f; want %v %v %v 1", m.IdleW, m.ContextIdleW, m.FullW, m.Exponent, idle, ctxIdle, full)
	}
	// 5 levels × 5 windows of one period × 2 devices.
	if m.Points != 50 {
		t.Errorf("%d points, want 50", m.Points)
	}
	if len(m.Caps) != 3 {
		t.Fatalf("caps %+v, want 3 points", m.Caps)
	}
	for _, c := range m.Caps {
		thr := math.Sqrt(c.CapPct / 100)
		if math.Abs(c.ThroughputRel-thr) > 1e-9 || math.Abs(c.EnergyRel-(c.CapPct/100)/thr) > 1e-6 || math.Abs(c.PowerW-c.CapPct/100*full) > 1e-6 {
			t.Errorf("cap %+v: want throughput %.4f, energy %.4f", c, thr, (c.CapPct/100)/thr)
		}
	}
}

// Energy readings missing (unsupported on the device): power falls back
// to the mean of the power readings.
func TestFitPowerFallback(t *testing.T) {
	var ss []Sample
	e := 0.0
	for i, u := range []float64{0, 20, 40, 60, 80, 100} {
		ss = synth(ss, 0, ModeSample, nan, time.Duration(i)*10*time.Second, 9900*time.Millisecond, 100*time.Millisecond, &e,
			func(time.Duration) float64 { return u }, func(time.Duration) float64 { return 60 + 340*math.Pow(u/100, 2) }, nan)
	}
	for i := range ss {
		ss[i].EnergyJ = nan
	}
	info := synthInfo(1)
	info.Devices[0].Name, info.Devices[0].Model = "NVIDIA A100-SXM4-80GB", "A100-80GB"
	p, err := Fit(info, ss, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := p.Models[0]
	if math.Abs(m.IdleW-60) > 0.5 || math.Abs(m.FullW-400) > 1 || math.Abs(m.Exponent-2) > 0.02 || m.ContextIdleW != 0 {
		t.Errorf("got %+v, want idle 60, full 400, exponent 2", m.PowerProfile)
	}
}

func TestFitErrors(t *testing.T) {
	if _, err := Fit(synthInfo(1), nil, FitOptions{}); err == nil || !strings.Contains(err.Error(), "no samples") {
		t.Errorf("no samples: %v", err)
	}
	var ss []Sample
	e := 0.0
	ss = synth(ss, 3, ModeSample, nan, 0, 30*time.Second, time.Second, &e, func(time.Duration) float64 { return 0 }, func(time.Duration) float64 { return 70 }, nan)
	if _, err := Fit(synthInfo(1), ss, FitOptions{}); err == nil || !strings.Contains(err.Error(), "device 3, which the run info does not list") {
		t.Errorf("unknown device: %v", err)
	}
	for i := range ss {
		ss[i].Device = 0
	}
	if _, err := Fit(synthInfo(1), ss, FitOptions{}); err == nil || !strings.Contains(err.Error(), "utilization spans only 0–0%") {
		t.Errorf("idle only: %v", err)
	}
}

func TestCatalogModel(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"NVIDIA H100 80GB HBM3", "H100-SXM"},
		{"NVIDIA H100 PCIe", ""},
		{"NVIDIA A100-SXM4-80GB", "A100-80GB"},
		{"NVIDIA A100-PCIE-40GB", ""},
		{"NVIDIA H200 141GB HBM3e", "H200"},
		{"NVIDIA B200 180GB HBM3e", "B200"},
		{"NVIDIA GB200", "GB200"},
		{"NVIDIA L4", ""},
	} {
		if got := catalogModel(tc.in); got != tc.want {
			t.Errorf("catalogModel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
