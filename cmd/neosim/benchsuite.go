package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"neosim/bench"
)

const suiteHelp = `Usage: neosim bench suite [NAME…] [flags]

Runs benchmark scenarios one after the other, each in a child process of its
own (so that its peak RSS is its own), and prints per scenario: wall time,
simulated events, events/s, jobs/s, peak RSS, utilization and the time spent
reading (fleet, sources, job generation or trace decoding), simulating and
writing the output files. Then it replays a canonical CSV trace of
--trace-jobs jobs (run-100k's workload) on 100,000 GPUs with fifo, as a
whole neosim process, and times small runs (1,000 GPUs, 1 day,
summary only): the fixed cost of one (a whole neosim process, median of
--small-runs) and the runs per minute of a sweep of them, with one worker
and with one per CPU. First it runs the event queue's hold model against
a container/heap baseline and prints the speed-up. The same numbers go to
--out/suite.arrow (and a copy named by the UTC start time); docs/performance.md
describes its columns.

NAME is an embedded benchmark scenario (%s) or a
scenario .yaml file. Without names: %s (seconds). meta (1,000,000
GPUs, 365 days, 30 million jobs) takes about a minute: name it.

Examples:
  neosim bench suite
  neosim bench suite meta
  neosim bench suite small medium meta --hold=false
  neosim bench suite small --trace-jobs 0 --small-runs 0   # the scenario alone

Flags:
`

// suiteChildCmd is the hidden subcommand that runs one scenario of a suite
// in a child process: neosim bench suite-child NAME OUT.
const suiteChildCmd = "suite-child"

func cmdBenchSuite(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("bench suite", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, suiteHelp, strings.Join(bench.ScenarioNames(), ", "), strings.Join(bench.DefaultSuite, " and "))
		fmt.Fprint(stderr, fs.FlagUsages())
	}
	var (
		out       = fs.String("out", filepath.Join("results", "bench"), "output folder of suite.arrow; the runs write under its runs/")
		keep      = fs.Bool("keep-runs", false, "keep each run's output files (jobs.arrow can be gigabytes) under --out/runs/NAME")
		hold      = fs.Bool("hold", true, "run the event queue's hold model against container/heap first")
		holdSteps = fs.Int("hold-steps", 2_000_000, "hold model steps per round (best of 3 rounds)")
		inProcess = fs.Bool("in-process", false, "run the scenarios in this process (the peak RSS is then this process's, marked *)")
		quiet     = fs.Bool("quiet", false, "no progress on stderr")
		traceJobs = fs.Int64("trace-jobs", 1_000_000, "jobs of the trace replay (a canonical CSV trace of run-100k's workload on 100,000 GPUs, fifo, a whole neosim process; issue 18's goal: 1,000,000 in 1 s); 0: skip")
		smallRuns = fs.Int("small-runs", 20, "small runs (1,000 GPUs, 1 day, summary only) for the fixed cost of one run (a whole neosim process each, median) and for a sweep's runs per minute (1 worker, then one per CPU); 0: skip")
	)
	if ok, err := parseFlags(fs, "bench suite", args, stderr); !ok {
		return err
	}
	cfg := bench.SuiteConfig{Names: fs.Args(), RunsDir: filepath.Join(*out, "runs"), KeepRuns: *keep, HoldSteps: *holdSteps,
		SmallRuns: *smallRuns, TraceJobs: *traceJobs}
	if *hold {
		cfg.HoldPending = bench.DefaultHoldPending
	}
	if !*quiet {
		cfg.Progress = stderr
	}
	if !*inProcess {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding neosim's own binary to run the scenarios in: %w (use --in-process)", err)
		}
		cfg.Process = func(args ...string) *exec.Cmd { return exec.Command(exe, args...) }
		cfg.Child = func(name, out string) *exec.Cmd {
			cmd := exec.Command(exe, "bench", suiteChildCmd, name, out)
			cmd.Stderr = stderr
			if *quiet {
				cmd.Stderr = io.Discard
			}
			return cmd
		}
	}
	start := time.Now()
	rows, err := bench.RunSuite(cfg)
	if err != nil {
		return err
	}
	bench.PrintSuite(stdout, rows)
	paths, err := bench.WriteSuite(*out, start, rows)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\noutput %s\n", strings.Join(paths, ", "))
	return nil
}

func cmdBenchSuiteChild(args []string, stdout, stderr io.Writer) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: neosim bench %s NAME OUT", suiteChildCmd)
	}
	return bench.RunChild(args[0], args[1], stdout, stderr)
}
