package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"neosim/results"
	"neosim/runner"
	"neosim/sim"
	"neosim/sim/scenario"
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
		quiet        = fs.Bool("quiet", false, "no progress lines and no table")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		fmt.Fprintf(stderr, "neosim compare: %v (neosim compare --help lists the flags)\n", err)
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "neosim compare: unexpected argument %q (flags start with --)\n", fs.Arg(0))
		return errUsage
	}
	opt := runner.CompareOptions{Out: *out, Jobs: *jobs, Warn: stderr,
		Allocators: splitList(*allocators), Pricers: splitList(*pricers)}
	var err error
	if opt.Seeds, err = parseSeeds(*seeds); err != nil {
		return fmt.Errorf("--seeds: %w", err)
	}
	if *baseline != "" {
		a, p, ok := strings.Cut(*baseline, "/")
		if !ok || a == "" || p == "" {
			return fmt.Errorf("--baseline: %q is not ALLOCATOR/PRICER", *baseline)
		}
		opt.Baseline = runner.Pair{Allocator: a, Pricer: p}
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
		return s, nil
	}
	if !*quiet {
		opt.Done = func(d runner.RunDone) {
			fmt.Fprintf(stderr, "[%d/%d] allocator=%s pricer=%s seed=%d: %.2fs (%.1fs elapsed)\n",
				d.Done, d.Total, d.Allocator, d.Pricer, d.Seed, d.Wall.Seconds(), d.Elapsed.Seconds())
		}
	}
	c, err := runner.Compare(load, opt)
	if err != nil {
		return err
	}
	if !*quiet {
		printComparison(stdout, c)
	}
	return nil
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

// parseSeeds parses "1-5", "1,2,7" or a mix ("1-3,9") into distinct seeds
// ≥ 1, in the order given.
func parseSeeds(spec string) ([]uint64, error) {
	var seeds []uint64
	seen := map[uint64]bool{}
	for _, f := range splitList(spec) {
		lo, hi, isRange := strings.Cut(f, "-")
		a, err := strconv.ParseUint(lo, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a seed or a range such as 1-5", f)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("%q is not a range such as 1-5", f)
			}
		}
		if a == 0 {
			return nil, errors.New("seeds must be ≥ 1")
		}
		if b-a >= 1_000_000 {
			return nil, fmt.Errorf("%q: too many seeds", f)
		}
		for s := a; s <= b; s++ {
			if seen[s] {
				return nil, fmt.Errorf("seed %d given twice", s)
			}
			seen[s] = true
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		return nil, errors.New("no seed given")
	}
	return seeds, nil
}

// printComparison prints the pairs ranked by mean operating margin (best
// first; pairs without one last).
func printComparison(w io.Writer, c *runner.Comparison) {
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
	fmt.Fprintf(w, "%d pairs × %d seeds · baseline %s · ± is the 95%% CI half-width · Δ is paired vs the baseline\n\n", len(c.Pairs), len(c.Seeds), c.Baseline)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rank\tallocator\tpricer\top margin\tΔ op margin\tgross margin\text revenue $\tutilization\tint wait p99\tΔ p99\tpareto\t")
	for r, i := range order {
		row := c.Rows[i]
		m := func(name string) results.MetricStats { return row.Metrics[idx[name]] }
		par := ""
		if row.Pareto {
			par = "*"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r+1, row.Allocator, row.Pricer,
			pctCI(m("operating_margin").Mean, m("operating_margin").CI95),
			pctCI(m("operating_margin").DiffMean, m("operating_margin").DiffCI95),
			pctCI(m("gross_margin").Mean, m("gross_margin").CI95),
			moneyCI(m("external_revenue").Mean, m("external_revenue").CI95),
			pctCI(m("utilization").Mean, m("utilization").CI95),
			durCI(m("internal_wait_p99").Mean, m("internal_wait_p99").CI95),
			durCI(m("internal_wait_p99").DiffMean, m("internal_wait_p99").DiffCI95),
			par)
	}
	tw.Flush()
	fmt.Fprintf(w, "\noutput %s/ (%s and allocator=*/pricer=*/seed=*/)\n", c.Out, results.ComparisonFile)
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
