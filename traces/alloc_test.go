package traces

import (
	"path/filepath"
	"testing"

	"neosim/sim"
)

// TestReadAllocsPerRow checks that a reader in steady state allocates once
// per row: the job_id (for CSV, the record string it shares; for Arrow and
// Parquet, its copy out of the batch). The duplicate table's growth adds a
// little, amortized.
func TestReadAllocsPerRow(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 20k rows per format")
	}
	const rows = 20_000
	jobs := genJobs(rows, 5)
	for _, ext := range []string{".csv", ".arrow", ".parquet"} {
		t.Run(ext, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jobs"+ext)
			if err := Write(path, seq(jobs)); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var s sim.JobSpec
			for range 2000 { // warm up: first batch, caches
				if !r.Next(&s) {
					t.Fatal(r.Err())
				}
			}
			avg := testing.AllocsPerRun(10_000, func() {
				if !r.Next(&s) {
					t.Fatal("trace ended early:", r.Err())
				}
			})
			if avg > 1.1 {
				t.Errorf("%.2f allocations per row; want ≤ 1.1 (one for the job_id)", avg)
			}
			t.Logf("%s: %.3f allocs/row", ext, avg)
		})
	}
}
