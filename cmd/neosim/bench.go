package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/pflag"

	"neosim/bench/fragmentation"
)

const benchHelp = `Usage: neosim bench EXPERIMENT [flags]

Runs a benchmark or a paper-reproduction experiment. Experiments:
  suite [NAME…]   the benchmark scenarios (bench/scenarios: small, medium,
                  meta): wall time, events/s, jobs/s, peak RSS and the time
                  spent reading, simulating and writing, plus the event queue
                  against container/heap; without names small and medium,
                  "neosim bench suite meta" for a year of a million GPUs
  fragmentation   the FGD paper's openb experiment (Weng et al., ATC'23):
                  task shapes sampled from a pod list and submitted one by one,
                  never leaving, until the arrived GPU demand is 130% of the
                  cluster; GPU allocation ratio at each 1% of arrived demand,
                  for random, dotprod, gpuclustering, gpupacking, bestfit, fgd

Run "neosim bench suite --help" or "neosim bench fragmentation --help" for
their flags.
`

const fragHelp = `Usage: neosim bench fragmentation [flags]

Reproduces the FGD paper's openb experiment (../shared/papers/fgd-openb-protocol.md):
for each policy and seed, pods sampled from the pod list are submitted one by
one to the nodes of the node list until the arrived GPU demand reaches 130% of
the GPU capacity; a pod that fits nowhere fails. Writes fragmentation.arrow
(policy, seed, arrived_pct, alloc_pct) and fragmentation.json to --out and
prints the mean allocation ratio at 100% arrived demand per policy.

The openb data is for research or study only; it is read from ../shared and
never copied into the repository.

Examples:
  neosim bench fragmentation
  neosim bench fragmentation --seeds 2 --policies bestfit,fgd
  neosim bench fragmentation --pods ../shared/traces/alibaba-openb-2023/openb_pod_list_gpushare40.csv

Flags:
`

func cmdBench(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, benchHelp)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "suite":
		return cmdBenchSuite(args[1:], stdout, stderr)
	case suiteChildCmd:
		return cmdBenchSuiteChild(args[1:], stdout, stderr)
	case "fragmentation":
		return cmdBenchFragmentation(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "neosim bench: unknown experiment %q\n\n%s", args[0], benchHelp)
		return errUsage
	}
}

func cmdBenchFragmentation(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("bench fragmentation", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, fragHelp+fs.FlagUsages()) }
	def := fragmentation.DefaultConfig()
	var (
		pods     = fs.String("pods", def.Pods, "pod list (openb_pod_list_*.csv)")
		nodes    = fs.String("nodes", def.Nodes, "node list (openb_node_list_*.csv)")
		seeds    = fs.Int("seeds", len(def.Seeds), "number of seeds (tune seeds first-seed, first-seed+1, …)")
		first    = fs.Int64("first-seed", def.Seeds[0], "first seed (the paper runs 42..51)")
		pols     = fs.String("policies", strings.Join(fragmentation.PolicyNames(), ","), "policies, comma-separated")
		tune     = fs.Float64("tune", def.Tune, "stop when the arrived GPU demand reaches this multiple of the GPU capacity")
		out      = fs.String("out", filepath.Join("results", "runs", "fragmentation"), "output directory")
		workers  = fs.IntP("jobs", "j", runtime.NumCPU(), "runs at once")
		quiet    = fs.Bool("quiet", false, "no progress lines")
		coverage = fs.Float64("coverage", def.Coverage, "share of the pods FGD's target workload covers with its most popular shapes")
	)
	if ok, err := parseFlags(fs, "bench fragmentation", args, stderr); !ok {
		return err
	}
	if err := noArgs(fs, "bench fragmentation", stderr); err != nil {
		return err
	}
	if *seeds < 1 {
		return fmt.Errorf("--seeds: must be ≥ 1, got %d", *seeds)
	}
	if *workers < 1 {
		return fmt.Errorf("-j: must be ≥ 1, got %d", *workers)
	}
	cfg := fragmentation.Config{Pods: *pods, Nodes: *nodes, Tune: *tune, Coverage: *coverage, Workers: *workers}
	for i := range *seeds {
		cfg.Seeds = append(cfg.Seeds, *first+int64(i))
	}
	for _, name := range strings.Split(*pols, ",") {
		if strings.TrimSpace(name) == "" {
			continue
		}
		p, err := fragmentation.ParsePolicy(name)
		if err != nil {
			return fmt.Errorf("--policies: %w", err)
		}
		cfg.Policies = append(cfg.Policies, p)
	}
	if len(cfg.Policies) == 0 {
		return fmt.Errorf("--policies: none given (known: %s)", strings.Join(fragmentation.PolicyNames(), ", "))
	}
	for _, f := range []struct{ flag, path string }{{"--pods", cfg.Pods}, {"--nodes", cfg.Nodes}} {
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("%s: %s: no such file (the openb trace lives in ../shared/traces/alibaba-openb-2023; see its SOURCE.md)", f.flag, f.path)
		}
	}
	if !*quiet {
		cfg.Progress = stderr
		fmt.Fprintf(stderr, "fragmentation: %d policies × %d seeds on %d workers · pods %s · nodes %s\n",
			len(cfg.Policies), len(cfg.Seeds), cfg.Workers, cfg.Pods, cfg.Nodes)
	}
	res, err := fragmentation.Run(cfg)
	if err != nil {
		return err
	}
	if err := res.Write(*out); err != nil {
		return err
	}
	res.WriteSummary(stdout)
	fmt.Fprintf(stdout, "\noutput %s\n", filepath.Join(*out, fragmentation.ArrowFile))
	return nil
}
