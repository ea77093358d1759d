package runner

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"neosim/internal/arrowtest"
	"neosim/scenario"
	"neosim/sim"
)

// replayScenario is a 64-GPU fleet replaying a trace of n one-GPU jobs, one
// submitted every hour from 0, each running 30 minutes.
func replayScenario(t *testing.T, n int) *scenario.Scenario {
	t.Helper()
	var b strings.Builder
	b.WriteString("job_id,submit_s,gpus,duration_s\n")
	for i := range n {
		fmt.Fprintf(&b, "j%d,%d,1,1800\n", i, i*3600)
	}
	trace := filepath.Join(t.TempDir(), "jobs.csv")
	if err := os.WriteFile(trace, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	s := scenario.Default()
	s.Fleet = scenario.Fleet{Spec: "8x8xH100"}
	s.Failures = nil
	s.Trace = trace
	return s
}

// TestJobsAfterHorizon: with a horizon, the trace jobs submitted after it
// are counted in the summary and named on one warning line, and the engine
// simulates exactly the others.
func TestJobsAfterHorizon(t *testing.T) {
	s := replayScenario(t, 10)
	f := false
	s.External = &f
	s.Horizon = scenario.Duration(4*sim.Hour + 30*sim.Minute) // jobs at 0h … 4h
	var warn bytes.Buffer
	res, err := Run(s, Options{Out: filepath.Join(t.TempDir(), "out"), Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Jobs != 5 || res.Summary.JobsAfterHorizon != 5 {
		t.Errorf("%d jobs simulated, %d after the horizon; want 5 and 5", res.Summary.Jobs, res.Summary.JobsAfterHorizon)
	}
	if !strings.Contains(warn.String(), "5 jobs submitted after the horizon (4h30m) were not simulated") {
		t.Errorf("warnings: %q", warn.String())
	}
	// A job submitted exactly at the horizon is simulated, as the engine
	// processes events at the horizon.
	s = replayScenario(t, 10)
	s.External = &f
	s.Horizon = scenario.Duration(4 * sim.Hour)
	if res, err = Run(s, Options{Out: filepath.Join(t.TempDir(), "out")}); err != nil {
		t.Fatal(err)
	}
	if res.Summary.Jobs != 5 || res.Summary.JobsAfterHorizon != 5 {
		t.Errorf("horizon at a submit time: %d jobs, %d after; want 5 and 5", res.Summary.Jobs, res.Summary.JobsAfterHorizon)
	}
}

// TestJobsAfterHorizonBadTail: rows after the horizon are counted from the
// file's structure alone: a bad value there is not a job anyone simulates,
// while a row that breaks the structure stops the count, with a warning.
func TestJobsAfterHorizonBadTail(t *testing.T) {
	for _, tc := range []struct {
		tail, warn string
		after      int64
	}{
		{"x,99999,many,10\n", "6 jobs submitted after the horizon", 6},
		{"x,99999,1\n", "counting stopped at a bad row", 5},
	} {
		s := replayScenario(t, 10)
		f, err := os.OpenFile(s.Trace, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(tc.tail)
		f.Close()
		off := false
		s.External = &off
		s.Horizon = scenario.Duration(4*sim.Hour + 30*sim.Minute)
		var warn bytes.Buffer
		res, err := Run(s, Options{Out: filepath.Join(t.TempDir(), "out"), Warn: &warn})
		if err != nil {
			t.Fatal(err)
		}
		if res.Summary.Jobs != 5 || res.Summary.JobsAfterHorizon != tc.after || !strings.Contains(warn.String(), tc.warn) {
			t.Errorf("tail %q: %d jobs, %d after the horizon, warnings %q; want 5, %d and %q",
				tc.tail, res.Summary.Jobs, res.Summary.JobsAfterHorizon, warn.String(), tc.after, tc.warn)
		}
	}
}

// TestReplayWholeTrace: with no horizon, every trace job runs to its end,
// and the synthetic external demand stops arriving at the trace's last
// arrival (the run ends instead of generating forever).
func TestReplayWholeTrace(t *testing.T) {
	s := replayScenario(t, 48)
	s.Horizon = 0
	out := filepath.Join(t.TempDir(), "out")
	res, err := Run(s, Options{Out: out})
	if err != nil {
		t.Fatal(err)
	}
	submits, _ := arrowtest.Column(t, filepath.Join(out, "jobs.arrow"), "submit_s")
	if last := slices.Max(submits); last > 47*3600 {
		t.Errorf("a job arrived at %vs, after the trace's last arrival (47h)", last)
	}
	st := res.Stats
	if got := st.Jobs[sim.SegInternal][sim.Completed]; got != 48 {
		t.Errorf("%d of 48 trace jobs completed (%v)", got, st.Jobs[sim.SegInternal])
	}
	var external int64
	for seg := sim.Segment(0); seg < sim.NumSegments; seg++ {
		if seg.External() {
			for _, n := range st.Jobs[seg] {
				external += n
			}
		}
	}
	if external == 0 {
		t.Errorf("no external job arrived: the synthetic sources should run until the trace's last arrival")
	}
	if res.Summary.JobsAfterHorizon != 0 {
		t.Errorf("jobs_after_horizon %d without a horizon", res.Summary.JobsAfterHorizon)
	}
	t.Logf("ended at %v with %d external jobs", st.End, external)
}
