package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"neosim/experiment"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"neosim/results"
	"neosim/results/plots"
	"neosim/runner"
	"neosim/scenario"
	"neosim/sim"
)

const compareHelp = `Usage: neosim compare [flags]

Runs every allocator × pricer pair with every seed (common random numbers:
for one seed every pair sees the same jobs), -j runs at once. Each run's
files go to --out/allocator=A/pricer=P/seed=N/ (a hive-partitioned dataset);
comparison.arrow gets one row per pair: each metric's mean and 95% CI over
the seeds, the paired difference against --baseline, and the Pareto
frontier of (operating margin, internal p99 wait). docs/compare.md explains.

Examples:
  neosim compare --allocators fifo,priority,backfill --pricers flat,utilization
  neosim compare --scenario my.yaml --seeds 1-10 --horizon 7d --baseline fifo/flat

Flags:
`

func cmdCompare(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("compare", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, compareHelp+fs.FlagUsages()) }
	var (
		scenarioPath = fs.String("scenario", "", "scenario YAML file (default: the embedded default scenario)")
		allocators   = fs.String("allocators", "", "allocators, comma-separated (default: the scenario's; see `neosim policies`)")
		pricers      = fs.String("pricers", "", "pricers, comma-separated (default: the scenario's)")
		seeds        = fs.String("seeds", "1-3", "seeds: ranges and lists such as 1-5 or 1,2,7")
		horizon      = fs.String("horizon", "", "simulated time to stop at, e.g. 7d (default: the scenario's)")
		baseline     = fs.String("baseline", "", "ALLOCATOR/PRICER the differences are taken against (default: the first pair)")
		out          = fs.String("out", "", "output folder (default results/compare/<scenario>)")
		jobs         = fs.IntP("jobs", "j", runtime.NumCPU(), "runs at once")
		format       = formatFlag(fs)
		drawPlots    = plotsFlag(fs)
		quiet        = fs.Bool("quiet", false, "no progress lines and no table")
		failures     bool
	)
	failuresFlag(fs, &failures)
	counterfactual := true
	fs.BoolVar(&counterfactual, "counterfactual", true, "also simulate the same scenario and seed without external demand, to measure the internal delay selling causes and its net value (--counterfactual=false: skip it; those columns are then null)")
	if ok, err := parseFlags(fs, "compare", args, stderr); !ok {
		return err
	}
	if err := noArgs(fs, "compare", stderr); err != nil {
		return err
	}
	outFormat, err := parseFormat("compare", *format, stderr)
	if err != nil {
		return err
	}
	opt := experiment.CompareOptions{Out: *out, Jobs: *jobs, Warn: stderr, Run: runner.Options{Format: outFormat, NoCounterfactual: !counterfactual},
		Allocators: splitList(*allocators), Pricers: splitList(*pricers)}
	if opt.Seeds, err = experiment.ParseSeeds(*seeds); err != nil {
		return fmt.Errorf("--seeds: %w", err)
	}
	if *baseline != "" {
		a, p, ok := strings.Cut(*baseline, "/")
		if !ok || a == "" || p == "" {
			return fmt.Errorf("--baseline: %q is not ALLOCATOR/PRICER", *baseline)
		}
		opt.Baseline = experiment.Pair{Allocator: a, Pricer: p}
	}
	var hz sim.Time
	if fs.Changed("horizon") {
		if hz, err = sim.ParseDuration(*horizon); err != nil {
			return fmt.Errorf("--horizon: %w", err)
		}
	}
	load := func() (*scenario.Scenario, error) {
		s := scenario.Default()
		if *scenarioPath != "" {
			var err error
			if s, err = scenario.Load(*scenarioPath); err != nil {
				return nil, err
			}
		}
		if fs.Changed("horizon") {
			s.Horizon = scenario.Duration(hz)
		}
		if fs.Changed("failures") {
			s.SetFailures(failures)
		}
		return s, nil
	}
	s, err := load()
	if err != nil {
		return err
	}
	s.EnsureDefaults()
	var prog *progress
	if !*quiet {
		total := max(1, len(opt.Allocators)) * max(1, len(opt.Pricers)) * len(opt.Seeds)
		prog = newRunsProgress(stderr, total)
		opt.Done = prog.runDone
	}
	c, err := experiment.Compare(load, opt)
	prog.finish()
	if err != nil {
		return err
	}
	if !*quiet {
		printComparison(stdout, c, s.FailureModel())
	}
	return comparisonPlots(stdout, *quiet, *drawPlots, c)
}

// plotsFlag adds --plots, on by default, to a command that writes a
// comparison.
func plotsFlag(fs *pflag.FlagSet) *bool {
	return fs.Bool("plots", true, "draw the frontier and revenue/cost plots (PNG, SVG) next to comparison.arrow (--plots=false: don't)")
}

// comparisonPlots draws a finished comparison's plots if asked to.
func comparisonPlots(w io.Writer, quiet, draw bool, c *experiment.Comparison) error {
	if !draw || c.Rows == nil {
		return nil
	}
	return drawAndList(w, quiet, func() ([]string, error) { return plots.Comparison(c.Out) })
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// printComparison prints the pairs ranked by mean operating margin (best
// first; pairs without one last); the header names the failure model when
// it is known (one scenario for every run).
func printComparison(w io.Writer, c *experiment.Comparison, failureModel string) {
	idx := map[string]int{}
	for i, m := range results.ComparisonMetrics {
		idx[m.Name] = i
	}
	order := make([]int, len(c.Rows))
	for i := range order {
		order[i] = i
	}
	op := idx["operating_margin"]
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := c.Rows[a].Metrics[op].Mean, c.Rows[b].Metrics[op].Mean
		switch {
		case math.IsNaN(x) && math.IsNaN(y):
			return 0
		case math.IsNaN(x):
			return 1
		case math.IsNaN(y):
			return -1
		}
		return cmp.Compare(y, x)
	})
	what := fmt.Sprintf("%d pairs", len(c.Pairs))
	variant := func(results.ComparisonRow) string { return "" }
	if c.Params != nil {
		what = fmt.Sprintf("%d variants × %d pairs", len(c.Variants), len(c.Pairs))
		variant = func(r results.ComparisonRow) string { return r.Variant + "\t" }
	}
	if failureModel != "" {
		what += " · " + failureModel
	}
	fmt.Fprintf(w, "%s × %d seeds · baseline %s · ± is the 95%% CI half-width · Δ is paired vs the baseline\n\n", what, len(c.Seeds), c.Baseline)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "rank\t")
	if c.Params != nil {
		fmt.Fprint(tw, "variant\t")
	}
	fmt.Fprintln(tw, "allocator\tpricer\top margin\tΔ op margin\tgross margin\text revenue $\tutilization\tint wait p99\tΔ p99\tco. margin\tΔ co. pt\tROC\tpareto\t")
	for r, i := range order {
		row := c.Rows[i]
		m := func(name string) results.MetricStats { return row.Metrics[idx[name]] }
		par := ""
		if row.Pareto {
			par = "*"
		}
		fmt.Fprintf(tw, "%d\t%s%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r+1, variant(row), row.Allocator, row.Pricer,
			pctCI(m("operating_margin").Mean, m("operating_margin").CI95),
			pctCI(m("operating_margin").DiffMean, m("operating_margin").DiffCI95),
			pctCI(m("gross_margin").Mean, m("gross_margin").CI95),
			moneyCI(m("external_revenue").Mean, m("external_revenue").CI95),
			pctCI(m("utilization").Mean, m("utilization").CI95),
			durCI(m("internal_wait_p99").Mean, m("internal_wait_p99").CI95),
			durCI(m("internal_wait_p99").DiffMean, m("internal_wait_p99").DiffCI95),
			pctCI(m("company_margin_with_cloud").Mean, m("company_margin_with_cloud").CI95),
			fmt.Sprintf("%+.2f", m("company_margin_delta").Mean),
			pctCI(m("return_on_capital").Mean, m("return_on_capital").CI95),
			par)
	}
	tw.Flush()
	runs := "allocator=*/pricer=*/seed=*/"
	if c.Params != nil {
		runs = "variant=*/" + runs
	}
	fmt.Fprintf(w, "\noutput %s/ (%s and %s)\n", c.Out, results.ComparisonFile, runs)
}

func pctCI(v, ci float64) string {
	if math.IsNaN(ci) {
		return pct(v)
	}
	return fmt.Sprintf("%s ±%.1f", pct(v), 100*ci)
}

func moneyCI(v, ci float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	if math.IsNaN(ci) {
		return money(v)
	}
	return money(v) + " ±" + money(ci)
}

func durCI(v, ci float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	s := dur(math.Abs(v))
	if v < 0 {
		s = "-" + s
	}
	if !math.IsNaN(ci) {
		s += " ±" + dur(ci)
	}
	return s
}
