package bench

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"neosim/runner"
	"neosim/scenario"
	"neosim/sim"
	"neosim/traces"
)

// BenchmarkReplay10M replays a generated 10,000,000-row canonical trace
// (Arrow IPC) on 100,000 H100s with fifo and writes every output
// file. The trace is written once, outside the timed part. It reports rows
// per wall second and the process's peak RSS: the reader streams and the
// engine keeps only the jobs in flight, so memory must not grow with the
// trace (goal: under 1 GB). Run it alone for a clean RSS:
//
//	go test -run '^$' -bench Replay10M -benchtime 1x ./bench/
func BenchmarkReplay10M(b *testing.B) {
	const rows = 10_000_000
	dir := b.TempDir()
	trace := filepath.Join(dir, "trace.arrow")
	writeTrace(b, trace, rows)

	s := &scenario.Scenario{Name: "replay-10m", Trace: trace, Fleet: scenario.Fleet{Spec: "12500x8xH100"}}
	s.EnsureDefaults()
	s.SampleInterval = scenario.Duration(sim.Hour)
	var events int64
	b.ResetTimer()
	for b.Loop() {
		res, err := runner.Run(s, runner.Options{Out: filepath.Join(dir, "out")})
		if err != nil {
			b.Fatal(err)
		}
		if res.Summary.Jobs != rows {
			b.Fatalf("%d jobs in the output, want %d", res.Summary.Jobs, rows)
		}
		events += res.Stats.Events
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(rows)*float64(b.N)/sec, "rows/s")
	b.ReportMetric(float64(events)/sec, "events/s")
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
	}
}

// writeTrace writes the first rows jobs of run-100k.yaml's workload (about
// 65% load on 100,000 GPUs) to path.
func writeTrace(b *testing.B, path string, rows int64) {
	src, err := traceSource(rows)
	if err != nil {
		b.Fatal(err)
	}
	tw, err := traces.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer tw.Abort()
	var j sim.JobSpec
	for src.Next(&j) {
		if err := tw.Write(&j); err != nil {
			b.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		b.Fatal(err)
	}
	if st, err := os.Stat(path); err == nil {
		b.Logf("trace: %d rows, %.0f MiB", rows, float64(st.Size())/(1<<20))
	}
}
