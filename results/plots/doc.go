// Package plots draws a run's and a comparison's figures from their saved
// output files, with gonum.org/v1/plot, each as NAME.png and NAME.svg in the
// folder that holds the data (docs/plots.md shows every plot):
//
//	Run(dir), a run folder (jobs.arrow, timeseries.arrow):
//	  utilization  busy share of the fleet's GPUs over time, stacked by segment
//	  spot_price   the spot price over time (a note instead of a line when the
//	               pricer quotes none: the files always exist)
//	  wait_cdf     empirical CDF of the waits of the jobs that started, per segment
//
//	Comparison(dir), a comparison folder (comparison.arrow and the run dataset
//	[variant=V/]allocator=A/pricer=P/seed=N/summary.arrow):
//	  frontier     net value vs internal delay caused, 95% CI bars, Pareto
//	               frontier highlighted and joined
//	  breakdown    per pair: external revenue by segment vs external cost by kind,
//	               averaged over the pair's runs
//
// The package owns the figures only: it reads the files through their
// documented columns (docs/output-schema.md, docs/compare.md), by name, and
// never writes data.
//
// Invariants:
//   - Memory does not grow with a run's length beyond 4 bytes per started job:
//     jobs.arrow is streamed batch by batch, keeping each wait as a float32;
//     a curve has at most maxPoints points (timeseries are averaged over
//     buckets, CDFs sampled at evenly spaced probabilities).
//   - Every figure is drawn in memory first; files are written under a
//     temporary name (".NAME.png.tmp") and renamed into place, so a failure
//     leaves no half-written file, and a data error leaves no file at all.
//   - The same data gives byte-identical SVG files (and, with this version of
//     the library, PNG files).
//   - Errors are prefixed "plots: " and name the file and the column that is
//     missing or malformed.
package plots
