package calibrate

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Modes of a step, as the samples' mode column spells them.
const (
	ModeSample = "sample" // passive: whatever runs on the GPUs
	ModeLoad   = "load"   // the load command at a duty cycle (level = duty %)
	ModeCaps   = "caps"   // the load command at 100% duty under a power cap (level = cap %)
)

// Config is one calibration run. Start from DefaultConfig, set what the
// run needs, then EnsureDefaults and Validate (Run does both).
type Config struct {
	// Interval is the sampling period.
	Interval time.Duration
	// Passive is the time of the passive step (--sample); 0: none. It runs
	// first, before the load command starts, so its idle readings are of
	// GPUs without a process.
	Passive time.Duration
	// LoadCmd is the operator's load generator, run as `sh -c LoadCmd` in
	// its own process group for the load and caps steps. It should keep
	// every selected GPU busy and may print `throughput=<float>` lines on
	// stdout (docs/calibration.md: the load-command contract).
	LoadCmd string
	// Duties are the duty cycles of the load steps, percent (0–100).
	Duties []float64
	// Period is the duty-cycle period: the load runs for duty% of each
	// period and is stopped (SIGSTOP) for the rest.
	Period time.Duration
	// LevelTime is the time spent at each duty or cap level.
	LevelTime time.Duration
	// Caps are the power limits of the caps steps, percent of each
	// device's default limit; they need root.
	Caps []float64
	// Devices are the NVML indices to measure and cap; nil: all.
	Devices []int
	// SamplesPath is where raw samples are written (Arrow IPC, zstd);
	// "": not written.
	SamplesPath string
	// Progress receives one line per ProgressEvery (nil: none).
	Progress      io.Writer
	ProgressEvery time.Duration
	// LoadOutput receives the load command's stdout and stderr (nil: both
	// discarded; stdout is parsed for throughput either way).
	LoadOutput io.Writer
}

// DefaultConfig returns the defaults: 100 ms sampling, a 10 s duty period,
// 30 s per level (three periods), progress every 2 s.
func DefaultConfig() Config {
	return Config{
		// 100 ms: NVML refreshes utilization every 1/6–1 s and (Ampere
		// and newer) averages power over 1 s (SOURCES.md §4), so faster
		// reads repeat values; the energy counter is exact at any rate.
		Interval:      100 * time.Millisecond,
		Period:        10 * time.Second,
		LevelTime:     30 * time.Second,
		ProgressEvery: 2 * time.Second,
	}
}

// EnsureDefaults fills zero durations with DefaultConfig's, and the duty
// levels with 0,25,50,75,100 when a load command is given without duties
// or caps.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.Interval == 0 {
		c.Interval = d.Interval
	}
	if c.Period == 0 {
		c.Period = d.Period
	}
	if c.LevelTime == 0 {
		c.LevelTime = d.LevelTime
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = d.ProgressEvery
	}
	if c.LoadCmd != "" && len(c.Duties) == 0 && len(c.Caps) == 0 {
		c.Duties = []float64{0, 25, 50, 75, 100}
	}
}

// Validate returns the first problem with c, naming the flag.
func (c *Config) Validate() error {
	switch {
	case c.Interval <= 0:
		return fmt.Errorf("--interval: must be > 0, got %v", c.Interval)
	case c.Interval < 10*time.Millisecond:
		// NVML reads take about a millisecond each; below 10 ms the
		// sampler would only measure itself.
		return fmt.Errorf("--interval: must be ≥ 10ms, got %v", c.Interval)
	case c.Passive < 0:
		return fmt.Errorf("--sample: must be ≥ 0, got %v", c.Passive)
	case c.Passive > 0 && c.Passive < c.Interval:
		return fmt.Errorf("--sample: %v is shorter than one --interval (%v)", c.Passive, c.Interval)
	case c.Period <= 0:
		return fmt.Errorf("--period: must be > 0, got %v", c.Period)
	case c.LevelTime < c.Interval:
		return fmt.Errorf("--level-time: %v is shorter than one --interval (%v)", c.LevelTime, c.Interval)
	case c.ProgressEvery < 0:
		return errors.New("progress interval must be ≥ 0")
	}
	if (len(c.Duties) > 0 || len(c.Caps) > 0) && strings.TrimSpace(c.LoadCmd) == "" {
		return errors.New("--duty and --power-caps run the load command: give --load-cmd")
	}
	if c.Passive == 0 && len(c.Duties) == 0 && len(c.Caps) == 0 {
		return errors.New("nothing to measure: give --sample DURATION, or --load-cmd CMD with --duty and/or --power-caps")
	}
	if err := checkLevels("--duty", c.Duties, 0, 100); err != nil {
		return err
	}
	// Power caps from 10% (below any board's minimum limit, which the
	// sweep clamps to anyway) to 100% of the default limit.
	if err := checkLevels("--power-caps", c.Caps, 10, 100); err != nil {
		return err
	}
	seen := map[int]bool{}
	for _, d := range c.Devices {
		if d < 0 {
			return fmt.Errorf("--devices: index %d < 0", d)
		}
		if seen[d] {
			return fmt.Errorf("--devices: index %d given twice", d)
		}
		seen[d] = true
	}
	return nil
}

func checkLevels(flag string, ls []float64, lo, hi float64) error {
	seen := map[float64]bool{}
	for _, l := range ls {
		if math.IsNaN(l) || l < lo || l > hi {
			return fmt.Errorf("%s: %v is outside %v–%v", flag, l, lo, hi)
		}
		if seen[l] {
			return fmt.Errorf("%s: %v given twice", flag, l)
		}
		seen[l] = true
	}
	return nil
}

// step is one part of the plan: a mode at a level for a duration.
type step struct {
	mode  string
	level float64 // duty % or cap %; NaN for passive sampling
	dur   time.Duration
}

// duty returns the step's duty cycle in percent (passive: none, -1).
func (s step) duty() float64 {
	switch s.mode {
	case ModeLoad:
		return s.level
	case ModeCaps:
		return 100
	}
	return -1
}

func (s step) String() string {
	switch s.mode {
	case ModeLoad:
		return fmt.Sprintf("load duty %g%%", s.level)
	case ModeCaps:
		return fmt.Sprintf("power cap %g%%", s.level)
	}
	return "passive sampling"
}

// plan returns the steps in order: passive, duties, caps.
func (c *Config) plan() []step {
	var ps []step
	if c.Passive > 0 {
		ps = append(ps, step{ModeSample, math.NaN(), c.Passive})
	}
	for _, d := range c.Duties {
		ps = append(ps, step{ModeLoad, d, c.LevelTime})
	}
	for _, p := range c.Caps {
		ps = append(ps, step{ModeCaps, p, c.LevelTime})
	}
	return ps
}

// ParseLevels reads a comma-separated list of numbers ("0,25,50" or
// "100, 90,80"); a trailing % on each is allowed.
func ParseLevels(s string) ([]float64, error) {
	var ls []float64
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSuffix(strings.TrimSpace(f), "%")
		if f == "" {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		ls = append(ls, v)
	}
	if len(ls) == 0 {
		return nil, errors.New("empty list")
	}
	return ls, nil
}

// ParseDevices reads a comma-separated list of device indices.
func ParseDevices(s string) ([]int, error) {
	var ds []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a device index", f)
		}
		ds = append(ds, v)
	}
	if len(ds) == 0 {
		return nil, errors.New("empty list")
	}
	return ds, nil
}
