package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"neosim/advise"
	"neosim/runner"
	"neosim/scenario"
	"neosim/sim"
)

const adviseHelp = `Usage: neosim advise [flags]

Recommends how much of the fleet to sell and at what price: the decision
(allocator, pricer, share of the fleet the partition allocator keeps for
internal training, multiplier on every external list price) with the best
mean net value of selling per 30-day month, within a delay budget. Every
candidate runs on the same seeds (common random numbers); a fully
sequential ranking-and-selection procedure (Kim & Nelson 2001) adds seeds
only to candidates still in contention or near the budget, until one is
separated from the rest at 95% or the budget of runs or time ends.
docs/advise.md explains the method; --out gets advice.json, advice.arrow,
the trade-off plots (PNG, SVG) and report.html.

Ranges are lists (0.6,0.8,1) or lo:hi:step (0.5:1:0.1). Defaults: the
partition allocator, the scenario's pricer, shares ` + advise.DefaultShares + `, multipliers
` + advise.DefaultMultipliers + `, no delay budget.

Examples:
  neosim advise                                        # the default scenario and grid
  neosim advise --max-slowdown-increase 5%             # internal slowdown at most 5% worse
  neosim advise --max-delay-gpu-hours-per-month 20000 --shares 0.6:1:0.05 --multipliers 1
  neosim advise --scenario my.yaml --pricers flat,utilization --budget-time 10m -j 8
  neosim advise --seed-base 1001                       # a disjoint seed set, to check stability

Flags:
`

func cmdAdvise(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("advise", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, adviseHelp+fs.FlagUsages()) }
	var (
		scenarioPath = fs.String("scenario", "", "scenario YAML file (default: the embedded default scenario)")
		horizon      = fs.String("horizon", "", "simulated time to stop at, e.g. 7d (default: the scenario's)")
		warmup       = fs.String("warmup", "", "warm-up left out of every statistic, e.g. 3d (default: the scenario's)")
		allocators   = fs.String("allocators", advise.PartitionAllocator, "allocators, comma-separated (the partition allocator also varies --shares)")
		pricers      = fs.String("pricers", "", "pricers, comma-separated (default: the scenario's)")
		shares       = fs.String("shares", advise.DefaultShares, "shares of the fleet kept for internal training (partition's internal_share): a list or lo:hi:step")
		multipliers  = fs.String("multipliers", advise.DefaultMultipliers, "price levels, multipliers on every external list price: a list or lo:hi:step")
		maxDelay     = fs.String("max-delay-gpu-hours-per-month", "", "delay budget: internal delay selling causes, GPU-hours per 30-day month (default: none)")
		maxSlow      = fs.String("max-slowdown-increase", "", "delay budget: relative increase of the internal mean bounded slowdown over the same run without selling, e.g. 5% or 0.05 (default: none)")
		tolerance    = fs.Float64("tolerance", advise.DefaultTolerance, "indifference of each budget, as a fraction of it")
		seedBase     = fs.Uint64("seed-base", 1, "first seed: candidates run seeds N, N+1, …")
		firstStage   = fs.Int("first-stage", advise.DefaultFirstStage, "seeds every candidate gets before the search narrows")
		budgetRuns   = fs.Int("budget-runs", advise.DefaultBudgetRuns, "most runs in all (0: no limit)")
		budgetTime   = fs.String("budget-time", "", "most wall time, e.g. 3m (default: no limit; the first stage always completes)")
		indifference = fs.Float64("indifference", 0, "indifference zone of the net value, USD per month (default: 5% of the best first-stage mean)")
		out          = fs.String("out", "", "output folder (default results/advise/<scenario>)")
		jobs         = fs.IntP("jobs", "j", runtime.NumCPU(), "runs at once")
		quiet        = fs.Bool("quiet", false, "no progress lines")
		keep         = fs.Bool("keep-recommended", false, "also rerun the recommendation with the first seed and keep its files (jobs.arrow, …) in --out/recommended/")
		failures     bool
	)
	failuresFlag(fs, &failures)
	if ok, err := parseFlags(fs, "advise", args, stderr); !ok {
		return err
	}
	if err := noArgs(fs, "advise", stderr); err != nil {
		return err
	}
	var ov runner.Overrides
	for _, d := range []struct {
		flag string
		v    *string
		dst  **sim.Time
	}{{"horizon", horizon, &ov.Horizon}, {"warmup", warmup, &ov.Warmup}} {
		if fs.Changed(d.flag) {
			t, err := sim.ParseDuration(*d.v)
			if err != nil {
				return fmt.Errorf("--%s: %w", d.flag, err)
			}
			*d.dst = &t
		}
	}
	if fs.Changed("failures") {
		ov.Failures = &failures
	}
	load := func() (*scenario.Scenario, error) {
		s := scenario.Default()
		if *scenarioPath != "" {
			var err error
			if s, err = scenario.Load(*scenarioPath); err != nil {
				return nil, err
			}
		}
		return s, ov.Apply(s, *scenarioPath != "")
	}
	s, err := load()
	if err != nil {
		return err
	}
	s.EnsureDefaults()
	opt := advise.Options{Load: load, SeedBase: *seedBase, FirstStage: *firstStage, BudgetRuns: *budgetRuns,
		Jobs: *jobs, Indifference: *indifference, Tolerance: *tolerance, Start: time.Now(),
		MaxDelayGPUHoursPerMonth: math.NaN(), MaxSlowdownIncrease: math.NaN()}
	opt.Space.Allocators = splitList(*allocators)
	opt.Space.Pricers = splitList(*pricers)
	if len(opt.Space.Pricers) == 0 {
		opt.Space.Pricers = []string{s.Pricer}
	}
	for _, r := range []struct {
		flag, v string
		dst     *[]float64
	}{{"shares", *shares, &opt.Space.Shares}, {"multipliers", *multipliers, &opt.Space.Multipliers}} {
		if *r.dst, err = advise.ParseRange(r.v); err != nil {
			return fmt.Errorf("--%s: %w", r.flag, err)
		}
	}
	if *maxDelay != "" {
		if opt.MaxDelayGPUHoursPerMonth, err = strconv.ParseFloat(*maxDelay, 64); err != nil || opt.MaxDelayGPUHoursPerMonth < 0 {
			return fmt.Errorf("--max-delay-gpu-hours-per-month: %q is not a number ≥ 0", *maxDelay)
		}
	}
	if *maxSlow != "" {
		if opt.MaxSlowdownIncrease, err = parseFraction(*maxSlow); err != nil {
			return fmt.Errorf("--max-slowdown-increase: %w", err)
		}
	}
	if *budgetTime != "" {
		if opt.BudgetTime, err = time.ParseDuration(*budgetTime); err != nil || opt.BudgetTime <= 0 {
			return fmt.Errorf("--budget-time: %q is not a duration such as 3m or 90s", *budgetTime)
		}
	}
	if !*quiet {
		opt.Progress = stderr
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("results", "advise", s.Name)
	}
	res, err := advise.Search(opt)
	if err != nil {
		return err
	}
	if _, err := res.Write(dir, commandLine(args)); err != nil {
		return err
	}
	if *keep && res.Recommended >= 0 {
		if err := res.RunRecommended(filepath.Join(dir, "recommended")); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, res.Sentence())
	fmt.Fprintf(stdout, "%d runs in %s; stopped: %s. %s\n", res.Runs, res.Wall.Round(time.Second), res.Stop, filepath.Join(dir, advise.ReportHTML))
	return nil
}

// parseFraction reads 5% or 0.05.
func parseFraction(v string) (float64, error) {
	t := strings.TrimSpace(v)
	scale := 1.0
	if p, ok := strings.CutSuffix(t, "%"); ok {
		t, scale = p, 0.01
	}
	x, err := strconv.ParseFloat(t, 64)
	if err != nil || !(x >= 0) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%q is not a fraction ≥ 0 such as 5%% or 0.05", v)
	}
	return x * scale, nil
}

// commandLine is the command that reproduces a run: neosim advise and its
// arguments, each quoted for a POSIX shell when it needs it.
func commandLine(args []string) string {
	parts := []string{"neosim", "advise"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
