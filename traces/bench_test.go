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

// BenchmarkNextCSV measures one Next in steady state: allocs/op should be
// 1, the CSV record whose string the job_id shares.
func BenchmarkNextCSV(b *testing.B) {
	path := benchTrace(b, 200_000, ".csv")
	r, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
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
}
