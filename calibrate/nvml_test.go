//go:build cgo && linux

package calibrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/gpus"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// fakeClock advances only when the run sleeps; each advance integrates the
// fake GPUs' energy over the interval (their state is constant in it, as
// the run changes state only between sleeps).
type fakeClock struct {
	now      time.Duration
	onSleep  []func(from, to time.Duration)
	cancelAt time.Duration // > 0: cancel once the clock reaches it
	cancel   context.CancelFunc
}

func (c *fakeClock) Now() time.Duration { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// The hooks see the state of the interval, that is, at its start.
	from, to := c.now, c.now+max(d, 0)
	for _, f := range c.onSleep {
		f(from, to)
	}
	c.now = to
	if c.cancel != nil && c.now >= c.cancelAt {
		c.cancel() // as SIGINT would, during this sleep
		return ctx.Err()
	}
	return nil
}

// fakeGPU is a GPU with a known power curve: free it draws idle; held by
// the load command, base = ctxIdle; at utilization u it draws
// base + (full − base)·u^k, at most its power limit.
type fakeGPU struct {
	clock               *fakeClock
	idle, ctxIdle, full float64
	k                   float64
	limitMW, defMW      uint32
	minMW, maxMW        uint32
	held, on            bool
	utilAt              func(t time.Duration) float64 // passive runs: utilization the test drives (0–1)
	energyMJ            float64
	unsupported         map[Field]bool
	lostEvery           map[Field]int // ERROR_GPU_IS_LOST on every n-th call
	calls               map[Field]int
	sets                []uint32 // SetPowerManagementLimit arguments
	refuseSets          bool     // NO_PERMISSION for limits other than the default
	panicAt             time.Duration
}

func newFakeGPU(c *fakeClock) *fakeGPU {
	return &fakeGPU{clock: c, idle: 69, ctxIdle: 130, full: 700, k: 1.6, limitMW: 700_000, defMW: 700_000, minMW: 200_000, maxMW: 700_000,
		unsupported: map[Field]bool{}, lostEvery: map[Field]int{}, calls: map[Field]int{}}
}

func (g *fakeGPU) util() float64 {
	if g.utilAt != nil {
		return g.utilAt(g.clock.now)
	}
	if g.held && g.on {
		return 1
	}
	return 0
}

func (g *fakeGPU) power() float64 {
	base := g.idle
	if g.held {
		base = g.ctxIdle
	}
	return min(base+(g.full-base)*math.Pow(g.util(), g.k), float64(g.limitMW)/1000)
}

// ret is the return code of a read of field f.
func (g *fakeGPU) ret(f Field) nvml.Return {
	g.calls[f]++
	if g.panicAt > 0 && g.clock.now >= g.panicAt {
		panic("fake GPU fell off the bus")
	}
	if g.unsupported[f] {
		return nvml.ERROR_NOT_SUPPORTED
	}
	if n := g.lostEvery[f]; n > 0 && g.calls[f]%n == 0 {
		return nvml.ERROR_GPU_IS_LOST
	}
	return nvml.SUCCESS
}

// instrument sets the power, clock and limit functions of a mock server
// device (the dgx* servers set only identity and MIG functions).
func instrument(d *server.Device, g *fakeGPU) {
	g.clock.onSleep = append(g.clock.onSleep, func(from, to time.Duration) {
		g.energyMJ += g.power() * (to - from).Seconds() * 1000
	})
	d.GetPowerManagementLimitFunc = func() (uint32, nvml.Return) { return g.limitMW, nvml.SUCCESS }
	d.GetPowerManagementDefaultLimitFunc = func() (uint32, nvml.Return) { return g.defMW, nvml.SUCCESS }
	d.GetPowerManagementLimitConstraintsFunc = func() (uint32, uint32, nvml.Return) { return g.minMW, g.maxMW, nvml.SUCCESS }
	d.SetPowerManagementLimitFunc = func(mw uint32) nvml.Return {
		if g.refuseSets && mw != g.limitMW {
			return nvml.ERROR_NO_PERMISSION
		}
		g.sets = append(g.sets, mw)
		g.limitMW = mw
		return nvml.SUCCESS
	}
	d.GetMaxClockInfoFunc = func(nvml.ClockType) (uint32, nvml.Return) { return 1980, nvml.SUCCESS }
	d.GetTotalEnergyConsumptionFunc = func() (uint64, nvml.Return) { return uint64(g.energyMJ), g.ret(FieldEnergy) }
	d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return uint32(math.Round(g.power() * 1000)), g.ret(FieldPower) }
	d.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
		u := uint32(math.Round(g.util() * 100))
		return nvml.Utilization{Gpu: u, Memory: u / 2}, g.ret(FieldUtil)
	}
	d.GetClockInfoFunc = func(ct nvml.ClockType) (uint32, nvml.Return) {
		if ct == nvml.CLOCK_MEM {
			return 2619, g.ret(FieldMemClock)
		}
		return 1980, g.ret(FieldSMClock)
	}
	d.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 45, g.ret(FieldTemp) }
}

// fakeLoad stands for the load command: started, it holds every GPU;
// SetRunning turns their load on and off. While running it reports a
// throughput that follows the power limit.
type fakeLoad struct {
	gpus     []*fakeGPU
	clock    *fakeClock
	v        float64
	seq      uint64
	switches int
	stopped  bool
	exitAt   time.Duration // > 0: the command exits then
}

func (l *fakeLoad) SetRunning(on bool) error {
	for _, g := range l.gpus {
		if g.on != on {
			l.switches++
		}
		g.on = on
	}
	return nil
}

func (l *fakeLoad) Throughput() (float64, uint64) { return l.v, l.seq }

func (l *fakeLoad) Exited() error {
	if l.exitAt > 0 && l.clock.now >= l.exitAt {
		return errors.New("the load command exited: exit status 3")
	}
	return nil
}

func (l *fakeLoad) Stop() error {
	l.stopped = true
	for _, g := range l.gpus {
		g.held, g.on = false, false
	}
	return nil
}

// rig is a mock DGX H100 with n fake GPUs on a fake clock.
type rig struct {
	srv   *server.Server
	gpus  []*fakeGPU
	clock *fakeClock
	load  *fakeLoad
	euid  int
}

func newRig(n int) *rig {
	r := &rig{srv: dgxh100.NewWithGPUs(gpus.Multiple(n, gpus.H100_SXM5_80GB)...), clock: &fakeClock{}}
	for _, d := range r.srv.Devices {
		g := newFakeGPU(r.clock)
		instrument(d.(*server.Device), g)
		r.gpus = append(r.gpus, g)
	}
	return r
}

func (r *rig) env() env {
	return env{
		clock: r.clock,
		startLoad: func(string, io.Writer) (Load, error) {
			r.load = &fakeLoad{gpus: r.gpus, clock: r.clock}
			r.clock.onSleep = append(r.clock.onSleep, func(_, _ time.Duration) {
				if l := r.load; !l.stopped && r.gpus[0].on {
					// 1000 units/s at 700 W, falling as (limit/700 W)^0.3.
					l.v = 1000 * math.Pow(float64(r.gpus[0].limitMW)/700_000, 0.3)
					l.seq++
				}
			})
			for _, g := range r.gpus {
				g.held, g.on = true, true
			}
			return r.load, nil
		},
		euid: func() int { return r.euid },
		now:  func() time.Time { return time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC) },
		host: func() (string, error) { return "dgx-test", nil },
	}
}

// The gate: after a failed Init nothing else is called, not even
// Shutdown; every unset mock function panics if called.
func TestInitFailureCallsNothingElse(t *testing.T) {
	for _, ret := range []nvml.Return{nvml.ERROR_LIBRARY_NOT_FOUND, nvml.ERROR_DRIVER_NOT_LOADED, nvml.ERROR_NO_PERMISSION} {
		lib := &mock.Interface{InitFunc: func() nvml.Return { return ret }}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("%v: NVML called after a failed Init: %v", ret, p)
				}
			}()
			res, err := Run(context.Background(), lib, Config{Passive: time.Second})
			if res != nil || !errors.Is(err, ErrNoDriver) {
				t.Fatalf("%v: Run = %v, %v; want a driver error", ret, res, err)
			}
			var de *DriverError
			if !errors.As(err, &de) || de.Code != int(ret) {
				t.Errorf("%v: error %T %v", ret, err, err)
			}
			if ret == nvml.ERROR_LIBRARY_NOT_FOUND && !strings.HasPrefix(err.Error(), "no NVIDIA driver found (NVML: ERROR_LIBRARY_NOT_FOUND): run neosim calibrate on a machine with NVIDIA GPUs") {
				t.Errorf("message %q", err)
			}
		}()
		if n := len(lib.InitCalls()); n != 1 {
			t.Errorf("%v: Init called %d times", ret, n)
		}
	}
}

// Passive sampling while the test drives utilization through 0, 10, …,
// 100%: the fit recovers the fake GPUs' curve.
func TestPassiveFitRecoversCurve(t *testing.T) {
	r := newRig(8)
	for i, g := range r.gpus {
		g.k = 1.6
		g.energyMJ = float64(i) * 1e9 // counters since different driver loads
		g.utilAt = func(t time.Duration) float64 { return float64(min(t/(10*time.Second), 10)) / 10 }
	}
	var progress bytes.Buffer
	path := filepath.Join(t.TempDir(), "samples.arrow")
	res, err := run(context.Background(), r.srv, Config{Passive: 110 * time.Second, SamplesPath: path, Progress: &progress}, r.env())
	if err != nil {
		t.Fatal(err)
	}
	if want := 8 * 1101; len(res.Samples) != want {
		t.Errorf("%d samples, want %d (8 GPUs × 1101 ticks)", len(res.Samples), want)
	}
	if res.Missed != 0 || res.Interrupted {
		t.Errorf("missed %d, interrupted %v", res.Missed, res.Interrupted)
	}
	if len(r.srv.ShutdownCalls()) != 1 {
		t.Errorf("Shutdown called %d times, want 1", len(r.srv.ShutdownCalls()))
	}
	if d := res.Info.Devices[3]; d.Model != "H100-SXM" || d.Architecture != "Hopper" || d.DefaultLimitW != 700 || d.UUID == "" || res.Info.Driver != "550.54.15" {
		t.Errorf("device info %+v, driver %q", d, res.Info.Driver)
	}
	if !strings.Contains(progress.String(), "calibrate: [1/1] passive sampling 1m50s/1m50s: 8 GPUs, 5600 W (700 W each), util 100%") {
		t.Errorf("progress:\n%s", progress.String())
	}
	check := func(p *Profile) {
		t.Helper()
		m := p.Models[0]
		if len(p.Models) != 1 || m.Name != "H100-SXM" || m.Devices != 8 || !p.Measured || p.Date != "2026-10-01T12:00:00Z" {
			t.Fatalf("profile %+v", p)
		}
		if math.Abs(m.IdleW-69) > 0.5 || math.Abs(m.FullW-700) > 1 || math.Abs(m.Exponent-1.6) > 0.01 || m.RMSEW > 0.5 || m.ContextIdleW != 0 {
			t.Errorf("fit %+v (RMSE %v), want idle 69, full 700, exponent 1.6", m.PowerProfile, m.RMSEW)
		}
	}
	p, err := Fit(res.Info, res.Samples, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check(p)
	// The samples file alone gives the same fit.
	info, ss, err := ReadSamples(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != len(res.Samples) {
		t.Fatalf("file holds %d samples, want %d", len(ss), len(res.Samples))
	}
	p2, err := Fit(info, ss, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check(p2)
}

// A load sweep: passive idle first (no load command yet), then duty
// cycles of the fake load; duty 0 holds the GPUs at context idle.
func TestLoadSweep(t *testing.T) {
	r := newRig(2)
	cfg := Config{Passive: 10 * time.Second, LoadCmd: "burn", Duties: []float64{0, 25, 50, 75, 100}, Period: 2 * time.Second, LevelTime: 10 * time.Second}
	res, err := run(context.Background(), r.srv, cfg, r.env())
	if err != nil {
		t.Fatal(err)
	}
	if r.load == nil || !r.load.stopped || r.load.switches == 0 {
		t.Fatalf("load %+v: want started, duty-cycled and stopped", r.load)
	}
	for _, s := range res.Samples {
		if s.Mode == ModeSample && s.PowerW != 69 {
			t.Fatalf("passive sample at %v draws %v W: the load ran before the passive step ended", s.T, s.PowerW)
		}
		if s.Mode == ModeLoad && s.Level == 0 && s.PowerW != 130 {
			t.Fatalf("duty 0 sample at %v draws %v W, want the context idle 130 W", s.T, s.PowerW)
		}
	}
	p, err := Fit(res.Info, res.Samples, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m := p.Models[0]
	// Long duty periods average to a line between context idle and full
	// (docs/calibration.md): the exponent is 1 whatever the GPU's curve.
	if math.Abs(m.IdleW-69) > 0.5 || math.Abs(m.ContextIdleW-130) > 2 || math.Abs(m.FullW-700) > 2 || math.Abs(m.Exponent-1) > 0.03 {
		t.Errorf("fit %+v, want idle 69, context idle 130, full 700, exponent 1", m.PowerProfile)
	}
}

// Readings that fail are nulls and counts; sampling goes on.
func TestUnsupportedReadings(t *testing.T) {
	r := newRig(2)
	g0, g1 := r.gpus[0], r.gpus[1]
	g0.unsupported[FieldEnergy] = true
	g0.unsupported[FieldTemp] = true
	g0.unsupported[FieldMemClock] = true
	g1.lostEvery[FieldUtil] = 3
	for _, g := range r.gpus {
		g.utilAt = func(t time.Duration) float64 { return float64(min(t/(10*time.Second), 5)) / 5 }
	}
	res, err := run(context.Background(), r.srv, Config{Passive: 60 * time.Second, Interval: time.Second}, r.env())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Samples) != 2*61 {
		t.Fatalf("%d samples, want %d: sampling must go on", len(res.Samples), 2*61)
	}
	var nullUtil int
	for _, s := range res.Samples {
		if s.Device == 0 && !(math.IsNaN(s.EnergyJ) && math.IsNaN(s.TempC) && math.IsNaN(s.MemMHz) && !math.IsNaN(s.PowerW)) {
			t.Fatalf("GPU 0 sample %+v: want energy, temperature and memory clock null, power set", s)
		}
		if s.Device == 1 && math.IsNaN(s.UtilGPU) {
			nullUtil++
			if !math.IsNaN(s.UtilMem) || math.IsNaN(s.PowerW) {
				t.Fatalf("GPU 1 sample %+v: a lost utilization read nulls both utilizations and nothing else", s)
			}
		}
	}
	c0, c1 := res.Counts[0], res.Counts[1]
	if c0[FieldTemp] != (FieldCount{Unsupported: 61}) || c0[FieldEnergy].Unsupported != 61 || c0[FieldPower].OK != 61 {
		t.Errorf("GPU 0 counts %+v", c0)
	}
	if c1[FieldUtil].Failed != 20 || c1[FieldUtil].OK != 41 || c1[FieldUtil].LastError != "ERROR_GPU_IS_LOST" || nullUtil != 20 {
		t.Errorf("GPU 1 utilization %+v, %d nulls; want 20 failed (every 3rd of 61)", c1[FieldUtil], nullUtil)
	}
	var b bytes.Buffer
	res.PrintCounts(&b)
	for _, want := range []string{
		"calibrate: energy readings missing (null in the samples): GPU 0: 61 of 61 not supported",
		"calibrate: utilization readings missing (null in the samples): GPU 1: 20 of 61 failed (ERROR_GPU_IS_LOST)",
		"calibrate: temperature readings missing",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("PrintCounts lacks %q:\n%s", want, b.String())
		}
	}
	// GPU 0's power comes from its power readings (no energy counter).
	p, err := Fit(res.Info, res.Samples, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m := p.Models[0]; math.Abs(m.IdleW-69) > 1 || math.Abs(m.FullW-700) > 2 || math.Abs(m.Exponent-1.6) > 0.02 {
		t.Errorf("fit %+v", m.PowerProfile)
	}
}

// A cap sweep measures throughput and energy per unit of work under each
// limit and sets the original limits back.
func TestCapSweep(t *testing.T) {
	r := newRig(2)
	for _, g := range r.gpus {
		g.limitMW = 650_000 // the operator's limit, below the default 700 W
	}
	cfg := Config{LoadCmd: "burn", Caps: []float64{100, 80, 60, 20}, LevelTime: 10 * time.Second}
	res, err := run(context.Background(), r.srv, cfg, r.env())
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range r.gpus {
		// 20% of 700 W is below the 200 W minimum: clamped.
		if want := []uint32{700_000, 560_000, 420_000, 200_000, 650_000}; fmt.Sprint(g.sets) != fmt.Sprint(want) {
			t.Errorf("GPU %d limits set %v, want %v", i, g.sets, want)
		}
	}
	if fmt.Sprint(res.Restored) != "[GPU 0: 650 W GPU 1: 650 W]" {
		t.Errorf("restored %q", res.Restored)
	}
	p, err := Fit(res.Info, res.Samples, FitOptions{})
	if err == nil || !strings.Contains(err.Error(), "H100-SXM: no passive or duty-cycle windows") {
		// Caps alone give no power curve: the fit says so.
		t.Fatalf("Fit of caps alone = %v, %v", p, err)
	}
	// With a duty sweep before it, the profile carries both.
	r = newRig(2)
	cfg.Duties = []float64{0, 50, 100}
	cfg.Period = 2 * time.Second
	res, err = run(context.Background(), r.srv, cfg, r.env())
	if err != nil {
		t.Fatal(err)
	}
	p, err = Fit(res.Info, res.Samples, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	caps := p.Models[0].Caps
	if len(caps) != 4 {
		t.Fatalf("caps %+v", caps)
	}
	for _, c := range caps {
		lim := max(c.CapPct/100, 200.0/700)
		thr := math.Pow(lim, 0.3)
		if math.Abs(c.ThroughputRel-thr) > 1e-3 || math.Abs(c.EnergyRel-lim/thr) > 2e-3 || math.Abs(c.PowerW-700*lim) > 0.5 {
			t.Errorf("cap %+v, want throughput %.4f energy %.4f power %.1f", c, thr, lim/thr, 700*lim)
		}
	}
}

// SIGINT in the middle of a cap sweep: the run stops, the limits are set
// back, the samples so far are kept.
func TestCapsRestoredOnInterrupt(t *testing.T) {
	r := newRig(2)
	for _, g := range r.gpus {
		g.limitMW = 650_000
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.clock.cancel, r.clock.cancelAt = cancel, 15*time.Second
	path := filepath.Join(t.TempDir(), "samples.arrow")
	cfg := Config{LoadCmd: "burn", Caps: []float64{100, 80, 60}, LevelTime: 10 * time.Second, SamplesPath: path}
	res, err := run(ctx, r.srv, cfg, r.env())
	if !errors.Is(err, context.Canceled) || !res.Interrupted || !strings.Contains(err.Error(), "interrupted during power cap 80%") {
		t.Fatalf("Run = %v (interrupted %v), want an interruption during the 80%% cap", err, res.Interrupted)
	}
	for i, g := range r.gpus {
		if g.limitMW != 650_000 || fmt.Sprint(g.sets) != "[700000 560000 650000]" {
			t.Errorf("GPU %d: limit %d mW after %v; want 650000 restored", i, g.limitMW, g.sets)
		}
	}
	if !r.load.stopped {
		t.Error("load command not stopped")
	}
	_, ss, err := ReadSamples(path)
	if err != nil {
		t.Fatal(err)
	}
	// 101 ticks at 100%, then 10.0–14.9 s at 80%, two GPUs.
	if len(ss) != 302 || len(res.Samples) != 302 || ss[len(ss)-1].T != 14900*time.Millisecond {
		t.Errorf("file holds %d samples up to %v; want 302 up to 14.9s", len(ss), ss[len(ss)-1].T)
	}
}

// A panic (a bug, a driver gone mad) still sets the limits back.
func TestCapsRestoredOnPanic(t *testing.T) {
	r := newRig(1)
	r.gpus[0].panicAt = 12 * time.Second
	func() {
		defer func() {
			if p := recover(); p == nil {
				t.Fatal("no panic")
			}
		}()
		run(context.Background(), r.srv, Config{LoadCmd: "burn", Caps: []float64{100, 70}, LevelTime: 10 * time.Second}, r.env())
	}()
	if g := r.gpus[0]; g.limitMW != 700_000 || fmt.Sprint(g.sets) != "[700000 490000 700000]" {
		t.Errorf("limit %d after %v, want 700000 restored", g.limitMW, g.sets)
	}
}

// A load command that exits early ends the run; limits are restored.
func TestLoadExitsEarly(t *testing.T) {
	r := newRig(1)
	e := r.env()
	start := e.startLoad
	e.startLoad = func(c string, w io.Writer) (Load, error) {
		l, err := start(c, w)
		l.(*fakeLoad).exitAt = 12 * time.Second
		return l, err
	}
	_, err := run(context.Background(), r.srv, Config{LoadCmd: "burn", Caps: []float64{100, 70}, LevelTime: 10 * time.Second}, e)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("Run = %v, want the load command's exit", err)
	}
	if g := r.gpus[0]; g.limitMW != 700_000 {
		t.Errorf("limit %d, want 700000 restored", g.limitMW)
	}
}

func TestCapsRefused(t *testing.T) {
	// Without root: refused before NVML is touched (an empty mock panics
	// on any call).
	r := newRig(1)
	r.euid = 1000
	_, err := run(context.Background(), &mock.Interface{}, Config{LoadCmd: "burn", Caps: []float64{90}}, r.env())
	if !errors.Is(err, ErrNeedRoot) {
		t.Errorf("non-root: %v, want ErrNeedRoot", err)
	}
	// Root, but the driver refuses the limit on one GPU: the run stops
	// with a hint, and the limit already set on the other is restored.
	r = newRig(2)
	r.gpus[1].refuseSets = true
	_, err = run(context.Background(), r.srv, Config{LoadCmd: "burn", Caps: []float64{90}, LevelTime: time.Second}, r.env())
	if err == nil || !strings.Contains(err.Error(), "GPU 1: setting its power limit to 630 W (NVML: ERROR_NO_PERMISSION): setting power limits needs root") {
		t.Errorf("refused set: %v", err)
	}
	if g := r.gpus[0]; g.limitMW != 700_000 || fmt.Sprint(g.sets) != "[630000 700000]" {
		t.Errorf("GPU 0 limit %d after %v, want 700000 restored", g.limitMW, g.sets)
	}
}

func TestOpenErrors(t *testing.T) {
	r := newRig(2)
	_, err := run(context.Background(), r.srv, Config{Passive: time.Second, Devices: []int{0, 5}}, r.env())
	if err == nil || !strings.Contains(err.Error(), "--devices: no GPU 5 (NVML sees 2: 0–1)") {
		t.Errorf("bad device: %v", err)
	}
	if n := len(r.srv.ShutdownCalls()); n != 1 {
		t.Errorf("Shutdown called %d times after a failed open, want 1", n)
	}
	empty := dgxh100.NewWithGPUs()
	if _, err := run(context.Background(), empty, Config{Passive: time.Second}, r.env()); err == nil || !strings.Contains(err.Error(), "NVML found no GPU (driver 550.54.15)") {
		t.Errorf("no GPUs: %v", err)
	}
	// Selected devices only.
	res, err := run(context.Background(), r.srv, Config{Passive: time.Second, Devices: []int{1}}, r.env())
	if err != nil || len(res.Info.Devices) != 1 || res.Info.Devices[0].Index != 1 || res.Samples[0].Device != 1 {
		t.Errorf("--devices 1: %v, %+v", err, res.Info.Devices)
	}
}
