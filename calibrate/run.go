//go:build cgo && linux

package calibrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// Measure runs cfg on this machine's GPUs through the system NVML library
// (libnvidia-ml.so.1, loaded by Init). Without a driver it returns a
// *DriverError (errors.Is(err, ErrNoDriver)).
func Measure(ctx context.Context, cfg Config) (*Result, error) {
	return Run(ctx, nvml.New(), cfg)
}

// Run runs cfg against lib: go-nvml's nvml.New() in production, a mock
// (github.com/NVIDIA/go-nvml/pkg/nvml/mock) in tests. It returns what it
// measured even with an error (an interrupted run keeps its samples).
func Run(ctx context.Context, lib nvml.Interface, cfg Config) (*Result, error) {
	return run(ctx, lib, cfg, env{
		clock:     newWallClock(),
		startLoad: startExecLoad,
		euid:      os.Geteuid,
		now:       time.Now,
		host:      os.Hostname,
	})
}

// env is what a run takes from the machine; tests replace each part.
type env struct {
	clock     Clock
	startLoad func(command string, out io.Writer) (Load, error)
	euid      func() int
	now       func() time.Time // the run's date (RunInfo.Start)
	host      func() (string, error)
}

// device is one measured GPU.
type device struct {
	info   DeviceInfo
	h      nvml.Device
	counts Counts
}

// openNVML initializes NVML and describes the devices. Nothing but Init is
// called when Init fails (go-nvml kills the process on any call after a
// failed Init); after a later failure it shuts NVML down.
func openNVML(lib nvml.Interface, want []int) (devs []*device, info RunInfo, err error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, info, &DriverError{Code: int(ret), Text: ret.Error()}
	}
	defer func() {
		if err != nil {
			lib.Shutdown()
		}
	}()
	if v, ret := lib.SystemGetDriverVersion(); ret == nvml.SUCCESS {
		info.Driver = v
	}
	if v, ret := lib.SystemGetNVMLVersion(); ret == nvml.SUCCESS {
		info.NVMLVersion = v
	}
	if v, ret := lib.SystemGetCudaDriverVersion(); ret == nvml.SUCCESS {
		info.CUDADriver = v
	}
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, info, fmt.Errorf("calibrate: counting GPUs (NVML: %s)", ret.Error())
	}
	if n == 0 {
		return nil, info, fmt.Errorf("calibrate: NVML found no GPU (driver %s); %s", info.Driver, builtinHint)
	}
	idx := want
	if len(idx) == 0 {
		for i := range n {
			idx = append(idx, i)
		}
	}
	for _, i := range idx {
		if i >= n {
			return nil, info, fmt.Errorf("calibrate: --devices: no GPU %d (NVML sees %d: 0–%d)", i, n, n-1)
		}
		h, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			return nil, info, fmt.Errorf("calibrate: GPU %d: getting its handle (NVML: %s)", i, ret.Error())
		}
		d := &device{info: describe(h, i), h: h}
		devs = append(devs, d)
		info.Devices = append(info.Devices, d.info)
	}
	return devs, info, nil
}

// describe reads what identifies a device and its limits; what NVML does
// not give stays zero.
func describe(h nvml.Device, i int) DeviceInfo {
	d := DeviceInfo{Index: i}
	if v, ret := h.GetName(); ret == nvml.SUCCESS {
		d.Name = v
	}
	d.Model = catalogModel(d.Name)
	if v, ret := h.GetUUID(); ret == nvml.SUCCESS {
		d.UUID = v
	}
	if v, ret := h.GetArchitecture(); ret == nvml.SUCCESS {
		d.Architecture = archName(v)
	}
	if ma, mi, ret := h.GetCudaComputeCapability(); ret == nvml.SUCCESS {
		d.Compute = fmt.Sprintf("%d.%d", ma, mi)
	}
	if v, ret := h.GetMemoryInfo(); ret == nvml.SUCCESS {
		d.MemoryBytes = v.Total
	}
	if v, ret := h.GetPowerManagementLimit(); ret == nvml.SUCCESS {
		d.PowerLimitW = mw(v)
	}
	if v, ret := h.GetPowerManagementDefaultLimit(); ret == nvml.SUCCESS {
		d.DefaultLimitW = mw(v)
	}
	if lo, hi, ret := h.GetPowerManagementLimitConstraints(); ret == nvml.SUCCESS {
		d.MinLimitW, d.MaxLimitW = mw(lo), mw(hi)
	}
	if v, ret := h.GetMaxClockInfo(nvml.CLOCK_SM); ret == nvml.SUCCESS {
		d.MaxSMMHz = v
	}
	if v, ret := h.GetMaxClockInfo(nvml.CLOCK_MEM); ret == nvml.SUCCESS {
		d.MaxMemMHz = v
	}
	return d
}

func archName(a nvml.DeviceArchitecture) string {
	switch a {
	case nvml.DEVICE_ARCH_VOLTA:
		return "Volta"
	case nvml.DEVICE_ARCH_TURING:
		return "Turing"
	case nvml.DEVICE_ARCH_AMPERE:
		return "Ampere"
	case nvml.DEVICE_ARCH_ADA:
		return "Ada"
	case nvml.DEVICE_ARCH_HOPPER:
		return "Hopper"
	case nvml.DEVICE_ARCH_BLACKWELL:
		return "Blackwell"
	}
	return fmt.Sprintf("arch-%d", uint32(a))
}

// got books one reading: its value if ret is SUCCESS, else a null and a
// count.
func (d *device) got(f Field, v float64, ret nvml.Return) float64 {
	c := &d.counts[f]
	switch ret {
	case nvml.SUCCESS:
		c.OK++
		return v
	case nvml.ERROR_NOT_SUPPORTED:
		c.Unsupported++
	default:
		c.Failed++
		c.LastError = ret.Error()
	}
	return nan
}

// read fills s with one reading of every field.
func (d *device) read(s *Sample) {
	e, ret := d.h.GetTotalEnergyConsumption()
	s.EnergyJ = d.got(FieldEnergy, float64(e)/1000, ret)
	p, ret := d.h.GetPowerUsage()
	s.PowerW = d.got(FieldPower, mw(p), ret)
	u, ret := d.h.GetUtilizationRates()
	s.UtilGPU = d.got(FieldUtil, float64(u.Gpu), ret)
	s.UtilMem = nan
	if ret == nvml.SUCCESS {
		s.UtilMem = float64(u.Memory)
	}
	sm, ret := d.h.GetClockInfo(nvml.CLOCK_SM)
	s.SMMHz = d.got(FieldSMClock, float64(sm), ret)
	mem, ret := d.h.GetClockInfo(nvml.CLOCK_MEM)
	s.MemMHz = d.got(FieldMemClock, float64(mem), ret)
	// GetTemperature is deprecated for GetTemperatureV, which older
	// drivers lack and whose handler the mock package cannot fake.
	t, ret := d.h.GetTemperature(nvml.TEMPERATURE_GPU)
	s.TempC = d.got(FieldTemp, float64(t), ret)
}

// capper sets power limits for a cap sweep and sets the original ones
// back.
type capper struct {
	devs      []*device
	orig, def []uint32 // mW
	lo, hi    []uint32
	touched   []bool
}

func newCapper(devs []*device) (*capper, error) {
	c := &capper{devs: devs}
	for _, d := range devs {
		lim, ret := d.h.GetPowerManagementLimit()
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("calibrate: GPU %d: reading its power limit (NVML: %s): --power-caps needs a GPU with settable power limits", d.info.Index, ret.Error())
		}
		def, ret := d.h.GetPowerManagementDefaultLimit()
		if ret != nvml.SUCCESS {
			def = lim
		}
		lo, hi, ret := d.h.GetPowerManagementLimitConstraints()
		if ret != nvml.SUCCESS {
			lo, hi = 0, math.MaxUint32
		}
		c.orig, c.def, c.lo, c.hi = append(c.orig, lim), append(c.def, def), append(c.lo, lo), append(c.hi, hi)
	}
	c.touched = make([]bool, len(devs))
	return c, nil
}

// set limits every device to pct% of its default limit, clamped to its
// constraints, and returns what it set.
func (c *capper) set(pct float64) (string, error) {
	var parts []string
	for i, d := range c.devs {
		want := uint32(math.Round(float64(c.def[i]) * pct / 100))
		want = min(max(want, c.lo[i]), c.hi[i])
		c.touched[i] = true // restore even if the set fails half-way
		if ret := d.h.SetPowerManagementLimit(want); ret != nvml.SUCCESS {
			hint := ""
			if ret == nvml.ERROR_NO_PERMISSION {
				hint = ": setting power limits needs root"
			}
			return "", fmt.Errorf("calibrate: GPU %d: setting its power limit to %.0f W (NVML: %s)%s", d.info.Index, mw(want), ret.Error(), hint)
		}
		parts = append(parts, fmt.Sprintf("GPU %d %.0f W", d.info.Index, mw(want)))
	}
	return strings.Join(parts, ", "), nil
}

// restore sets back every limit set touched; it returns what it restored
// and, for each device it could not restore, how to do it by hand.
func (c *capper) restore() ([]string, error) {
	var done []string
	var errs []error
	for i, d := range c.devs {
		if !c.touched[i] {
			continue
		}
		if ret := d.h.SetPowerManagementLimit(c.orig[i]); ret != nvml.SUCCESS {
			errs = append(errs, fmt.Errorf("calibrate: GPU %d: restoring its power limit of %.0f W failed (NVML: %s): restore it by hand: nvidia-smi -i %d -pl %.0f",
				d.info.Index, mw(c.orig[i]), ret.Error(), d.info.Index, mw(c.orig[i])))
			continue
		}
		c.touched[i] = false
		done = append(done, fmt.Sprintf("GPU %d: %.0f W", d.info.Index, mw(c.orig[i])))
	}
	return done, errors.Join(errs...)
}

// runner is one run in progress.
type runner struct {
	cfg   *Config
	env   env
	devs  []*device
	res   *Result
	w     *SampleWriter
	load  Load
	t0    time.Duration // clock at the run's start
	steps int
	// lastProgress is when the last progress line was printed (-1: none).
	lastProgress time.Duration
}

func run(ctx context.Context, lib nvml.Interface, cfg Config, e env) (res *Result, err error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Caps) > 0 && e.euid() != 0 {
		return nil, ErrNeedRoot // before Init: refuse before touching anything
	}
	devs, info, err := openNVML(lib, cfg.Devices)
	if err != nil {
		return nil, err
	}
	defer lib.Shutdown()

	info.Start = e.now().UTC().Format(time.RFC3339)
	if h, err := e.host(); err == nil {
		info.Host = h
	}
	info.Interval, info.Period, info.LevelTime = cfg.Interval.String(), cfg.Period.String(), cfg.LevelTime.String()
	info.LoadCmd = cfg.LoadCmd
	res = &Result{Info: info}
	r := &runner{cfg: &cfg, env: e, devs: devs, res: res, t0: e.clock.Now(), lastProgress: -1}
	defer func() {
		res.Counts = make([]Counts, len(devs))
		for i, d := range devs {
			res.Counts[i] = d.counts
		}
	}()
	for _, d := range devs {
		r.printf("GPU %d: %s (%s) %s, %s, power limit %.0f W (default %.0f W, settable %.0f–%.0f W)",
			d.info.Index, d.info.Name, orDash(d.info.Model), d.info.UUID, orDash(d.info.Architecture),
			d.info.PowerLimitW, d.info.DefaultLimitW, d.info.MinLimitW, d.info.MaxLimitW)
	}
	plan := cfg.plan()
	desc, total := describePlan(&cfg)
	r.printf("driver %s; plan: %s; about %v", orDash(info.Driver), desc, total.Round(time.Second))

	if cfg.SamplesPath != "" {
		if r.w, err = NewSampleWriter(cfg.SamplesPath, info); err != nil {
			return res, err
		}
		defer func() {
			if cerr := r.w.Close(); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}()
	}
	var caps *capper
	if len(cfg.Caps) > 0 {
		if caps, err = newCapper(devs); err != nil {
			return res, err
		}
		// Deferred, so it runs on every way out, panics included; the
		// load is stopped first (deferred later, run earlier).
		defer func() {
			done, rerr := caps.restore()
			res.Restored = append(res.Restored, done...)
			if len(done) > 0 {
				r.printf("power limits restored: %s", strings.Join(done, ", "))
			}
			err = errors.Join(err, rerr)
		}()
	}
	defer func() {
		if r.load != nil {
			if serr := r.load.Stop(); serr != nil {
				err = errors.Join(err, serr)
			}
		}
	}()

	for i, st := range plan {
		if st.mode != ModeSample && r.load == nil {
			// Started at the first load step, so that passive sampling
			// sees GPUs without the load command's context.
			if r.load, err = e.startLoad(cfg.LoadCmd, cfg.LoadOutput); err != nil {
				return res, err
			}
		}
		if st.mode == ModeCaps {
			set, err := caps.set(st.level)
			if err != nil {
				return res, err
			}
			r.printf("[%d/%d] power cap %g%%: %s", i+1, len(plan), st.level, set)
		}
		if err := r.step(ctx, i, len(plan), st); err != nil {
			if ctx.Err() != nil {
				res.Interrupted = true
				return res, fmt.Errorf("calibrate: interrupted during %s after %d samples (%w)", st, len(res.Samples), ctx.Err())
			}
			return res, err
		}
	}
	return res, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (r *runner) printf(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, "calibrate: "+format+"\n", args...)
	}
}

// step runs one step: samples at its start and every interval to its end
// (both included, so that the energy over the step is exact), and for a
// load step switches the load on and off on the duty cycle between.
func (r *runner) step(ctx context.Context, idx, of int, st step) error {
	c := r.cfg
	clk := r.env.clock
	start := clk.Now()
	n := int64(st.dur / c.Interval)
	var seq0 uint64
	if r.load != nil {
		_, seq0 = r.load.Throughput()
	}
	for i := int64(0); i <= n; {
		if err := ctx.Err(); err != nil {
			return err // also when reads are so slow that it never sleeps
		}
		now := clk.Now()
		tick := start + time.Duration(i)*c.Interval
		wake := tick
		if r.load != nil && st.duty() >= 0 {
			if err := r.load.Exited(); err != nil {
				return err
			}
			on, next := dutyPhase(st.duty(), c.Period, now-start)
			if err := r.load.SetRunning(on); err != nil {
				return err
			}
			if next >= 0 {
				wake = min(wake, start+next)
			}
		}
		if now >= tick {
			if err := r.sample(now, st, seq0); err != nil {
				return err
			}
			r.progress(now, start, idx, of, st)
			i++
			// Ticks that passed while reading are skipped, not caught up
			// (samples stay about an interval apart): the next sample is
			// the latest tick due, at once.
			if j := min(int64((clk.Now()-start)/c.Interval), n); j > i {
				r.res.Missed += j - i
				i = j
			}
			continue
		}
		if err := clk.Sleep(ctx, wake-now); err != nil {
			return err
		}
	}
	return nil
}

// sample reads every device once.
func (r *runner) sample(now time.Duration, st step, seq0 uint64) error {
	thr := nan
	if r.load != nil {
		if v, seq := r.load.Throughput(); seq > seq0 {
			thr = v
		}
	}
	for _, d := range r.devs {
		s := Sample{T: now - r.t0, Device: d.info.Index, UUID: d.info.UUID, Mode: st.mode, Level: st.level, Throughput: thr}
		d.read(&s)
		r.res.Samples = append(r.res.Samples, s)
		if r.w != nil {
			if err := r.w.Write(&s); err != nil {
				return err
			}
		}
	}
	return nil
}

// progress prints one line every ProgressEvery: the step, its time, and
// the devices' last readings summed or averaged.
func (r *runner) progress(now, start time.Duration, idx, of int, st step) {
	if r.cfg.Progress == nil || r.cfg.ProgressEvery <= 0 {
		return
	}
	if r.lastProgress >= 0 && now-r.lastProgress < r.cfg.ProgressEvery {
		return
	}
	r.lastProgress = now
	last := r.res.Samples[len(r.res.Samples)-len(r.devs):]
	var pw, util, sm float64
	var np, nu, ns int
	temp := math.Inf(-1)
	for _, s := range last {
		if !math.IsNaN(s.PowerW) {
			pw += s.PowerW
			np++
		}
		if !math.IsNaN(s.UtilGPU) {
			util += s.UtilGPU
			nu++
		}
		if !math.IsNaN(s.SMMHz) {
			sm += s.SMMHz
			ns++
		}
		if !math.IsNaN(s.TempC) {
			temp = max(temp, s.TempC)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%d/%d] %s %v/%v: %d GPUs", idx+1, of, st, (now - start).Round(time.Second), st.dur, len(r.devs))
	if np > 0 {
		fmt.Fprintf(&b, ", %.0f W (%.0f W each)", pw, pw/float64(np))
	}
	if nu > 0 {
		fmt.Fprintf(&b, ", util %.0f%%", util/float64(nu))
	}
	if ns > 0 {
		fmt.Fprintf(&b, ", SM %.0f MHz", sm/float64(ns))
	}
	if !math.IsInf(temp, -1) {
		fmt.Fprintf(&b, ", max %.0f °C", temp)
	}
	if t := last[0].Throughput; !math.IsNaN(t) {
		fmt.Fprintf(&b, ", throughput %g", t)
	}
	r.printf("%s", b.String())
}
