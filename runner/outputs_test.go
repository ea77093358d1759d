package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"neosim/results"
	"neosim/sim"
)

// TestSummaryOnly: a run writing only its summary leaves no jobs or
// timeseries file (nor an earlier run's), and its summary, the
// counterfactual's measures included, is the full run's.
func TestSummaryOnly(t *testing.T) {
	s := defaultFor(t, 3*sim.Day)
	full, err := Run(s, Options{Out: filepath.Join(t.TempDir(), "full")})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "only")
	if _, err := Run(defaultFor(t, 3*sim.Day), Options{Out: dir}); err != nil { // an earlier run in the folder
		t.Fatal(err)
	}
	only, err := Run(defaultFor(t, 3*sim.Day), Options{Out: dir, Outputs: results.OutSummary})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{results.JobsFile, results.TimeseriesFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s is there with --outputs summary (%v)", f, err)
		}
	}
	for _, f := range []string{results.SummaryFile, results.RunFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if c := full.Summary.Counterfactual; c == nil || c.Self {
		t.Fatal("the full run has no counterfactual of its own to compare")
	}
	if a, b := printed(full.Summary), printed(only.Summary); a != b {
		t.Errorf("summaries differ:\nall outputs  %s\nsummary only %s", a, b)
	}
}

// printed returns the summary's printed form (in which NaN equals NaN),
// its pointers followed.
func printed(s results.Summary) string {
	e, c := s.Econ, s.Counterfactual
	s.Econ, s.Counterfactual = nil, nil
	return fmt.Sprintf("%+v %+v %+v", s, e, c)
}
