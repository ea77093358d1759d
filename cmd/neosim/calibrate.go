package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"neosim/calibrate"
)

const calibrateHelp = `Usage:
  neosim calibrate --sample DURATION [flags]                  passive: sample what runs now
  neosim calibrate --load-cmd CMD [--duty LIST] [flags]       your load generator under duty cycles
  neosim calibrate --load-cmd CMD --power-caps LIST [flags]   the same under power caps (root)
  neosim calibrate --fit SAMPLES.arrow [-o PROFILE.json]      refit a profile from saved samples
  neosim calibrate --builtin [-o PROFILE.json]                the built-in (published, unmeasured) profiles

Measures this machine's NVIDIA GPUs through NVML and fits the power profile
the simulator's cost model uses (docs/calibration.md). Every --interval it
reads each GPU's energy counter (mJ), power (mW), GPU and memory
utilization, SM and memory clocks and temperature; a reading the GPU does
not support is stored as null and sampling goes on. Raw samples go to an
Arrow file, the fitted profile to JSON: per GPU model the idle power, the
power at full load and the exponent k of P(u) = idle + (full − idle)·u^k,
with its RMSE and R², and throughput and energy per unit of work versus
power cap.

Steps run in this order: --sample (before the load command starts, so the
idle readings are of free GPUs), then each --duty level, then each
--power-caps level, each for --level-time.

The load command (--load-cmd) runs as 'sh -c CMD' in its own process group
for the whole sweep; it should keep the selected GPUs busy until stopped.
A duty of D% runs it for D% of each --period and pauses it (SIGSTOP, then
SIGCONT) for the rest; 0% keeps it paused (idle with its CUDA context held).
Under --power-caps it runs at 100% duty while every selected GPU's power
limit is set to the percentage of its default limit. Throughput contract:
the command prints lines holding 'throughput=<float>' on stdout (the rate
over its last reporting interval, in any unit, at least once per level);
the last such line of each level is that level's throughput. Its output
goes to load.log beside the samples.

Power caps need root. The original limits are read first and set back when
the sweep ends, fails, or is interrupted (Ctrl-C, SIGTERM); if neosim is
killed outright, restore them with 'nvidia-smi -i N -pl WATTS' (the limits
are printed at the start).

Without an NVIDIA driver it exits with an error and measures nothing; the
built-in profiles (--builtin) come from published readings
(../shared/calibration/SOURCES.md §4) and are not measurements.

Examples:
  neosim calibrate --sample 2m
  neosim calibrate --sample 1m --load-cmd 'python gemm.py --seconds 100000'
  neosim calibrate --load-cmd ./burn.sh --duty 0,10,25,50,75,100 --period 1s --level-time 20s
  sudo neosim calibrate --load-cmd ./train_step.sh --power-caps 100,90,80,70,60,50
  neosim calibrate --fit results/calibration/host-20260101T120000Z/samples.arrow -o h100.json
  neosim calibrate --builtin -o builtin.json

Flags:
`

func cmdCalibrate(args []string, stdout, stderr io.Writer) error {
	err := calibrateCmd(args, stdout, stderr)
	if err != nil && strings.HasPrefix(err.Error(), "calibrate: ") {
		// Main prefixes "neosim calibrate: " already.
		err = trimmedError{strings.TrimPrefix(err.Error(), "calibrate: "), err}
	}
	return err
}

// trimmedError shows msg and unwraps to err.
type trimmedError struct {
	msg string
	err error
}

func (e trimmedError) Error() string { return e.msg }
func (e trimmedError) Unwrap() error { return e.err }

func calibrateCmd(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("calibrate", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, calibrateHelp+fs.FlagUsages()) }
	d := calibrate.DefaultConfig()
	var (
		passive   = fs.Duration("sample", 0, "passive sampling for `DURATION` (e.g. 2m) before any load")
		loadCmd   = fs.String("load-cmd", "", "load generator, run as sh -c `CMD` (see the contract above)")
		duty      = fs.String("duty", "", "duty-cycle levels in percent (default 0,25,50,75,100 with --load-cmd and no --power-caps)")
		period    = fs.Duration("period", d.Period, "duty-cycle period")
		levelTime = fs.Duration("level-time", d.LevelTime, "time at each duty or cap level")
		caps      = fs.String("power-caps", "", "power limits in percent of the default limit, e.g. 100,90,80,70 (needs root)")
		interval  = fs.Duration("interval", d.Interval, "sampling interval")
		devices   = fs.String("devices", "", "GPU indices to measure, e.g. 0,1 (default all)")
		outDir    = fs.String("out-dir", "", "directory of the samples, profile and load log (default results/calibration/<host>-<UTC time>)")
		samples   = fs.String("samples", "", "samples file (default <out-dir>/samples.arrow)")
		output    = fs.StringP("output", "o", "", "profile JSON (measuring: default <out-dir>/profile.json; --fit, --builtin: default stdout)")
		fit       = fs.String("fit", "", "fit a profile from a samples `FILE` instead of measuring")
		window    = fs.Duration("fit-window", 0, "fit window (default: the run's --period for load runs, else 10s)")
		builtin   = fs.Bool("builtin", false, "print or write (-o) the built-in profiles, which are not measurements")
		quiet     = fs.Bool("quiet", false, "no progress lines")
	)
	if ok, err := parseFlags(fs, "calibrate", args, stderr); !ok {
		return err
	}
	if err := noArgs(fs, "calibrate", stderr); err != nil {
		return err
	}
	measuring := []string{"sample", "load-cmd", "duty", "period", "level-time", "power-caps", "interval", "devices", "out-dir", "samples"}
	changed := func(names ...string) string {
		for _, n := range names {
			if fs.Changed(n) {
				return "--" + n
			}
		}
		return ""
	}
	switch {
	case *builtin:
		if f := changed(append(measuring, "fit", "fit-window")...); f != "" {
			return fmt.Errorf("--builtin takes only -o, not %s", f)
		}
		return writeProfile(calibrate.Builtin(), *output, stdout)
	case *fit != "":
		if f := changed(measuring...); f != "" {
			return fmt.Errorf("--fit refits saved samples: %s does not apply", f)
		}
		return calibrateFit(*fit, *window, *output, stdout, stderr)
	}
	cfg := calibrate.DefaultConfig()
	cfg.Passive, cfg.LoadCmd, cfg.Period, cfg.LevelTime, cfg.Interval = *passive, *loadCmd, *period, *levelTime, *interval
	if err := cfg.SetLevels(*duty, *caps, *devices); err != nil {
		return err
	}
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	dir := *outDir
	if dir == "" {
		host, _ := os.Hostname()
		dir = calibrate.DefaultOutDir(host, time.Now())
	}
	cfg.SamplesPath = *samples
	if cfg.SamplesPath == "" {
		cfg.SamplesPath = filepath.Join(dir, "samples.arrow")
	}
	profilePath := *output
	if profilePath == "" {
		profilePath = filepath.Join(dir, "profile.json")
	}
	if !*quiet {
		cfg.Progress = stderr
	}
	logf := &lazyFile{path: filepath.Join(dir, "load.log")}
	defer logf.Close()
	cfg.LoadOutput = logf
	return calibrateMeasure(cfg, *window, profilePath, stdout, stderr)
}

// calibrateFit refits the samples file at path and writes the profile to
// output (stdout if "", the table then going to stderr).
func calibrateFit(path string, window time.Duration, output string, stdout, stderr io.Writer) error {
	info, ss, err := calibrate.ReadSamples(path)
	if err != nil {
		return err
	}
	p, err := calibrate.Fit(info, ss, calibrate.FitOptions{Window: window,
		Source: fmt.Sprintf("neosim calibrate on %s, refitted from %s", calibrate.OrHost(info.Host), filepath.Base(path))})
	if err != nil {
		return err
	}
	summary := stdout
	if output == "" {
		summary = stderr // stdout carries the JSON
	}
	calibrate.PrintProfile(summary, p)
	return writeProfile(p, output, stdout)
}

// calibrateMeasure measures with cfg, fits the samples and writes the
// profile to profilePath. Ctrl-C and SIGTERM cancel the run, which stops
// the load command and sets the power limits back; a second signal while
// that happens is ignored until stop().
func calibrateMeasure(cfg calibrate.Config, window time.Duration, profilePath string, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := calibrate.Measure(ctx, cfg)
	if res != nil {
		res.PrintCounts(stderr)
		if res.Missed > 0 {
			fmt.Fprintf(stderr, "calibrate: %d sampling ticks missed (reads slower than --interval %v)\n", res.Missed, cfg.Interval)
		}
	}
	if err != nil {
		if res != nil && len(res.Samples) > 0 {
			fmt.Fprintf(stderr, "calibrate: %d samples kept in %s; fit what they hold with: neosim calibrate --fit %s\n", len(res.Samples), cfg.SamplesPath, cfg.SamplesPath)
		}
		return err
	}
	p, err := calibrate.Fit(res.Info, res.Samples, calibrate.FitOptions{
		Window: window,
		Source: fmt.Sprintf("neosim calibrate on %s, samples %s", calibrate.OrHost(res.Info.Host), cfg.SamplesPath),
	})
	if err != nil {
		return fmt.Errorf("%w (samples kept in %s)", err, cfg.SamplesPath)
	}
	calibrate.PrintProfile(stdout, p)
	if err := p.WriteFile(profilePath); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "samples %s\nprofile %s\n", cfg.SamplesPath, profilePath)
	return nil
}

// writeProfile writes p to path, or as JSON to stdout when path is "".
func writeProfile(p *calibrate.Profile, path string, stdout io.Writer) error {
	if path == "" {
		return p.Encode(stdout)
	}
	return p.WriteFile(path)
}

// lazyFile creates its file on the first write, so that a run that fails
// before the load starts leaves no empty log. Writes are serialized: the
// load command's stdout and stderr arrive from two goroutines.
type lazyFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
	err  error
}

func (l *lazyFile) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil && l.err == nil {
		if l.err = os.MkdirAll(filepath.Dir(l.path), 0o755); l.err == nil {
			l.f, l.err = os.Create(l.path)
		}
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.f.Write(b)
}

func (l *lazyFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}
