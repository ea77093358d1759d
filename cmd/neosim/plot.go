package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"neosim/results"
	"neosim/results/plots"
)

const plotHelp = `Usage: neosim plot DIR

Redraws the plots of saved output, as PNG and SVG files next to the data,
and prints the files written. DIR is either

  a comparison folder (it holds comparison.arrow; neosim compare, sweep):
    frontier.{png,svg}     net value vs internal delay caused, 95% CI bars,
                           the Pareto frontier highlighted and joined
    breakdown.{png,svg}    per pair: external revenue by segment vs external
                           cost by kind, averaged over the pair's seeds

  a run folder (it holds jobs.arrow; neosim run):
    utilization.{png,svg}  busy share of the fleet's GPUs over time, by segment
    spot_price.{png,svg}   the spot price over time (a note if the pricer has none)
    wait_cdf.{png,svg}     CDF of the waits of the jobs that started, by segment

Existing plots are replaced. Only the files are read, so plots of old runs
can be redrawn after neosim changes. docs/plots.md shows every plot.

Examples:
  neosim run --horizon 7d --out /tmp/week && neosim plot /tmp/week
  neosim compare --allocators fifo,backfill --pricers flat --out /tmp/cmp
  neosim plot /tmp/cmp                                  # frontier, breakdown
  neosim plot /tmp/cmp/allocator=fifo/pricer=flat/seed=1   # one run of it

Flags:
`

func cmdPlot(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("plot", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, plotHelp+fs.FlagUsages()) }
	if ok, err := parseFlags(fs, "plot", args, stderr); !ok {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "neosim plot: want one folder, got %d arguments (neosim plot --help explains)\n", fs.NArg())
		return errUsage
	}
	dir := fs.Arg(0)
	if st, err := os.Stat(dir); err != nil {
		return err
	} else if !st.IsDir() {
		return fmt.Errorf("%s is not a folder: give the folder that holds %s or %s", dir, results.ComparisonFile, results.JobsFile)
	}
	var (
		files []string
		err   error
	)
	switch {
	case isFile(filepath.Join(dir, results.ComparisonFile)):
		files, err = plots.Comparison(dir)
	case isFile(filepath.Join(dir, results.JobsFile)) || isFile(filepath.Join(dir, results.FormatParquet.File("jobs"))):
		files, err = plots.Run(dir)
	default:
		return fmt.Errorf("%s holds neither %s (neosim compare) nor %s (neosim run): nothing to plot",
			dir, results.ComparisonFile, results.JobsFile)
	}
	for _, f := range files {
		fmt.Fprintln(stdout, f)
	}
	return err
}

// isFile reports whether path is a regular file.
func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// drawAndList draws plots and lists the files on one line, unless quiet.
func drawAndList(w io.Writer, quiet bool, draw func() ([]string, error)) error {
	files, err := draw()
	if err != nil {
		return err
	}
	if !quiet && len(files) > 0 {
		var names []string
		for _, f := range files {
			names = append(names, filepath.Base(f))
		}
		fmt.Fprintf(w, "plots in %s/: %s\n", filepath.Dir(files[0]), strings.Join(names, " "))
	}
	return nil
}
