package traces

import (
	"path/filepath"
	"testing"

	"neosim/sim"
)

// benchTrace writes n generated jobs to a temporary file with the given
// extension.
func benchTrace(b *testing.B, n int, ext string) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "jobs"+ext)
	if err := Write(path, seq(genJobs(n, 42))); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchRead(b *testing.B, ext string) {
	const rows = 100_000
	path := benchTrace(b, rows, ext)
	b.ReportAllocs()
	var s sim.JobSpec
	for b.Loop() {
		r, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for r.Next(&s) {
			n++
		}
		if r.Err() != nil || n != rows {
			b.Fatalf("read %d rows, err %v", n, r.Err())
		}
		r.Close()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReadCSV reads a 100k-row CSV trace per op.
func BenchmarkReadCSV(b *testing.B)     { benchRead(b, ".csv") }
func BenchmarkReadArrow(b *testing.B)   { benchRead(b, ".arrow") }
func BenchmarkReadParquet(b *testing.B) { benchRead(b, ".parquet") }

// BenchmarkNext measures one Next in steady state, the file opened once:
// allocs/op should be 1, the job_id (for CSV, the record string it shares;
// for Arrow and Parquet, its copy out of the batch).
func BenchmarkNext(b *testing.B) {
	for _, ext := range []string{".csv", ".arrow", ".parquet"} {
		b.Run(ext[1:], func(b *testing.B) { benchNext(b, ext) })
	}
}

// BenchmarkNextCSV is BenchmarkNext/csv, kept for comparisons with older
// results.
func BenchmarkNextCSV(b *testing.B) { benchNext(b, ".csv") }

func benchNext(b *testing.B, ext string) {
	path := benchTrace(b, 200_000, ext)
	r, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { r.Close() }()
	var s sim.JobSpec
	for range 1000 { // warm the caches
		r.Next(&s)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !r.Next(&s) {
			b.StopTimer()
			if r.Err() != nil {
				b.Fatal(r.Err())
			}
			r.Close()
			if r, err = Open(path, Options{}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
