package runner

import (
	"math"
	"path/filepath"
	"testing"

	"neosim/internal/arrowtest"
	"neosim/results"
	"neosim/scenario"
	"neosim/sim"
)

// TestWarmup: a warm-up changes no job's fate (every jobs.arrow column but
// in_window is the same), the summary counts exactly the jobs marked
// in_window, and its GPU-hours are exactly what the jobs held inside
// [warmup, end] (fifo without failures: each job runs once, so its held
// time is one interval [start_s, start_s + run_s]).
func TestWarmup(t *testing.T) {
	base := func() *scenario.Scenario {
		s := defaultFor(t, 4*sim.Day)
		s.Allocator = "fifo"
		return s
	}
	dir := t.TempDir()
	plain, err := Run(base(), Options{Out: filepath.Join(dir, "plain"), NoCounterfactual: true})
	if err != nil {
		t.Fatal(err)
	}
	s := base()
	const warm = 1.5 * 24 * 3600
	s.Warmup = scenario.Duration(sim.FromSeconds(warm))
	win, err := Run(s, Options{Out: filepath.Join(dir, "warm"), NoCounterfactual: true})
	if err != nil {
		t.Fatal(err)
	}
	pf, wf := filepath.Join(plain.Out, results.JobsFile), filepath.Join(win.Out, results.JobsFile)
	for _, col := range []string{"submit_s", "start_s", "end_s", "run_s", "gpu_hours", "revenue_usd", "preemptions"} {
		a, _ := arrowtest.Column(t, pf, col)
		b, _ := arrowtest.Column(t, wf, col)
		for i := range a {
			if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
				t.Fatalf("%s row %d: %v without a warm-up, %v with one: the warm-up changed the run", col, i, a[i], b[i])
			}
		}
	}
	submit, _ := arrowtest.Column(t, wf, "submit_s")
	start, _ := arrowtest.Column(t, wf, "start_s")
	run, _ := arrowtest.Column(t, wf, "run_s")
	gpus, _ := arrowtest.Column(t, wf, "gpus")
	milli, _ := arrowtest.Column(t, wf, "gpu_milli")
	pre, _ := arrowtest.Column(t, wf, "preemptions")
	fails, _ := arrowtest.Column(t, wf, "failures")
	inWindow := arrowtest.Bools(t, wf, "in_window")
	end := win.Summary.EndS
	var n int64
	var held float64
	for i := range submit {
		if inWindow[i] != (submit[i] >= warm) {
			t.Fatalf("row %d submitted at %vs: in_window = %v", i, submit[i], inWindow[i])
		}
		if inWindow[i] {
			n++
		}
		if pre[i] != 0 || fails[i] != 0 {
			t.Fatalf("row %d was interrupted: the exact GPU-hour check needs one run per job", i)
		}
		if math.IsNaN(start[i]) {
			continue
		}
		overlap := math.Min(start[i]+run[i], end) - math.Max(start[i], warm)
		held += math.Max(0, overlap) * gpus[i] * milli[i] / 1000 / 3600
	}
	sum := win.Summary
	if sum.Jobs != n || n == 0 || n == int64(len(submit)) {
		t.Errorf("summary jobs_total = %d, in_window rows %d of %d", sum.Jobs, n, len(submit))
	}
	if math.Abs(sum.GPUHours-held) > 1e-9*held {
		t.Errorf("summary gpu_hours = %.6f, want Σ held inside the window %.6f", sum.GPUHours, held)
	}
	if e := sum.Econ; math.Abs(e.BusyGPUHours-held) > 1e-6*held || math.Abs(e.CapacityGPUHours-float64(sum.GPUsTotal)*(end-warm)/3600) > 1e-6 {
		t.Errorf("ledger busy %.3f GPU-h (want %.3f), capacity %.3f", e.BusyGPUHours, held, e.CapacityGPUHours)
	}
	if sum.WarmupS != warm || plain.Summary.WarmupS != 0 {
		t.Errorf("warmup_s = %v and %v, want %v and 0", sum.WarmupS, plain.Summary.WarmupS, warm)
	}
}
