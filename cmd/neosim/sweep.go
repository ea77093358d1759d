package main

import (
	"fmt"
	"io"
	"neosim/experiment"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"neosim/runner"
)

const sweepHelp = `Usage: neosim sweep -f SWEEP.yaml [flags]

Runs a grid (or a list) of scenario variants crossed with allocators,
pricers and seeds, with common random numbers, and compares every
(variant, allocator, pricer) cell as neosim compare does: each run's files
go to --out/variant=V/allocator=A/pricer=P/seed=N/ and comparison.arrow
gets one row per cell, with a column per swept parameter.

A sweep too big for one machine runs as shards: each process runs every
n-th run (--shard i/n, i from 0), into one shared folder or one folder each;
neosim merge then checks that every run is there and writes the comparison.
The shard also comes from the environment when --shard is not given:
  JOB_COMPLETION_INDEX / JOB_COMPLETIONS        (Kubernetes Indexed Jobs)
  SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT  (Slurm job arrays; the index
                                                 counts from SLURM_ARRAY_TASK_MIN)
deploy/kubernetes/sweep-job.yaml and deploy/slurm/sweep.sbatch are ready to
use; docs/scale-out.md explains.

A sweep file:
  name: share-sweep           # output folder results/sweep/share-sweep
  scenario: my-scenario.yaml  # relative to this file; default: the embedded default
  horizon: 7d
  allocators: [partition]
  pricers: [flat]
  seeds: 1-5
  grid:                       # scenario paths → values; every combination
    allocator_params.internal_share: [1, 0.9, 0.75, 0.5]
    pricer_params.multiplier: [0.8, 1, 1.25]
  baseline: {variant: internal_share-1_multiplier-1}

Examples:
  neosim sweep -f sweep.yaml --dry-run          # list the variants and runs
  neosim sweep -f sweep.yaml -j 2
  neosim sweep -f sweep.yaml --shard 0/3 --out /shared/sweep   # one of 3 processes
  neosim sweep -f sweep.yaml --shard 0/3 --out /shared/sweep --resume   # retried: skip its finished runs
  neosim merge /shared/sweep
  neosim sweep -f sweep.yaml --precision 0.05     # add seeds until each Δ net value is ±5%

--precision R adds seeds (the next numbers after the sweep's, to every cell
that needs more) until each cell's 95% CI of Δ net value vs the baseline is
within R of |Δ| or $1,000, or --max-seeds; the seeds each cell used are the
runs column. It needs every run in one process: not with --shard or --resume.

Flags:
`

const mergeHelp = `Usage: neosim merge [--out DIR] FOLDER...

Combines the output folders of a sweep's shards (or one folder they all
wrote to) into one dataset and writes its comparison.arrow from every run's
summary. Fails, naming the runs, if any run of the sweep is missing.

Examples:
  neosim merge results/sweep/share-sweep                  # shards shared one folder
  neosim merge --out merged shard-0 shard-1 shard-2       # one folder per shard

Flags:
`

func cmdSweep(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("sweep", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, sweepHelp+fs.FlagUsages()) }
	var (
		file   = fs.StringP("file", "f", "", "sweep file (YAML; required)")
		out    = fs.String("out", "", "output folder (default results/sweep/<name>)")
		jobs   = fs.IntP("jobs", "j", runtime.NumCPU(), "runs at once")
		shard  = fs.String("shard", "", "run one shard: INDEX/COUNT, INDEX from 0 (default: from the environment, else all)")
		hz     = fs.String("horizon", "", "override the sweep's horizon, e.g. 2d (a quick look)")
		seeds  = fs.String("seeds", "", "override the sweep's seeds, e.g. 1-2")
		format = formatFlag(fs)
		outs   = outputsFlag(fs)
		draw   = plotsFlag(fs)
		resume = fs.Bool("resume", false, "keep the runs already complete in --out (a retried shard, an interrupted sweep) and run only the others")
		dryRun = fs.Bool("dry-run", false, "list the variants and this shard's runs, run nothing")
		quiet  = fs.Bool("quiet", false, "no progress and no table")
		fails  bool
		prec   = precisionFlags(fs)
	)
	failuresFlag(fs, &fails)
	counterfactual := true
	fs.BoolVar(&counterfactual, "counterfactual", true, "also simulate the same scenario and seed without external demand, to measure the internal delay selling causes and its net value (--counterfactual=false: skip it; those columns are then null)")
	if ok, err := parseFlags(fs, "sweep", args, stderr); !ok {
		return err
	}
	if *file == "" {
		fmt.Fprintf(stderr, "neosim sweep: -f SWEEP.yaml is required (neosim sweep --help shows an example)\n")
		return errUsage
	}
	outFormat, err := parseFormat("sweep", *format, stderr)
	if err != nil {
		return err
	}
	outputs, err := parseOutputs("sweep", *outs, stderr)
	if err != nil {
		return err
	}
	sh, from, err := resolveShard(*shard, os.Getenv)
	if err != nil {
		return err
	}
	ov := experiment.SweepOverrides{Horizon: *hz, Seeds: *seeds}
	if fs.Changed("failures") {
		ov.Failures = &fails
	}
	sw, err := experiment.LoadSweep(*file, ov)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = experiment.DefaultSweepOut(sw.Name())
	}
	if *dryRun {
		return printPlan(stdout, sw, sh)
	}
	opt := experiment.SweepOptions{Out: *out, Jobs: *jobs, Shard: sh, Warn: stderr, Run: runner.Options{Format: outFormat, Outputs: outputs, NoCounterfactual: !counterfactual}, Resume: *resume}
	if opt.Precision, err = prec(fs); err != nil {
		return err
	}
	toRun := sw.ShardRuns(sh)
	if *resume {
		toRun = sw.Pending(*out, sh, outFormat)
		if !*quiet {
			fmt.Fprintf(stderr, "resuming: %d of %d runs already complete in %s, %d to run\n", sw.ShardRuns(sh)-toRun, sw.ShardRuns(sh), *out, toRun)
		}
	}
	if from != "" && !*quiet {
		fmt.Fprintf(stderr, "shard %s (from %s)\n", sh, from)
	}
	var prog *progress
	if !*quiet {
		prog = newRunsProgress(stderr, toRun)
		opt.Done = prog.runDone
	}
	c, err := sw.Run(opt)
	prog.finish()
	if err != nil {
		return err
	}
	switch {
	case *quiet:
	case c.Rows == nil:
		fmt.Fprintf(stdout, "shard %s of sweep %s done: %d of its %d runs in %s/\nwhen every shard is done: neosim merge %s\n",
			sh, sw.Name(), sw.ShardRuns(sh), sw.Runs(), *out, *out)
	default:
		printComparison(stdout, c, "")
	}
	return comparisonPlots(stdout, *quiet, *draw, c)
}

func cmdMerge(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("merge", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, mergeHelp+fs.FlagUsages()) }
	var (
		out   = fs.String("out", "", "merged output folder (default: the folder given, when only one is)")
		quiet = fs.Bool("quiet", false, "no table")
		draw  = plotsFlag(fs)
	)
	if ok, err := parseFlags(fs, "merge", args, stderr); !ok {
		return err
	}
	dirs := fs.Args()
	if len(dirs) == 0 {
		fmt.Fprintf(stderr, "neosim merge: give the shards' output folders (neosim merge --help)\n")
		return errUsage
	}
	if *out == "" {
		if len(dirs) > 1 {
			fmt.Fprintf(stderr, "neosim merge: several folders need --out, the folder to merge them into\n")
			return errUsage
		}
		*out = dirs[0]
	}
	c, err := experiment.Merge(*out, dirs)
	if err != nil {
		return err
	}
	if !*quiet {
		printComparison(stdout, c, "")
	}
	return comparisonPlots(stdout, *quiet, *draw, c)
}

// resolveShard reads the shard from the --shard flag, else from a cluster
// scheduler's environment; from names where it came from ("" for the flag
// or none).
func resolveShard(flag string, getenv func(string) string) (sh experiment.Shard, from string, err error) {
	if flag != "" {
		i, n, ok := strings.Cut(flag, "/")
		sh.Index, err = strconv.Atoi(i)
		if err == nil {
			sh.Count, err = strconv.Atoi(n)
		}
		if !ok || err != nil || sh.Count < 1 || sh.Index < 0 || sh.Index >= sh.Count {
			return sh, "", fmt.Errorf("--shard %q: want INDEX/COUNT with 0 ≤ INDEX < COUNT, e.g. 0/3", flag)
		}
		return sh, "", nil
	}
	envShard := func(idxVar, countVar, minVar string) (bool, error) {
		idx, count := getenv(idxVar), getenv(countVar)
		if idx == "" || count == "" {
			return false, nil
		}
		i, err1 := strconv.Atoi(idx)
		n, err2 := strconv.Atoi(count)
		lo := 0
		if minVar != "" && getenv(minVar) != "" {
			lo, err = strconv.Atoi(getenv(minVar))
		}
		if err1 != nil || err2 != nil || err != nil || n < 1 || i-lo < 0 || i-lo >= n {
			return false, fmt.Errorf("%s=%q, %s=%q: not a shard index below the count", idxVar, idx, countVar, count)
		}
		sh = experiment.Shard{Index: i - lo, Count: n}
		from = idxVar + "/" + countVar
		return true, nil
	}
	if ok, err := envShard("JOB_COMPLETION_INDEX", "JOB_COMPLETIONS", ""); ok || err != nil {
		return sh, from, err
	}
	if ok, err := envShard("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN"); ok || err != nil {
		return sh, from, err
	}
	return experiment.Shard{}, "", nil
}

// printPlan lists a sweep's variants and this shard's share of the runs.
func printPlan(w io.Writer, sw *experiment.Sweep, sh experiment.Shard) error {
	fmt.Fprintf(w, "sweep %s: %d variants × %d pairs × %d seeds = %d runs", sw.Name(), len(sw.Variants()), len(sw.Pairs()), len(sw.Seeds()), sw.Runs())
	if sh.Count > 1 {
		fmt.Fprintf(w, "; shard %s runs %d", sh, sw.ShardRuns(sh))
	}
	fmt.Fprintln(w)
	for _, v := range sw.Variants() {
		fmt.Fprintf(w, "  variant %s\n", v.Name)
	}
	for _, p := range sw.Pairs() {
		fmt.Fprintf(w, "  pair %s\n", p)
	}
	return nil
}
