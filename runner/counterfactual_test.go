package runner

import (
	"bytes"
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"neosim/internal/arrowtest"
	"neosim/results"
	"neosim/scenario"
	"neosim/sim"
)

// fcfsJob is one row of the exact-FCFS test trace.
type fcfsJob struct {
	id               string
	external         bool
	submit, duration int64 // seconds
}

// fcfsWaits is an independent exact FCFS computation on c identical
// one-GPU servers: job i starts at max(its submit, the earliest time a
// server is free), in submit order. It returns each job's wait in seconds.
func fcfsWaits(jobs []fcfsJob, c int) map[string]int64 {
	free := make(intHeap, c) // the times the servers become free
	waits := map[string]int64{}
	for _, j := range jobs {
		start := max(j.submit, free[0])
		waits[j.id] = start - j.submit
		free[0] = start + j.duration
		heap.Fix(&free, 0)
	}
	return waits
}

type intHeap []int64

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *intHeap) Pop() any          { old := *h; x := old[len(old)-1]; *h = old[:len(old)-1]; return x }

// TestCounterfactualExactFCFS: one-GPU internal and on-demand jobs on 16
// one-GPU nodes under fifo without failures. The run's internal waiting,
// its counterfactual's (the trace without its on-demand rows) and the
// delay between them equal an exact FCFS computation, per job and in sum.
func TestCounterfactualExactFCFS(t *testing.T) {
	const servers = 16
	r := rand.New(rand.NewPCG(7, 7))
	var jobs []fcfsJob
	var sb strings.Builder
	sb.WriteString("job_id,submit_s,gpus,duration_s,segment\n")
	at := int64(0)
	for i := range 3000 {
		at += 1 + int64(r.ExpFloat64()*70) // ~0.9 load: 16 servers, mean 1,000 s jobs
		ext := r.IntN(3) == 0
		j := fcfsJob{id: fmt.Sprintf("j%d", i), external: ext, submit: at, duration: 1 + int64(r.ExpFloat64()*1000)}
		jobs = append(jobs, j)
		seg := "internal"
		if ext {
			seg = "on-demand"
		}
		fmt.Fprintf(&sb, "%s,%d,1,%d,%s\n", j.id, j.submit, j.duration, seg)
	}
	dir := t.TempDir()
	trace := filepath.Join(dir, "jobs.csv")
	if err := os.WriteFile(trace, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	all := fcfsWaits(jobs, servers)
	var internal []fcfsJob
	for _, j := range jobs {
		if !j.external {
			internal = append(internal, j)
		}
	}
	alone := fcfsWaits(internal, servers)
	var waitAll, waitAlone float64 // internal GPU-hours queued
	for _, j := range internal {
		waitAll += float64(all[j.id]) / 3600
		waitAlone += float64(alone[j.id]) / 3600
	}
	if waitAll-waitAlone < 10 {
		t.Fatalf("the test trace is too light: selling adds only %.1f GPU-h of internal waiting", waitAll-waitAlone)
	}

	s := scenario.Default()
	off := false
	s.Trace, s.Fleet = trace, scenario.Fleet{Spec: fmt.Sprintf("%dx1xH100", servers)}
	s.Allocator, s.Pricer, s.External, s.Failures, s.Horizon = "fifo", "flat", &off, nil, 0
	s.Frontier, s.ExternalDemand, s.Workloads, s.Warmup = nil, nil, nil, 0
	res, err := Run(s, Options{Out: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	e := res.Summary.Econ
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %.9f, want %.9f (exact FCFS)", what, got, want)
		}
	}
	near("internal_wait_gpu_hours", e.InternalWaitGPUHours, waitAll)
	near("internal_wait_gpu_hours_counterfactual", e.CounterfactualWaitGPUHours, waitAlone)
	near("internal_delay_caused_gpu_hours", e.DelayCausedGPUHours, waitAll-waitAlone)
	near("internal_delay_caused_usd", e.DelayCausedUSD, (waitAll-waitAlone)*s.Cost.DelayUSDPerGPUHour)

	// Per job: wait_s and wait_s_counterfactual in jobs.arrow.
	jobsFile := filepath.Join(res.Out, results.JobsFile)
	_, ids := arrowtest.Column(t, jobsFile, "job_id")
	wait, _ := arrowtest.Column(t, jobsFile, "wait_s")
	cfWait, _ := arrowtest.Column(t, jobsFile, "wait_s_counterfactual")
	_, segs := arrowtest.Column(t, jobsFile, "segment")
	if len(ids) != len(jobs) {
		t.Fatalf("jobs.arrow has %d rows, want %d", len(ids), len(jobs))
	}
	bad := 0
	for i, id := range ids {
		if wait[i] != float64(all[id]) {
			bad++
		}
		if segs[i] == "internal" {
			if cfWait[i] != float64(alone[id]) {
				bad++
			}
		} else if !math.IsNaN(cfWait[i]) {
			t.Errorf("%s (%s): wait_s_counterfactual = %v, want null", id, segs[i], cfWait[i])
		}
	}
	if bad > 0 {
		t.Errorf("%d waits differ from exact FCFS", bad)
	}

	// Without the external rows the run is its own counterfactual: no
	// delay, no value, exactly.
	var sbInt strings.Builder
	sbInt.WriteString("job_id,submit_s,gpus,duration_s,segment\n")
	for _, j := range internal {
		fmt.Fprintf(&sbInt, "%s,%d,1,%d,internal\n", j.id, j.submit, j.duration)
	}
	if err := os.WriteFile(trace, []byte(sbInt.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = Run(s, Options{Out: filepath.Join(dir, "internal")})
	if err != nil {
		t.Fatal(err)
	}
	e = res.Summary.Econ
	near("internal-only internal_wait_gpu_hours", e.InternalWaitGPUHours, waitAlone)
	if e.DelayCausedGPUHours != 0 || e.DelayCausedUSD != 0 || e.NetValueUSD != 0 {
		t.Errorf("internal-only trace: caused delay %v GPU-h, $%v, net value $%v; want 0 exactly", e.DelayCausedGPUHours, e.DelayCausedUSD, e.NetValueUSD)
	}
}

// TestNoExternalNoValue: with --external=false on the default scenario,
// the caused delay and the net value are exactly 0.
func TestNoExternalNoValue(t *testing.T) {
	s := defaultFor(t, 30*sim.Day)
	off := false
	s.External = &off
	res, err := Run(s, Options{Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e := res.Summary.Econ
	if e.DelayCausedGPUHours != 0 || e.NetValueUSD != 0 || e.InternalWaitGPUHours == 0 {
		t.Errorf("--external=false: caused delay %v GPU-h, net value $%v (internal wait %v GPU-h); want 0, 0 and a positive wait",
			e.DelayCausedGPUHours, e.NetValueUSD, e.InternalWaitGPUHours)
	}
}

// runTrace writes a 200-job canonical trace, with a segment column if
// segment is set, and replays it on 4 GPUs with external demand off, into
// dir/name.
func runTrace(t *testing.T, dir, name string, segment func(i int) string) *Result {
	t.Helper()
	var sb strings.Builder
	sb.WriteString("job_id,submit_s,gpus,duration_s")
	if segment != nil {
		sb.WriteString(",segment")
	}
	sb.WriteString("\n")
	for i := range 200 {
		fmt.Fprintf(&sb, "j%d,%d,1,%d", i, i*10, 100+i%7*50)
		if segment != nil {
			sb.WriteString("," + segment(i))
		}
		sb.WriteString("\n")
	}
	res, err := replayCSV(t, dir, name, sb.String())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// replayCSV writes content to dir/name.csv and replays it on 4 GPUs with
// fifo and external demand off, into dir/name.
func replayCSV(t *testing.T, dir, name, content string) (*Result, error) {
	t.Helper()
	trace := filepath.Join(dir, name+".csv")
	if err := os.WriteFile(trace, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	s := scenario.Default()
	off := false
	s.Trace, s.Fleet = trace, scenario.Fleet{Spec: "4x1xH100"}
	s.Allocator, s.Pricer, s.External, s.Failures, s.Horizon, s.Warmup = "fifo", "flat", &off, nil, 0, 0
	return Run(s, Options{Out: filepath.Join(dir, name)})
}

// TestInternalTraceIsItsOwnCounterfactual: a trace whose format has no
// segment column holds internal work only, so the run is not simulated a
// second time: it is its own counterfactual, with no caused delay.
func TestInternalTraceIsItsOwnCounterfactual(t *testing.T) {
	res := runTrace(t, t.TempDir(), "out", nil)
	c, e := res.Summary.Counterfactual, res.Summary.Econ
	if c == nil || !c.Self || e.DelayCausedGPUHours != 0 || e.InternalWaitGPUHours == 0 {
		t.Errorf("counterfactual %+v, caused delay %v, internal wait %v: want the run as its own counterfactual, 0 caused, some waiting", c, e.DelayCausedGPUHours, e.InternalWaitGPUHours)
	}
}

// TestSegmentColumnInternalTrace: a canonical trace whose segment column
// names internal work only is read for an external row beside the run
// (traces.ExternalRows) and, having none, is its own counterfactual: its
// data files are byte-identical to those of the same trace without the
// column. One external row, the last, brings the counterfactual back.
func TestSegmentColumnInternalTrace(t *testing.T) {
	dir := t.TempDir()
	run := func(name string, segment func(i int) string) *Result { return runTrace(t, dir, name, segment) }
	bare := run("bare", nil)
	internal := run("internal", func(i int) string { return []string{"internal", "Internal", ""}[i%3] })
	if c := internal.Summary.Counterfactual; c == nil || !c.Self {
		t.Errorf("an all-internal segment column: counterfactual %+v, want the run itself", c)
	}
	for _, f := range []string{"jobs.arrow", "timeseries.arrow", "summary.arrow"} {
		if !bytes.Equal(readOutput(t, filepath.Join(bare.Out, f)), readOutput(t, filepath.Join(internal.Out, f))) {
			t.Errorf("%s differs between the trace without a segment column and with an all-internal one", f)
		}
	}
	last := run("last", func(i int) string { return map[bool]string{true: "spot", false: "internal"}[i == 199] })
	if c := last.Summary.Counterfactual; c == nil || c.Self {
		t.Errorf("one external row: counterfactual %+v, want one simulated", c)
	}
	cw, _ := arrowtest.Column(t, filepath.Join(last.Out, "jobs.arrow"), "wait_s_counterfactual")
	_, ids := arrowtest.Column(t, filepath.Join(last.Out, "jobs.arrow"), "job_id")
	if len(cw) != 200 || len(ids) != 200 {
		t.Fatalf("%d waits, %d ids: want 200", len(cw), len(ids))
	}
	for i, id := range ids {
		if external := id == "j199"; math.IsNaN(cw[i]) != external {
			t.Errorf("%s: wait_s_counterfactual %v: want a wait for internal jobs, null for the external one", id, cw[i])
		}
	}
}

// TestSegmentColumnTraceFails: a bad row makes the run fail, whether the
// look for external rows has started a counterfactual or not, and the run
// returns its error instead of waiting on the counterfactual.
func TestSegmentColumnTraceFails(t *testing.T) {
	dir := t.TempDir()
	for _, tail := range []string{"internal", "spot"} {
		var sb strings.Builder
		sb.WriteString("job_id,submit_s,gpus,duration_s,segment\n")
		for i := range 300 {
			gpus := "1"
			if i == 150 {
				gpus = "many"
			}
			seg := "internal"
			if i == 299 {
				seg = tail
			}
			fmt.Fprintf(&sb, "j%d,%d,%s,100,%s\n", i, i*10, gpus, seg)
		}
		_, err := replayCSV(t, dir, tail, sb.String())
		if err == nil || !strings.Contains(err.Error(), `field "gpus"`) {
			t.Errorf("last row %s: err %v, want the bad gpus value", tail, err)
		}
		if _, err := os.Stat(filepath.Join(dir, tail)); !os.IsNotExist(err) {
			t.Errorf("last row %s: the failed run left its folder: %v", tail, err)
		}
	}
}

// TestWaitBoard: answers put in one order are taken in another, each
// once; the window of slots empties as they are taken; an ID that differs
// from the counterfactual's for the same internal job panics.
func TestWaitBoard(t *testing.T) {
	b := newWaitBoard()
	b.window = 16 // the window moves on past jobs asked for late
	const n = 1000
	r := rand.New(rand.NewPCG(3, 3))
	ids := func(k int) string { return fmt.Sprintf("job-%d", k) }
	take := func(k int) {
		t.Helper()
		// Every answer asked for here was given: a take that waits has
		// lost it (one moved out of the window and dropped, say).
		got := make(chan struct{})
		stop := time.AfterFunc(10*time.Second, func() {
			select {
			case <-got:
			default:
				b.finish() // wake the take, which then reports no answer
			}
		})
		w, ok := b.take(&sim.Job{JobSpec: sim.JobSpec{ID: ids(k)}, Arrival: int64(k)})
		close(got)
		stop.Stop()
		if !ok || w != sim.Time(10*k) {
			t.Fatalf("job %d: wait %v, %v; want %v", k, w, ok, 10*k)
		}
	}
	// Half the answers come before anyone asks, in any order; then one
	// answer kept is asked for (at random) as each of the rest comes in,
	// job 0 last, as a job that runs all along in the main run.
	perm := r.Perm(n)
	var kept []int
	for i, k := range perm {
		b.put(int64(k), ids(k), sim.Time(10*k))
		if k != 0 {
			kept = append(kept, k)
		}
		if i >= n/2 {
			x := r.IntN(len(kept))
			take(kept[x])
			kept[x] = kept[len(kept)-1]
			kept = kept[:len(kept)-1]
		}
	}
	b.finish() // the counterfactual has ended: a lost answer fails at once
	for _, k := range kept {
		take(k)
	}
	if b.n > b.window {
		t.Errorf("the window holds %d slots behind job 0", b.n)
	}
	if _, ok := b.early[0]; !ok {
		t.Error("job 0's answer did not move out of the window")
	}
	take(0)
	if b.kept != 0 || b.n != 0 || len(b.early) != 0 || b.base != n {
		t.Errorf("after taking every answer: %d kept, %d slots, %d early, base %d", b.kept, b.n, len(b.early), b.base)
	}
	if _, ok := b.take(&sim.Job{JobSpec: sim.JobSpec{ID: ids(5)}, Arrival: 5}); ok {
		t.Error("an answer taken twice")
	}
	b2 := newWaitBoard()
	b2.put(0, "a", 1)
	defer func() {
		if recover() == nil {
			t.Error("no panic for internal job 0 named differently in the two runs")
		}
	}()
	b2.take(&sim.Job{JobSpec: sim.JobSpec{ID: "b"}, Arrival: 0})
}
