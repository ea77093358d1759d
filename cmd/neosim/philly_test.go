package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"neosim/internal/arrowtest"
	"neosim/internal/sharedtest"
	"neosim/sim"
	"neosim/traces"
)

// TestPhillyReplay replays the whole Philly job list on the fleet imported
// from its machine list, without failures: every job is accounted for
// (completed, or rejected with a reason), and the GPU-hours of the completed
// jobs equal the trace's total.
func TestPhillyReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("long replay")
	}
	shared := sharedtest.Traces(t)
	trace := filepath.Join(shared, "philly-2017", "philly_jobs_pollux.csv")
	machines := filepath.Join(shared, "philly-2017", "cluster_machine_list.csv")

	// The trace's own total, from the adapter.
	src, format, err := traces.OpenAs(trace, "", traces.Options{Warn: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	if format != "philly" {
		t.Fatalf("detected %q, want philly", format)
	}
	var want float64
	var jobs int
	var j sim.JobSpec
	for src.Next(&j) {
		want += float64(j.GPUs) * j.Work.Hours()
		jobs++
	}
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	src.Close()
	if jobs != 82_247 || math.Abs(want-978_078) > 1 {
		t.Fatalf("trace: %d jobs, %.1f GPU-hours; SOURCE.md says 82,247 and 978,078", jobs, want)
	}

	dir := t.TempDir()
	sc := writeFile(t, dir, "philly.yaml", "name: philly\nfleet: {file: "+machines+"}\ntrace: "+trace+"\n")
	out := filepath.Join(dir, "out")
	if code, _, stderr := neosim(t, "run", "--quiet", "--scenario", sc, "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	gpuHours, _ := arrowtest.Column(t, filepath.Join(out, "jobs.arrow"), "gpu_hours")
	lost, _ := arrowtest.Column(t, filepath.Join(out, "jobs.arrow"), "lost_gpu_hours")
	_, states := arrowtest.Column(t, filepath.Join(out, "jobs.arrow"), "state")
	_, reasons := arrowtest.Column(t, filepath.Join(out, "jobs.arrow"), "reason")
	if len(states) != jobs {
		t.Fatalf("jobs.arrow has %d rows, the trace %d jobs", len(states), jobs)
	}
	var got float64
	count := map[string]int{}
	for i, s := range states {
		count[s]++
		switch s {
		case "completed":
			got += gpuHours[i]
			if lost[i] != 0 {
				t.Fatalf("row %d lost %v GPU-hours in a run without failures or preemption", i, lost[i])
			}
		case "rejected":
			if reasons[i] == "" {
				t.Fatalf("row %d rejected without a reason", i)
			}
			t.Errorf("row %d rejected: %s", i, reasons[i])
		default:
			t.Fatalf("row %d ended %s", i, s)
		}
	}
	if math.Abs(got-want) > 1e-9*want {
		t.Errorf("completed jobs held %.6f GPU-hours; the trace's total is %.6f", got, want)
	}
	t.Logf("Philly replay: %v; %.3f GPU-hours completed (trace %.3f)", count, got, want)
}
