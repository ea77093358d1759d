// Command neosim simulates a GPU fleet that trains its owner's models and
// sells spare capacity as a cloud. Its subcommands:
//
//	run        simulate one scenario (package runner)
//	advise     recommend how much to sell and at what price (advise)
//	compare    allocators × pricers × seeds, compared with CIs (experiment)
//	sweep      compare over a grid of scenario variants, in shards (experiment)
//	merge      combine a sharded sweep's outputs (experiment)
//	plot       redraw the plots of a run or comparison folder (results/plots)
//	trace      inspect or convert a job trace (traces)
//	policies   list the registered allocators and pricers (policies)
//	bench      benchmark suite and the FGD fragmentation experiment (bench)
//	calibrate  measure NVIDIA GPUs' power and fit a profile (calibrate)
//	schema     print the output files' schemas (results)
//	version    print the version and the output schema version
//	help       print the usage
//
// `neosim help` and `neosim CMD --help` explain each. The commands parse
// flags (parseFlags) and print; the logic lives in the packages named.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `neosim simulates a GPU fleet that trains its owner's models and sells spare
capacity as a cloud (on-demand, spot, reserved, serving), to compare
allocation and pricing policies by margin and by delay to internal work.

Usage:
  neosim run [flags]       simulate a scenario and write Arrow output
  neosim advise [flags]    recommend how much of the fleet to sell, at what price (report.html)
  neosim compare [flags]   run allocators × pricers × seeds and compare them with CIs
  neosim plot DIR          redraw the plots (PNG, SVG) of a run or comparison folder
  neosim sweep -f FILE     compare over a grid of scenario parameters; --shard i/n for clusters
  neosim merge DIR...      combine a sharded sweep's outputs into one dataset and comparison
  neosim trace inspect|convert FILE   summarize a job trace, or convert it to the canonical format
  neosim policies          list the registered allocators and pricers
  neosim bench suite [NAME…]   benchmark scenarios (small, medium; meta: a year of 1M GPUs)
  neosim bench fragmentation   reproduce the FGD paper's openb experiment (fragmentation)
  neosim calibrate [flags] measure NVIDIA GPUs' power (NVML) and fit a power profile
  neosim schema            print the output files' schemas (columns, types, units)
  neosim version           print the version and the output schema version

Start with:
  neosim run                                   # the embedded default scenario
  neosim run --fleet 64x8xH100 --trace jobs.csv --horizon 7d
  neosim run --help                            # every flag, with examples

Output goes to results/runs/<scenario>-<seed>/ (jobs.arrow, timeseries.arrow,
summary.arrow, run.json); docs/output-schema.md describes every column.
`

// errUsage marks errors already explained by a usage message.
var errUsage = errors.New("usage")

func main() {
	setHeapFloor(len(os.Args) > 1 && os.Args[1] == "run") // one run: let the floor go once its heap is large
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs the command line args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = cmdRun(args[1:], stdout, stderr)
	case "advise":
		err = cmdAdvise(args[1:], stdout, stderr)
	case "compare":
		err = cmdCompare(args[1:], stdout, stderr)
	case "plot":
		err = cmdPlot(args[1:], stdout, stderr)
	case "sweep":
		err = cmdSweep(args[1:], stdout, stderr)
	case "merge":
		err = cmdMerge(args[1:], stdout, stderr)
	case "trace":
		err = cmdTrace(args[1:], stdout, stderr)
	case "policies":
		err = cmdPolicies(args[1:], stdout)
	case "bench":
		err = cmdBench(args[1:], stdout, stderr)
	case "calibrate":
		err = cmdCalibrate(args[1:], stdout, stderr)
	case "schema":
		err = cmdSchema(args[1:], stdout)
	case "version", "--version":
		err = cmdVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "neosim: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "neosim %s: %s\n", args[0], strings.TrimSpace(err.Error()))
		return 1
	}
}
