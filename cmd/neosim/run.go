package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime/pprof"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"neosim/results"
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

A trace replay (--trace, or a scenario with a trace) with no horizon from the
user (no --horizon, no --scenario file of the user's) lasts until every
trace job has ended, and synthetic demand stops arriving after the trace's
last arrival. With a horizon, the trace jobs submitted after it are not
simulated: they are counted (summary column jobs_after_horizon, one line on
stderr) from the rows' structure, not their values. Injected node failures are off in a trace replay unless --failures
or the user's scenario file turns them on: the recorded durations already
include the failures that happened. The summary's first line names the
failure model in force.

Examples:
  neosim run
  neosim run --seed 7 --horizon 7d --out /tmp/week
  neosim run --fleet 1000x8xH100,250x8xB200 --trace jobs.csv --external=false
  neosim run --scenario my.yaml --allocator fifo --pricer flat
  neosim run --format parquet --out /tmp/lake/run=1
  neosim run --serving-trace AzureLLMInferenceTrace_conv.csv --horizon 2h   # serving demand from a request log
  neosim run --plots                # also utilization, spot price and wait CDF plots (PNG, SVG)
  neosim run --trace philly_jobs_pollux.csv --fleet cluster_machine_list.csv --external=false
  neosim run --trace philly_jobs_pollux.csv --fleet cluster_machine_list.csv --horizon 30d --failures

Flags:
`

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, runHelp+fs.FlagUsages()) }
	f := addRunFlags(fs)
	if ok, err := parseFlags(fs, "run", args, stderr); !ok {
		return err
	}
	if err := noArgs(fs, "run", stderr); err != nil {
		return err
	}
	outFormat, err := parseFormat("run", f.format, stderr)
	if err != nil {
		return err
	}
	s, err := f.scenario(fs)
	if err != nil {
		return err
	}
	outputs, err := parseOutputs("run", f.outputs, stderr)
	if err != nil {
		return err
	}
	opt := runner.Options{Out: f.out, Format: outFormat, Outputs: outputs, Warn: stderr, CheckInvariants: f.check, NoCounterfactual: !f.counterfactual}
	var prog *progress
	if !f.quiet {
		prog = newProgress(stderr)
		opt.Progress = prog.simulated
	}
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	res, err := runner.Run(s, opt)
	prog.finish()
	if err != nil {
		return err
	}
	if !f.quiet {
		printSummary(stdout, s, res)
	}
	if f.plots {
		return drawAndList(stdout, f.quiet, func() ([]string, error) { return plots.Run(res.Out) })
	}
	return nil
}

// runFlags are neosim run's flags.
type runFlags struct {
	scenarioPath, trace, traceFormat, fleet, fleetFormat string
	allocator, pricer, horizon, out, format, sample      string
	cpuProfile, warmup, servingTrace, outputs            string
	external, failures, check, quiet, plots              bool
	counterfactual                                       bool
	seed                                                 uint64
}

func addRunFlags(fs *pflag.FlagSet) *runFlags {
	f := &runFlags{}
	fs.StringVar(&f.scenarioPath, "scenario", "", "scenario YAML file (default: the embedded default scenario)")
	fs.StringVar(&f.trace, "trace", "", "job trace (.csv, .arrow, .parquet; canonical, philly or openb); replaces the scenario's internal workloads")
	fs.StringVar(&f.traceFormat, "trace-format", "auto", "trace format: auto (detect from the header), "+strings.Join(traceFormats(), ", "))
	fs.StringVar(&f.fleet, "fleet", "", "fleet: NODESxGPUSxTYPE groups joined by commas (e.g. 1000x8xH100,250x8xB200), or a node-list CSV file")
	fs.StringVar(&f.fleetFormat, "fleet-format", "auto", "node-list format of a --fleet file: auto (detect), "+strings.Join(fleetFormats(), ", "))
	fs.BoolVar(&f.external, "external", true, "synthetic external demand; --external=false turns it off")
	fs.StringVar(&f.allocator, "allocator", "", "allocation policy (see `neosim policies`)")
	fs.StringVar(&f.pricer, "pricer", "", "pricing policy (see `neosim policies`)")
	fs.Uint64Var(&f.seed, "seed", 0, "random seed (same seed, same output bytes)")
	fs.StringVar(&f.horizon, "horizon", "", "simulated time to stop at, e.g. 30d, 12h (\"0\": until every job has ended; default: the scenario's, or with --trace until every trace job has ended)")
	failuresFlag(fs, &f.failures)
	fs.StringVar(&f.out, "out", "", "output directory (default results/runs/<scenario>-<seed>)")
	f.format = results.FormatArrow.String()
	formatFlagVar(fs, &f.format)
	f.outputs = results.AllOutputs.String()
	outputsFlagVar(fs, &f.outputs)
	fs.StringVar(&f.sample, "sample-interval", "", "timeseries sampling interval in simulated time (default 5m)")
	fs.BoolVar(&f.check, "check-invariants", false, "check the engine's invariants after every event (slow; for debugging)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress and no summary table")
	fs.BoolVar(&f.counterfactual, "counterfactual", true, "also simulate the same scenario and seed without external demand, to measure the internal delay selling causes and its net value (--counterfactual=false: skip it; those columns are then null)")
	fs.StringVar(&f.warmup, "warmup", "", "warm-up left out of every statistic and cost, e.g. 3d (default: the scenario's; docs/economics.md)")
	fs.StringVar(&f.servingTrace, "serving-trace", "", "request log (Azure LLM CSV, Mooncake JSONL or BurstGPT CSV) whose tokens replace the serving segment's synthetic rate (external_demand serving trace; docs/external-demand.md)")
	fs.BoolVar(&f.plots, "plots", false, "also draw the run's plots next to its files (docs/plots.md; neosim plot DIR draws them later)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	return f
}

// scenario loads the scenario and applies the flags the user gave over it.
func (f *runFlags) scenario(fs *pflag.FlagSet) (*scenario.Scenario, error) {
	s := scenario.Default()
	if f.scenarioPath != "" {
		var err error
		if s, err = scenario.Load(f.scenarioPath); err != nil {
			return nil, err
		}
	}
	o := runner.Overrides{FleetFormat: f.fleetFormat}
	set := func(name string, v *string) *string {
		if fs.Changed(name) {
			return v
		}
		return nil
	}
	o.Trace, o.TraceFormat, o.Fleet = set("trace", &f.trace), set("trace-format", &f.traceFormat), set("fleet", &f.fleet)
	o.Allocator, o.Pricer = set("allocator", &f.allocator), set("pricer", &f.pricer)
	o.ServingTrace = set("serving-trace", &f.servingTrace)
	if fs.Changed("external") {
		o.External = &f.external
	}
	if fs.Changed("failures") {
		o.Failures = &f.failures
	}
	if fs.Changed("seed") {
		o.Seed = &f.seed
	}
	if fs.Changed("horizon") {
		t, err := sim.ParseDuration(f.horizon)
		if err != nil {
			return nil, fmt.Errorf("--horizon: %w", err)
		}
		o.Horizon = &t
	}
	if fs.Changed("warmup") {
		t, err := sim.ParseDuration(f.warmup)
		if err != nil {
			return nil, fmt.Errorf("--warmup: %w", err)
		}
		o.Warmup = &t
	}
	if fs.Changed("sample-interval") {
		t, err := sim.ParseDuration(f.sample)
		if err != nil || t <= 0 {
			return nil, fmt.Errorf("--sample-interval: %q must be a duration > 0 such as 5m", f.sample)
		}
		o.Sample = &t
	}
	return s, o.Apply(s, f.scenarioPath != "")
}

// startCPUProfile starts a CPU profile into path; stop ends it.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
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
	fmt.Fprintf(w, "scenario %s · seed %d · allocator %s · pricer %s · %d GPUs · %s\n", s.Name, s.Seed, s.Allocator, s.Pricer, gpus, s.FailureModel())
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
	if sum.WarmupS > 0 {
		fmt.Fprintf(w, "(job counts: every job; waits, utilization, revenue, costs and value: the measurement window after the %s warm-up)\n", dur(sum.WarmupS))
	}
	if sum.ServingTokensDemanded > 0 {
		fmt.Fprintf(w, "\nserving tokens: demanded %s · served %s (%s)\n", traces.Thousands(sum.ServingTokensDemanded),
			traces.Thousands(sum.ServingTokensServed), pct(float64(sum.ServingTokensServed)/float64(sum.ServingTokensDemanded)))
	}
	fmt.Fprintf(w, "\nutilization %.1f%% · lost %s GPU-h to %d preemptions and %d node failures\n", 100*sum.Utilization, money(sum.LostGPUHours), sum.Preemptions, sum.NodeFailures)
	if e := sum.Econ; e != nil {
		fmt.Fprintf(w, "external revenue $%s · gross margin %s · operating margin %s · fleet cost $%s · %.0f MWh\n",
			money(e.ExternalRevenueUSD), pct(e.GrossMargin), pct(e.OperatingMargin), money(e.Total.Direct()), e.EnergyMWh)
		c := e.External
		fmt.Fprintf(w, "external costs $: depreciation %s · data centre %s · network & ops %s · power %s · support %s · sales & G&A %s · cost of capital %s\n",
			money(c.Capex), money(c.Datacenter), money(c.Overhead), money(c.Power), money(c.Support), money(c.SalesGA), money(c.Capital))
		fmt.Fprintf(w, "cloud: return on capital %s (capital $%s) · economic margin %s · company operating margin %s without the cloud, %s with it (%+.2f pt)\n",
			pct(e.ReturnOnCapital), money(e.CapitalUSD), pct(e.EconomicMargin), pct(e.CompanyMarginWithout), pct(e.CompanyMarginWith), e.CompanyMarginDeltaPts)
		if !math.IsNaN(e.NetValueUSD) {
			fmt.Fprintf(w, "value of selling (against the same run without external demand): net $%s · internal delay caused %s GPU-h ($%s)\n",
				money(e.NetValueUSD), money(e.DelayCausedGPUHours), money(e.DelayCausedUSD))
		}
	}
	if !math.IsNaN(sum.MSER5WarmupS) {
		fmt.Fprintf(w, "warm-up: MSER-5 on the internal busy GPUs picks %s (this run's window starts at %s; docs/economics.md)\n",
			dur(sum.MSER5WarmupS), dur(sum.WarmupS))
	}
	if n := sum.JobsAfterHorizon; n > 0 {
		fmt.Fprintf(w, "%s trace jobs submitted after the horizon were not simulated\n", traces.Thousands(n))
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
