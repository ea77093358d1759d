package results_test

import (
	"path/filepath"
	"testing"

	"neosim/results"
	"neosim/runner"
	"neosim/scenario"
	"neosim/sim"
)

// TestParquetRunMatchesArrow runs the default scenario (two simulated days,
// failures on) twice through the runner, as `neosim run` and `neosim run
// --format parquet` do, and compares every Parquet file, read back with
// arrow-go's Parquet reader, with its Arrow IPC twin: the same schema,
// metadata and values.
func TestParquetRunMatchesArrow(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole run")
	}
	root := t.TempDir()
	var dirs [2]string
	for i, f := range []results.Format{results.FormatArrow, results.FormatParquet} {
		s := scenario.Default()
		s.Horizon = scenario.Duration(2 * sim.Day)
		dirs[i] = filepath.Join(root, f.String())
		if _, err := runner.Run(s, runner.Options{Out: dirs[i], Format: f}); err != nil {
			t.Fatal(err)
		}
	}
	results.CompareRunFormats(t, dirs[0], dirs[1])
}
