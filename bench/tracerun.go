package bench

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"neosim/results"
	"neosim/runner"
	"neosim/scenario"
	"neosim/sim"
)

// The trace-replay measure (SuiteConfig.TraceJobs): a canonical CSV trace
// of TraceJobs jobs of run-100k's workload, replayed on run-100k's fleet
// with fifo and no external demand until every job has ended, as a whole
// neosim process (reading, simulating and writing every output file).
// Issue 18's goal for a million jobs is one second.
const (
	traceWorkload = "run-100k"     // the scenario whose workload the trace draws
	traceFleet    = "12500x8xH100" // run-100k's fleet: 100,000 GPUs
	traceGPUs     = 100_000
)

// traceArgs are the arguments of `neosim run` that replay the trace at
// path into out.
func traceArgs(path, out string) []string {
	return []string{"run", "--trace", path, "--fleet", traceFleet, "--allocator", "fifo",
		"--external=false", "--horizon", "0", "--quiet", "--out", out}
}

// traceSource returns the first n jobs of run-100k's workload, as a run
// of run-100k draws them.
func traceSource(n int64) (sim.Source, error) {
	s, err := LoadScenario(traceWorkload)
	if err != nil {
		return nil, err
	}
	s.Horizon = 0 // the workload stops at max_jobs, not at run-100k's 30 days
	for i := range s.Workloads {
		s.Workloads[i].MaxJobs = n
	}
	srcs, closers, err := runner.Sources(s, io.Discard)
	if err == nil && (len(srcs) != 1 || len(closers) != 0) {
		err = fmt.Errorf("bench: %s has %d job sources and %d files; the trace needs one generated source", traceWorkload, len(srcs), len(closers))
	}
	if err != nil {
		return nil, err
	}
	return srcs[0], nil
}

// writeCSVTrace writes the first n jobs of run-100k's workload to path as a
// canonical CSV trace with the four required columns (job_id, submit_s,
// gpus, duration_s), times in seconds with six decimals (exact: the
// engine counts microseconds).
func writeCSVTrace(path string, n int64) error {
	src, err := traceSource(n)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	// Written whole or not at all, and on disk before the replay is timed:
	// the kernel's write-back of a fresh file would otherwise run during it.
	return results.WriteFileAtomically(path, func(out io.Writer) error {
		w := csv.NewWriter(out)
		seconds := func(t sim.Time) string { return strconv.FormatFloat(t.Seconds(), 'f', 6, 64) } // µs, the engine's tick
		if err := w.Write([]string{"job_id", "submit_s", "gpus", "duration_s"}); err != nil {
			return fmt.Errorf("bench: %s: %w", path, err)
		}
		var spec sim.JobSpec
		var rows int64
		for ; rows < n && src.Next(&spec); rows++ {
			if err := w.Write([]string{spec.ID, seconds(spec.Submit), strconv.Itoa(int(spec.GPUs)), seconds(spec.Work)}); err != nil {
				return fmt.Errorf("bench: %s: %w", path, err)
			}
		}
		if err := src.Err(); err != nil {
			return err
		}
		if rows < n {
			return fmt.Errorf("bench: %s's workload gave %d jobs, not %d", traceWorkload, rows, n)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return fmt.Errorf("bench: %s: %w", path, err)
		}
		return nil
	})
}

// measureTrace writes the trace, replays it and returns a "trace" row:
// WallS is the replay's whole wall time: a neosim process with
// cfg.Process, otherwise a runner.Run in this process (the scenario
// `neosim run` builds from the same flags).
func measureTrace(cfg *SuiteConfig) (Row, error) {
	dir := filepath.Join(cfg.RunsDir, "trace")
	if !cfg.KeepRuns {
		defer os.RemoveAll(dir)
	}
	n := cfg.TraceJobs
	path, out := filepath.Join(dir, "jobs.csv"), filepath.Join(dir, "run")
	fmt.Fprintf(cfg.progress(), "suite: trace replay: writing %d jobs of %s's workload to %s\n", n, traceWorkload, path)
	if err := writeCSVTrace(path, n); err != nil {
		return Row{}, err
	}
	fmt.Fprintf(cfg.progress(), "suite: trace replay: %d jobs on %d GPUs, fifo\n", n, traceGPUs)
	name := "canonical-csv-fifo"
	start := time.Now()
	if cfg.Process != nil {
		cmd := cfg.Process(traceArgs(path, out)...)
		if b, err := cmd.CombinedOutput(); err != nil {
			return Row{}, fmt.Errorf("trace replay %v: %w: %s", cmd.Args, err, b)
		}
	} else {
		name += "-in-process"
		s := scenario.Default()
		fleet, fifo, external, horizon := traceFleet, "fifo", false, sim.Time(0)
		o := runner.Overrides{Trace: &path, Fleet: &fleet, Allocator: &fifo, External: &external, Horizon: &horizon}
		if err := o.Apply(s, false); err != nil {
			return Row{}, err
		}
		if _, err := runner.Run(s, runner.Options{Out: out}); err != nil {
			return Row{}, err
		}
	}
	wall := time.Since(start).Seconds()
	var run struct {
		EndS   float64 `json:"end_s"`
		Events int64   `json:"events"`
	}
	b, err := os.ReadFile(filepath.Join(out, results.RunFile))
	if err == nil {
		err = json.Unmarshal(b, &run)
	}
	if err != nil {
		return Row{}, fmt.Errorf("trace replay: reading its run.json: %w", err)
	}
	return Row{Kind: "trace", Name: name, GPUs: traceGPUs, HorizonDays: run.EndS / 86400, Jobs: n,
		Events: run.Events, WallS: wall}, nil
}
