// Package results writes a run's output files, a versioned contract with the
// notebooks and tools that read them (docs/output-schema.md describes it):
//
//	<dir>/jobs.arrow        one row per job, written as jobs end
//	<dir>/timeseries.arrow  one row per metrics sample
//	<dir>/summary.arrow     one row per run
//	<dir>/run.json          what ran: version, seed, policies, wall time, resolved scenario
//
// The .arrow files are Arrow IPC files (the "Feather v2" format) with
// LZ4-compressed buffers, written in record batches of BatchRows rows, so
// memory does not grow with the number of jobs (only the per-segment
// nonzero wait times kept for exact quantiles do: 4 bytes per job that
// waited). Each file's schema metadata carries MetaSchemaVersion and
// MetaFile. With FormatParquet the same tables go to jobs.parquet,
// timeseries.parquet and summary.parquet (zstd, a row group per batch,
// the same metadata).
//
// The package also owns the comparison table of many runs
// (comparison.arrow: ComparisonMetrics over seeds, WriteComparison) and
// reads a run's metrics back from its summary file (ReadMetricValues);
// subpackage plots draws figures from saved output.
//
// A Writer is a sim.Observer. Its hot path (JobEnded, Sampled) only appends to
// columns (jobs.arrow's are plain Go slices, columns.go; the others arrow-go's
// builders) and, every BatchRows rows, hands a record batch to a goroutine
// that compresses and writes the batches in order (so the bytes are those of
// a serial write).
//
// Invariants:
//   - Every file is written under a temporary name (".jobs.arrow.tmp", …) and
//     renamed into place only by Commit, run.json last; Abort, or a failed
//     Commit, removes the temporary files and the folders Create made. A
//     folder holding run.json therefore holds a complete run.
//   - jobs.arrow, timeseries.arrow and summary.arrow hold no wall-clock time:
//     the same run (same seed, scenario and code) gives byte-identical files.
//     Wall time goes to run.json only.
package results
