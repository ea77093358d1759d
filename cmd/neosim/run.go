package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"neosim/policies"
	"neosim/results/plots"
	"neosim/runner"
	"neosim/scenario"
	"neosim/sim"
	"neosim/traces"
)

const runHelp = `Usage: neosim run [flags]

Simulates one scenario and writes jobs.arrow, timeseries.arrow, summary.arrow
and run.json to --out (default results/runs/<scenario>-<seed>/); with
--format parquet, jobs.parquet, timeseries.parquet and summary.parquet. Flags
override the scenario; without --scenario the embedded default runs (about
10,000 H100 and B200 GPUs for 30 days).

Examples:
  neosim run
  neosim run --seed 7 --horizon 7d --out /tmp/week
  neosim run --fleet 1000x8xH100,250x8xB200 --trace jobs.csv --external=false
  neosim run --scenario my.yaml --allocator fifo --pricer flat
  neosim run --format parquet --out /tmp/lake/run=1
  neosim run --plots                # also utilization, spot price and wait CDF plots (PNG, SVG)
  neosim run --trace philly_jobs_pollux.csv --fleet cluster_machine_list.csv --horizon 0

Flags:
`

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, runHelp+fs.FlagUsages()) }
	var (
		scenarioPath   = fs.String("scenario", "", "scenario YAML file (default: the embedded default scenario)")
		tracePath      = fs.String("trace", "", "job trace (.csv, .arrow, .parquet; canonical, philly or openb); replaces the scenario's internal workloads")
		traceFormat    = fs.String("trace-format", "auto", "trace format: auto (detect from the header), "+strings.Join(traceFormats(), ", "))
		fleetSpec      = fs.String("fleet", "", "fleet: NODESxGPUSxTYPE groups joined by commas (e.g. 1000x8xH100,250x8xB200), or a node-list CSV file")
		fleetFormat    = fs.String("fleet-format", "auto", "node-list format of a --fleet file: auto (detect), "+strings.Join(fleetFormats(), ", "))
		external       = fs.Bool("external", true, "synthetic external demand; --external=false turns it off")
		allocator      = fs.String("allocator", "", "allocation policy (see `neosim policies`)")
		pricer         = fs.String("pricer", "", "pricing policy (see `neosim policies`)")
		seed           = fs.Uint64("seed", 0, "random seed (same seed, same output bytes)")
		horizon        = fs.String("horizon", "", "simulated time to stop at, e.g. 30d, 12h (\"0\": until every job has ended)")
		out            = fs.String("out", "", "output directory (default results/runs/<scenario>-<seed>)")
		format         = formatFlag(fs)
		sample         = fs.String("sample-interval", "", "timeseries sampling interval in simulated time (default 5m)")
		check          = fs.Bool("check-invariants", false, "check the engine's invariants after every event (slow; for debugging)")
		quiet          = fs.Bool("quiet", false, "no progress and no summary table")
		counterfactual = fs.Bool("counterfactual", true, "also simulate the same scenario and seed without external demand, to measure the internal delay selling causes and its net value (--counterfactual=false: skip it; those columns are then null)")
		drawPlots      = fs.Bool("plots", false, "also draw the run's plots next to its files (docs/plots.md; neosim plot DIR draws them later)")
		cpuProfile     = fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		fmt.Fprintf(stderr, "neosim run: %v (neosim run --help lists the flags)\n", err)
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "neosim run: unexpected argument %q (flags start with --)\n", fs.Arg(0))
		return errUsage
	}

	outFormat, err := parseFormat("run", *format, stderr)
	if err != nil {
		return err
	}

	s := scenario.Default()
	if *scenarioPath != "" {
		var err error
		if s, err = scenario.Load(*scenarioPath); err != nil {
			return err
		}
	}
	if fs.Changed("trace") {
		s.Trace = *tracePath
	}
	if fs.Changed("trace-format") {
		s.TraceFormat = *traceFormat
	}
	if fs.Changed("fleet") {
		if _, err := os.Stat(*fleetSpec); err == nil {
			s.Fleet = scenario.Fleet{File: *fleetSpec, Format: *fleetFormat}
		} else {
			s.Fleet = scenario.Fleet{Spec: *fleetSpec}
		}
		if _, err := runner.BuildFleet(s, io.Discard); err != nil {
			return fmt.Errorf("--fleet %s: %w", *fleetSpec, err)
		}
	}
	if fs.Changed("external") {
		s.External = external
	}
	if fs.Changed("allocator") {
		if _, err := policies.Allocators.New(*allocator); err != nil {
			return fmt.Errorf("--allocator: %w", err)
		}
		s.Allocator = *allocator
	}
	if fs.Changed("pricer") {
		if _, err := policies.Pricers.New(*pricer); err != nil {
			return fmt.Errorf("--pricer: %w", err)
		}
		s.Pricer = *pricer
	}
	if fs.Changed("seed") {
		if *seed == 0 {
			return errors.New("--seed: must be ≥ 1")
		}
		s.Seed = *seed
	}
	if fs.Changed("horizon") {
		t, err := sim.ParseDuration(*horizon)
		if err != nil {
			return fmt.Errorf("--horizon: %w", err)
		}
		s.Horizon = scenario.Duration(t)
	}
	if fs.Changed("sample-interval") {
		t, err := sim.ParseDuration(*sample)
		if err != nil || t <= 0 {
			return fmt.Errorf("--sample-interval: %q must be a duration > 0 such as 5m", *sample)
		}
		s.SampleInterval = scenario.Duration(t)
	}

	opt := runner.Options{Out: *out, Format: outFormat, Warn: stderr, CheckInvariants: *check, NoCounterfactual: !*counterfactual}
	var prog *progress
	if !*quiet {
		prog = newProgress(stderr)
		opt.Progress = prog.update
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	res, err := runner.Run(s, opt)
	if prog != nil {
		prog.done()
	}
	if err != nil {
		return err
	}
	if !*quiet {
		printSummary(stdout, s, res)
	}
	if *drawPlots {
		return drawAndList(stdout, *quiet, func() ([]string, error) { return plots.Run(res.Out) })
	}
	return nil
}

func traceFormats() []string {
	var names []string
	for _, a := range traces.Adapters() {
		names = append(names, a.Name)
	}
	return names
}

func fleetFormats() []string {
	var names []string
	for _, a := range traces.FleetAdapters() {
		names = append(names, a.Name)
	}
	return names
}

func printSummary(w io.Writer, s *scenario.Scenario, r *runner.Result) {
	sum := r.Summary
	gpus := sum.GPUsTotal
	evs := float64(r.Stats.Events) / max(r.Wall.Seconds(), 1e-9)
	fmt.Fprintf(w, "scenario %s · seed %d · allocator %s · pricer %s · %d GPUs\n", s.Name, s.Seed, s.Allocator, s.Pricer, gpus)
	fmt.Fprintf(w, "simulated %v in %.2fs wall (%d events, %.2fM events/s) · read %.2fs, simulate %.2fs, write %.2fs\n\n",
		r.Stats.End, r.Wall.Seconds(), r.Stats.Events, evs/1e6, r.Phases.Read.Seconds(), r.Phases.Simulate.Seconds(), r.Phases.Write.Seconds())
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "segment\tjobs\tcompleted\trejected\tdeclined\tabandoned\tunfinished\twait mean\twait p50\twait p99\t")
	for seg := sim.Segment(0); seg < sim.NumSegments; seg++ {
		row := r.Stats.Jobs[seg]
		var n int64
		for _, v := range row {
			n += v
		}
		if n == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n", seg, n, row[sim.Completed], row[sim.Rejected], row[sim.Declined], row[sim.Abandoned], row[sim.Unfinished],
			dur(sum.Segments[seg].Wait.MeanS), dur(sum.Segments[seg].Wait.P50S), dur(sum.Segments[seg].Wait.P99S))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nutilization %.1f%% · lost %s GPU-h to %d preemptions and %d node failures\n", 100*sum.Utilization, money(sum.LostGPUHours), sum.Preemptions, sum.NodeFailures)
	if e := sum.Econ; e != nil {
		fmt.Fprintf(w, "external revenue $%s · gross margin %s · operating margin %s · fleet cost $%s · %.0f MWh\n",
			money(e.ExternalRevenueUSD), pct(e.GrossMargin), pct(e.OperatingMargin), money(e.Total.Direct()), e.EnergyMWh)
		if !math.IsNaN(e.NetValueUSD) {
			fmt.Fprintf(w, "value of selling (against the same run without external demand): net $%s · internal delay caused %s GPU-h ($%s)\n",
				money(e.NetValueUSD), money(e.DelayCausedGPUHours), money(e.DelayCausedUSD))
		}
	}
	if !math.IsNaN(sum.MSER5WarmupS) {
		fmt.Fprintf(w, "warm-up: MSER-5 on the internal busy GPUs picks %s (this run's window starts at %s; docs/economics.md)\n",
			dur(sum.MSER5WarmupS), dur(sum.WarmupS))
	}
	fmt.Fprintf(w, "output %s/\n", r.Out)
}

// dur formats seconds for the table; NaN (no job started) prints "-".
func dur(sec float64) string {
	if math.IsNaN(sec) {
		return "-"
	}
	if sec < 60 {
		return fmt.Sprintf("%.0fs", sec)
	}
	return sim.FromSeconds(math.Round(sec/60) * 60).String()
}

func pct(f float64) string {
	if math.IsNaN(f) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*f)
}

func money(usd float64) string {
	s := fmt.Sprintf("%.0f", usd)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && c != '-' && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// progress shows the simulated clock on stderr: a live line on a terminal,
// a plain line every 10 s otherwise, nothing for runs shorter than 2 s.
type progress struct {
	w      io.Writer
	tty    bool
	start  time.Time
	last   time.Time
	shown  bool
	events int64
}

func newProgress(w io.Writer) *progress {
	return &progress{w: w, start: time.Now(), tty: isTerminal(w)}
}

func (p *progress) update(now, horizon sim.Time, events int64) {
	t := time.Now()
	if t.Sub(p.start) < 2*time.Second {
		return
	}
	every := 10 * time.Second
	if p.tty {
		every = 200 * time.Millisecond
	}
	if t.Sub(p.last) < every {
		return
	}
	p.last = t
	line := fmt.Sprintf("simulated %v", now)
	if horizon > 0 {
		line += fmt.Sprintf(" of %v (%.0f%%)", horizon, 100*float64(now)/float64(horizon))
	}
	line += fmt.Sprintf(" · %d events · %.1fs wall", events, t.Sub(p.start).Seconds())
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.shown = true
}

func (p *progress) done() {
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
