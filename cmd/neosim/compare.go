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
the seeds, the paired difference against --baseline, the Pareto frontier of
(net value ↑, caused internal delay ↓) and the pairs tied with the best.
The table ranks the pairs by mean net value; a Δ whose CI spans 0 is "n.s.".
--precision R adds seeds until each pair's Δ net value is known to ±R of
itself (or ±$1,000). docs/compare.md explains.

Examples:
  neosim compare --allocators fifo,priority,backfill --pricers flat,utilization
  neosim compare --scenario my.yaml --seeds 1-10 --horizon 7d --baseline fifo/flat
  neosim compare --allocators fifo,backfill --precision 0.05 --max-seeds 40

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
		outputsList  = outputsFlag(fs)
		drawPlots    = plotsFlag(fs)
		quiet        = fs.Bool("quiet", false, "no progress lines and no table")
		failures     bool
		precision    = precisionFlags(fs)
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
	outputs, err := parseOutputs("compare", *outputsList, stderr)
	if err != nil {
		return err
	}
	opt := experiment.CompareOptions{Out: *out, Jobs: *jobs, Warn: stderr, Run: runner.Options{Format: outFormat, Outputs: outputs, NoCounterfactual: !counterfactual},
		Allocators: splitList(*allocators), Pricers: splitList(*pricers)}
	if opt.Precision, err = precision(fs); err != nil {
		return err
	}
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

// precisionFlags adds --precision and --max-seeds to a command that
// writes a comparison; the function it returns reads them.
func precisionFlags(fs *pflag.FlagSet) func(*pflag.FlagSet) (experiment.Precision, error) {
	rel := fs.Float64("precision", 0, "add seeds (in order, to every pair that needs more) until each pair's 95% CI of Δ net value vs the baseline is within this fraction of |Δ| (or $1,000), e.g. 0.05 (default: off, the seeds given)")
	most := fs.Int("max-seeds", 0, fmt.Sprintf("with --precision, the most seeds a pair runs (default %d)", experiment.DefaultMaxSeeds))
	return func(fs *pflag.FlagSet) (experiment.Precision, error) {
		switch {
		case fs.Changed("precision") && !(*rel > 0):
			return experiment.Precision{}, fmt.Errorf("--precision %v: want a fraction > 0, e.g. 0.05", *rel)
		case fs.Changed("max-seeds") && !fs.Changed("precision"):
			return experiment.Precision{}, fmt.Errorf("--max-seeds needs --precision")
		case fs.Changed("max-seeds") && *most < 2:
			return experiment.Precision{}, fmt.Errorf("--max-seeds %d: want at least 2 (a CI needs 2 seeds)", *most)
		}
		return experiment.Precision{Rel: *rel, MaxSeeds: *most}, nil
	}
}

// printComparison prints the pairs ranked by mean net value (best first;
// pairs without one last, in their order), with the decision metrics first;
// the header names the failure model when it is known (one scenario for
// every run).
func printComparison(w io.Writer, c *experiment.Comparison, failureModel string) {
	idx := map[string]int{}
	for i, m := range results.ComparisonMetrics {
		idx[m.Name] = i
	}
	order := make([]int, len(c.Rows))
	for i := range order {
		order[i] = i
	}
	nv := idx["net_value"]
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := c.Rows[a].Metrics[nv].Mean, c.Rows[b].Metrics[nv].Mean
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
	fewest, most := len(c.Seeds), 0
	for _, r := range c.Rows {
		fewest, most = min(fewest, r.Runs), max(most, r.Runs)
	}
	seeds := fmt.Sprint(most)
	if fewest < most {
		seeds = fmt.Sprintf("%d–%d", fewest, most)
	}
	fmt.Fprintf(w, "%s × %s seeds · baseline %s · ranked by mean net value · ± is the 95%% CI half-width\n", what, seeds, c.Baseline)
	fmt.Fprintln(w, "Δ: paired vs the baseline, n.s. when its CI spans 0 · rank =: indistinguishable from the best · pareto *: (net value ↑, caused delay ↓)")
	fmt.Fprintln(w, "caused: against the same run without external demand · int wait p99 is a noisy statistic (a tail over few seeds): not for ranking")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "rank\t")
	if c.Params != nil {
		fmt.Fprint(tw, "variant\t")
	}
	fmt.Fprintln(tw, "allocator\tpricer\tseeds\tnet value $\tΔ net value $\tcaused delay GPU-h\tint slowdown\tcaused slowdown\text revenue $\top margin\tint wait p99 (noisy)\tco. margin\tΔ co. pt\tROC\tpareto\t")
	for r, i := range order {
		row := c.Rows[i]
		m := func(name string) results.MetricStats { return row.Metrics[idx[name]] }
		rank := fmt.Sprint(r + 1)
		if row.TiedWithBest {
			rank += "="
		}
		par := ""
		if row.Pareto {
			par = "*"
		}
		fmt.Fprintf(tw, "%s\t%s%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", rank, variant(row), row.Allocator, row.Pricer, row.Runs,
			moneyCI(m("net_value").Mean, m("net_value").CI95),
			diffCI(m("net_value"), money),
			moneyCI(m("internal_delay_caused").Mean, m("internal_delay_caused").CI95),
			numCI(m("internal_slowdown_mean").Mean, m("internal_slowdown_mean").CI95),
			numCI(m("internal_slowdown_caused").Mean, m("internal_slowdown_caused").CI95),
			moneyCI(m("external_revenue").Mean, m("external_revenue").CI95),
			pctCI(m("operating_margin").Mean, m("operating_margin").CI95),
			durCI(m("internal_wait_p99").Mean, m("internal_wait_p99").CI95),
			pctCI(m("company_margin_with_cloud").Mean, m("company_margin_with_cloud").CI95),
			fmt.Sprintf("%+.2f", m("company_margin_delta").Mean),
			pctCI(m("return_on_capital").Mean, m("return_on_capital").CI95),
			par)
	}
	tw.Flush()
	if p := c.Precision; p.Rel > 0 {
		fmt.Fprintf(w, "\n--precision %g: seeds added until each pair's Δ net value ±CI is within %g%% of |Δ| or $%s (at most %d seeds)\n",
			p.Rel, 100*p.Rel, money(p.Floor), p.MaxSeeds)
		if len(c.Unmet) > 0 {
			var names []string
			for _, u := range c.Unmet {
				names = append(names, u.String())
			}
			fmt.Fprintf(w, "not reached at %d seeds (raise --max-seeds): %s\n", p.MaxSeeds, strings.Join(names, ", "))
		}
	}
	runs := "allocator=*/pricer=*/seed=*/"
	if c.Params != nil {
		runs = "variant=*/" + runs
	}
	fmt.Fprintf(w, "\noutput %s/ (%s and %s)\n", c.Out, results.ComparisonFile, runs)
}

// diffCI formats a paired difference against the baseline: "±0" for the
// baseline itself, "n.s." appended when its 95% CI spans 0.
func diffCI(s results.MetricStats, format func(float64) string) string {
	if math.IsNaN(s.DiffMean) {
		return "-"
	}
	if s.DiffMean == 0 && s.DiffCI95 == 0 {
		return "0"
	}
	out := format(s.DiffMean)
	if !math.IsNaN(s.DiffCI95) {
		out += " ±" + format(s.DiffCI95)
	}
	if !s.DiffSignificant() {
		out += " n.s."
	}
	return out
}

// numCI formats a ratio such as a slowdown with its CI.
func numCI(v, ci float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	if math.IsNaN(ci) {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.2f ±%.2f", v, ci)
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
