package results

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"gonum.org/v1/gonum/stat"

	"neosim/sim"
	"neosim/sim/fleet"
)

// fixtureJobs are jobs in every terminal state, built by hand.
func fixtureJobs() []sim.Job {
	spec := func(id string, seg sim.Segment, submit sim.Time) sim.JobSpec {
		return sim.JobSpec{ID: id, Segment: seg, Submit: submit, GPUs: 8, Milli: fleet.FullGPU, Tenant: "t-" + id, Priority: 3, Work: 300 * sim.Second}
	}
	return []sim.Job{
		{JobSpec: spec("a", sim.SegInternal, 10*sim.Second), State: sim.Completed, Type: 1, FirstStart: 70 * sim.Second,
			Start: 90 * sim.Second, End: 370 * sim.Second, RunTime: 280 * sim.Second, Preemptions: 1},
		{JobSpec: spec("b", sim.SegOnDemand, 0), State: sim.Completed, Type: 2, FirstStart: 30 * sim.Second,
			Start: 30 * sim.Second, End: 100 * sim.Second, RunTime: 70 * sim.Second, PriceMicroUSD: 3_250_000, Failures: 2},
		{JobSpec: spec("c", sim.SegSpot, 5*sim.Second), State: sim.Rejected, Reason: "needs 64 GPUs", Type: -1, FirstStart: -1, End: 5 * sim.Second},
		{JobSpec: spec("d", sim.SegReserved, 50*sim.Second), State: sim.Unfinished, Reason: "the horizon came first", Type: 0,
			FirstStart: 100 * sim.Second, Start: 100 * sim.Second, End: 1000 * sim.Second, RunTime: 900 * sim.Second, PriceMicroUSD: 1_000_000},
		{JobSpec: spec("e", sim.SegServing, 20*sim.Second), State: sim.Abandoned, Reason: "patience ran out", Type: -1, FirstStart: -1, End: 200 * sim.Second},
	}
}

func fixtureSamples() []sim.Sample {
	return []sim.Sample{
		{T: 0, GPUsTotal: 16},
		{T: 300 * sim.Second, GPUsTotal: 16, BusyMilli: [sim.NumSegments]int64{8000, 8000, 0, 0, 0}, Queued: [sim.NumSegments]int64{1, 0, 2, 0, 0}},
		{T: 600 * sim.Second, GPUsTotal: 16, BusyMilli: [sim.NumSegments]int64{0, 0, 0, 8000, 500}, Queued: [sim.NumSegments]int64{0, 0, 0, 0, 3}},
	}
}

var fixtureInfo = RunInfo{Scenario: "fixture", Seed: 1<<63 + 5, Allocator: "fifo", Pricer: "flat", Horizon: 1000 * sim.Second,
	End: 1000 * sim.Second, GPUsTotal: 16, Events: 123, WallSeconds: 1.5, Version: "v0-test", Resolved: map[string]int{"x": 1}}

func writeFixture(t *testing.T, dir string) *Writer {
	t.Helper()
	return writeFixtureFormat(t, dir, FormatArrow)
}

func writeFixtureFormat(t *testing.T, dir string, format Format) *Writer {
	t.Helper()
	w, err := CreateFormat(dir, format)
	if err != nil {
		t.Fatal(err)
	}
	jobs := fixtureJobs()
	for i := range jobs {
		w.JobStarted(&jobs[i])
		w.JobEnded(&jobs[i])
	}
	samples := fixtureSamples()
	for i := range samples {
		w.Sampled(&samples[i])
	}
	if err := w.Commit(fixtureInfo); err != nil {
		t.Fatal(err)
	}
	return w
}

func checkMeta(t *testing.T, f readFile, want NamedSchema) {
	t.Helper()
	if !f.schema.Equal(want.Schema) {
		t.Errorf("%s: schema\n%v\nwant\n%v", want.File, f.schema, want.Schema)
	}
	md := f.schema.Metadata()
	if v, _ := md.GetValue(MetaSchemaVersion); v != SchemaVersion {
		t.Errorf("%s: %s = %q, want %q", want.File, MetaSchemaVersion, v, SchemaVersion)
	}
	if v, _ := md.GetValue(MetaFile); v != want.Name {
		t.Errorf("%s: %s = %q, want %q", want.File, MetaFile, v, want.Name)
	}
}

func checkCol(t *testing.T, f readFile, name string, want ...any) {
	t.Helper()
	got, ok := f.cols[name]
	if !ok {
		t.Errorf("column %s missing", name)
		return
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d values %v, want %d %v", name, len(got), got, len(want), want)
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		if gf, ok := g.(float64); ok {
			if wf, ok := w.(float64); ok && math.Abs(gf-wf) <= 1e-9*math.Max(1, math.Abs(wf)) {
				continue
			}
		}
		if g != w {
			t.Errorf("%s[%d] = %#v, want %#v", name, i, g, w)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "runs", "fixture-1")
	w := writeFixture(t, dir)

	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{JobsFile, RunFile, SummaryFile, TimeseriesFile}; !slices.Equal(names, want) {
		t.Errorf("files %v, want %v (no temporary file left)", names, want)
	}

	jobs := readArrow(t, filepath.Join(dir, JobsFile))
	checkMeta(t, jobs, jobsSchema)
	if jobs.rows != 5 || jobs.batches != 1 {
		t.Errorf("jobs: %d rows in %d batches, want 5 in 1", jobs.rows, jobs.batches)
	}
	checkCol(t, jobs, "job_id", "a", "b", "c", "d", "e")
	checkCol(t, jobs, "segment", "internal", "on-demand", "spot", "reserved", "serving")
	checkCol(t, jobs, "tenant", "t-a", "t-b", "t-c", "t-d", "t-e")
	checkCol(t, jobs, "gpus", int32(8), int32(8), int32(8), int32(8), int32(8))
	checkCol(t, jobs, "gpu_milli", int32(1000), int32(1000), int32(1000), int32(1000), int32(1000))
	checkCol(t, jobs, "priority", int32(3), int32(3), int32(3), int32(3), int32(3))
	checkCol(t, jobs, "gpu_type", "H100-SXM", "H200", nil, "A100-80GB", nil)
	checkCol(t, jobs, "submit_s", 10.0, 0.0, 5.0, 50.0, 20.0)
	checkCol(t, jobs, "start_s", 70.0, 30.0, nil, 100.0, nil)
	checkCol(t, jobs, "end_s", 370.0, 100.0, 5.0, nil, 200.0)
	checkCol(t, jobs, "wait_s", 60.0, 30.0, nil, 50.0, nil)
	checkCol(t, jobs, "run_s", 280.0, 70.0, 0.0, 900.0, 0.0)
	checkCol(t, jobs, "work_s", 300.0, 300.0, 300.0, 300.0, 300.0)
	checkCol(t, jobs, "state", "completed", "completed", "rejected", "unfinished", "abandoned")
	checkCol(t, jobs, "reason", nil, nil, "needs 64 GPUs", "the horizon came first", "patience ran out")
	checkCol(t, jobs, "preemptions", int32(1), int32(0), int32(0), int32(0), int32(0))
	checkCol(t, jobs, "failures", int32(0), int32(2), int32(0), int32(0), int32(0))
	checkCol(t, jobs, "gpu_hours", 8*280/3600.0, 8*70/3600.0, 0.0, 2.0, 0.0)
	checkCol(t, jobs, "price_usd_per_gpu_h", 0.0, 3.25, 0.0, 1.0, 0.0)
	checkCol(t, jobs, "revenue_usd", 0.0, 0.505556, 0.0, 2.0, 0.0) // 3.25 $/GPU-h × 8 × 70 s, rounded to the micro-dollar

	ts := readArrow(t, filepath.Join(dir, TimeseriesFile))
	checkMeta(t, ts, timeseriesSchema)
	checkCol(t, ts, "t_s", 0.0, 300.0, 600.0)
	checkCol(t, ts, "gpus_total", int64(16), int64(16), int64(16))
	checkCol(t, ts, "busy_gpus", 0.0, 16.0, 8.5)
	checkCol(t, ts, "utilization", 0.0, 1.0, 8.5/16)
	checkCol(t, ts, "queued_jobs", int64(0), int64(3), int64(3))
	checkCol(t, ts, "busy_gpus_internal", 0.0, 8.0, 0.0)
	checkCol(t, ts, "busy_gpus_on_demand", 0.0, 8.0, 0.0)
	checkCol(t, ts, "busy_gpus_serving", 0.0, 0.0, 0.5)
	checkCol(t, ts, "queued_jobs_spot", int64(0), int64(2), int64(0))
	checkCol(t, ts, "queued_jobs_serving", int64(0), int64(0), int64(3))

	sum := readArrow(t, filepath.Join(dir, SummaryFile))
	checkMeta(t, sum, summarySchema)
	if sum.rows != 1 {
		t.Fatalf("summary: %d rows, want 1", sum.rows)
	}
	checkCol(t, sum, "scenario", "fixture")
	checkCol(t, sum, "seed", uint64(1<<63+5))
	checkCol(t, sum, "allocator", "fifo")
	checkCol(t, sum, "pricer", "flat")
	checkCol(t, sum, "horizon_s", 1000.0)
	checkCol(t, sum, "end_s", 1000.0)
	checkCol(t, sum, "gpus_total", int64(16))
	checkCol(t, sum, "events", int64(123))
	checkCol(t, sum, "jobs_total", int64(5))
	checkCol(t, sum, "jobs_queued", int64(0))
	checkCol(t, sum, "jobs_completed", int64(2))
	checkCol(t, sum, "jobs_rejected", int64(1))
	checkCol(t, sum, "jobs_abandoned", int64(1))
	checkCol(t, sum, "jobs_unfinished", int64(1))
	if _, ok := sum.cols["jobs_failed"]; ok {
		t.Error("summary has jobs_failed: schema version 3 removed it (no job ends failed)")
	}
	checkCol(t, sum, "utilization", (8*280/3600.0+8*70/3600.0+2.0)/(16*1000/3600.0))
	checkCol(t, sum, "jobs_started", int64(3))
	checkCol(t, sum, "wait_mean_s", 140.0/3)
	checkCol(t, sum, "wait_p50_s", 50.0)
	checkCol(t, sum, "wait_p95_s", 60.0)
	checkCol(t, sum, "wait_p99_s", 60.0)
	checkCol(t, sum, "jobs_internal", int64(1))
	checkCol(t, sum, "jobs_on_demand", int64(1))
	checkCol(t, sum, "wait_mean_s_internal", 60.0)
	checkCol(t, sum, "wait_p99_s_on_demand", 30.0)
	checkCol(t, sum, "wait_p50_s_reserved", 50.0)
	checkCol(t, sum, "jobs_started_spot", int64(0))
	checkCol(t, sum, "wait_mean_s_spot", nil)
	checkCol(t, sum, "wait_p99_s_serving", nil)

	s := w.Summary()
	if s.Jobs != 5 || s.Wait.P50S != 50 || !math.IsNaN(s.Segments[sim.SegSpot].Wait.MeanS) || s.Events != 123 {
		t.Errorf("Summary() = %+v", s)
	}

	var run map[string]any
	b, err := os.ReadFile(filepath.Join(dir, RunFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatalf("run.json: %v", err)
	}
	for k, v := range map[string]any{"schema_version": SchemaVersion, "format": "arrow", "neosim_version": "v0-test", "scenario": "fixture",
		"allocator": "fifo", "pricer": "flat", "wall_s": 1.5, "events": 123.0, "horizon_s": 1000.0, "end_s": 1000.0} {
		if run[k] != v {
			t.Errorf("run.json %s = %#v, want %#v", k, run[k], v)
		}
	}
	if !bytes.Contains(b, []byte(`"seed": 9223372036854775813`)) {
		t.Errorf("run.json: seed not written exactly:\n%s", b)
	}
	if r, _ := run["resolved_scenario"].(map[string]any); r["x"] != 1.0 {
		t.Errorf("run.json resolved_scenario = %#v", run["resolved_scenario"])
	}
	if w.Commit(fixtureInfo) != ErrClosed {
		t.Error("a second Commit did not return ErrClosed")
	}
	if w.Abort() != nil {
		t.Error("Abort after Commit failed")
	}
	if _, err := os.Stat(filepath.Join(dir, JobsFile)); err != nil {
		t.Errorf("Abort after Commit removed output: %v", err)
	}
}

// TestEngineRun checks the files of a real (small) simulation against the
// engine's own counters.
func TestEngineRun(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, st := runEngine(t, w, 300, 40*sim.Hour)
	if err := w.Commit(info); err != nil {
		t.Fatal(err)
	}
	jobs := readArrow(t, filepath.Join(dir, JobsFile))
	sum := readArrow(t, filepath.Join(dir, SummaryFile))
	ts := readArrow(t, filepath.Join(dir, TimeseriesFile))
	s := w.Summary()

	if jobs.rows != 300 || sum.cols["jobs_total"][0] != int64(300) || s.Jobs != 300 {
		t.Errorf("jobs: %d rows, summary says %v / %d, want 300", jobs.rows, sum.cols["jobs_total"], s.Jobs)
	}
	if want := int(40*sim.Hour/(10*sim.Minute)) + 1; ts.rows != want {
		t.Errorf("timeseries: %d rows, want %d", ts.rows, want)
	}
	for state := sim.State(0); state < sim.NumStates; state++ {
		var n int64
		for seg := range sim.NumSegments {
			n += st.Jobs[seg][state]
		}
		if got := sum.cols["jobs_"+state.String()][0]; got != n {
			t.Errorf("jobs_%s = %v, engine counted %d", state, got, n)
		}
	}
	for _, state := range []string{"completed", "rejected", "abandoned", "unfinished"} {
		if s.JobsByState[slices.Index(stateNames(), state)] == 0 {
			t.Errorf("no job ended %s: the test workload should cover it", state)
		}
	}
	var gpuHours, revenue float64
	var started int64
	for i := range jobs.rows {
		gh := jobs.cols["gpu_hours"][i].(float64)
		run := jobs.cols["run_s"][i].(float64)
		gpus := float64(jobs.cols["gpus"][i].(int32)) * float64(jobs.cols["gpu_milli"][i].(int32)) / 1000
		if math.Abs(gh-gpus*run/3600) > 1e-9 {
			t.Errorf("job %v: gpu_hours %v, want gpus × run_s / 3600 = %v", jobs.cols["job_id"][i], gh, gpus*run/3600)
		}
		gpuHours += gh
		revenue += jobs.cols["revenue_usd"][i].(float64)
		if w := jobs.cols["wait_s"][i]; w != nil {
			started++
			if w.(float64) != jobs.cols["start_s"][i].(float64)-jobs.cols["submit_s"][i].(float64) {
				t.Errorf("job %v: wait_s ≠ start_s - submit_s", jobs.cols["job_id"][i])
			}
		}
		if seg := jobs.cols["segment"][i]; seg == "internal" && jobs.cols["revenue_usd"][i] != 0.0 {
			t.Errorf("internal job %v has revenue", jobs.cols["job_id"][i])
		}
	}
	if gpuHours <= 0 || math.Abs(gpuHours-s.GPUHours) > 1e-9*gpuHours || math.Abs(revenue-s.ExternalRevenueUSD) > 1e-9*revenue {
		t.Errorf("Σ gpu_hours %v, revenue %v; summary %v, %v", gpuHours, revenue, s.GPUHours, s.ExternalRevenueUSD)
	}
	if want := gpuHours / (float64(info.GPUsTotal) * info.End.Hours()); math.Abs(s.Utilization-want) > 1e-12 {
		t.Errorf("utilization %v, want %v", s.Utilization, want)
	}
	if s.Wait.Started != started || sum.cols["jobs_started"][0] != started {
		t.Errorf("jobs_started %d, counted %d", s.Wait.Started, started)
	}
	if sum.cols["events"][0] != st.Events || st.Events == 0 {
		t.Errorf("events %v, engine %d", sum.cols["events"][0], st.Events)
	}
}

func stateNames() []string {
	var n []string
	for s := sim.State(0); s < sim.NumStates; s++ {
		n = append(n, s.String())
	}
	return n
}

func TestDeterministic(t *testing.T) { forEachFormat(t, testDeterministic) }

func testDeterministic(t *testing.T, format Format) {
	var out [2]string
	for i := range out {
		out[i] = filepath.Join(t.TempDir(), "run")
		w, err := create(out[i], format, 64, AllOutputs) // several batches (row groups)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := runEngine(t, w, 200, 0)
		info.WallSeconds = float64(i + 1) // differs: must not reach the data files
		if err := w.Commit(info); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range Schemas() {
		name := format.File(s.Name)
		a, err1 := os.ReadFile(filepath.Join(out[0], name))
		b, err2 := os.ReadFile(filepath.Join(out[1], name))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two identical runs", name)
		}
	}
}

// TestDictColumns writes every segment, state and GPU type (and no type)
// across several batches and reads each row's names back: the writer
// appends dictionary indices, which must name the job's own values.
func TestDictColumns(t *testing.T) {
	dir := t.TempDir()
	w, err := create(dir, FormatArrow, 7, OutJobs)
	if err != nil {
		t.Fatal(err)
	}
	types := len(fleet.Catalog) + 1 // the last one: no type (null)
	n := int(sim.NumSegments) * int(sim.NumStates) * types
	for i := range n {
		j := sim.Job{JobSpec: sim.JobSpec{ID: "job", Segment: sim.Segment(i % int(sim.NumSegments)), GPUs: 1, Milli: 1000},
			State: sim.State(i / int(sim.NumSegments) % int(sim.NumStates)), Type: fleet.TypeID(i/int(sim.NumSegments)/int(sim.NumStates) - 1), FirstStart: -1}
		w.JobEnded(&j)
	}
	if err := w.Commit(RunInfo{End: sim.Hour}); err != nil {
		t.Fatal(err)
	}
	jobs := readArrow(t, filepath.Join(dir, JobsFile))
	if jobs.rows != n {
		t.Fatalf("%d rows, want %d", jobs.rows, n)
	}
	for i := range n {
		seg, state, typ := sim.Segment(i%int(sim.NumSegments)), sim.State(i/int(sim.NumSegments)%int(sim.NumStates)), i/int(sim.NumSegments)/int(sim.NumStates)-1
		var wantType any
		if typ >= 0 {
			wantType = fleet.Catalog[typ].Name
		}
		if got := []any{jobs.cols["segment"][i], jobs.cols["state"][i], jobs.cols["gpu_type"][i]}; !slices.Equal(got, []any{seg.String(), state.String(), wantType}) {
			t.Errorf("row %d: segment, state, gpu_type = %v, want %v, %v, %v", i, got, seg, state, wantType)
		}
	}
}

// TestDictColumnOutOfRange: a value outside a column's fixed dictionary
// panics rather than writing an index the file's dictionary lacks.
func TestDictColumnOutOfRange(t *testing.T) {
	w, err := create(t.TempDir(), FormatArrow, BatchRows, OutJobs)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	defer func() {
		if r := recover(); !strings.Contains(fmt.Sprint(r), "not in the fixed dictionary") {
			t.Errorf("a job in state NumStates: recovered %v, want the fixed dictionary's panic", r)
		}
	}()
	w.JobEnded(&sim.Job{JobSpec: sim.JobSpec{ID: "job", GPUs: 1, Milli: 1000}, State: sim.NumStates, Type: -1, FirstStart: -1})
}

func TestManyRows(t *testing.T) {
	for _, tc := range []struct {
		batch, jobs, samples int
	}{
		{BatchRows, BatchRows + 1000, 10},
		{100, 1050, 250},
	} {
		dir := t.TempDir()
		w, err := create(dir, FormatArrow, tc.batch, AllOutputs)
		if err != nil {
			t.Fatal(err)
		}
		var j sim.Job
		for i := range tc.jobs {
			j = sim.Job{JobSpec: sim.JobSpec{ID: "job", Segment: sim.Segment(i % int(sim.NumSegments)), Submit: sim.Time(i) * sim.Second, GPUs: int32(i%8 + 1), Milli: 1000},
				State: sim.Completed, Type: fleet.TypeID(i % len(fleet.Catalog)), FirstStart: sim.Time(i)*sim.Second + sim.Time(i%100)*sim.Millisecond, End: sim.Time(i+10) * sim.Second}
			w.JobEnded(&j)
		}
		for i := range tc.samples {
			w.Sampled(&sim.Sample{T: sim.Time(i) * sim.Minute, GPUsTotal: 8, Queued: [sim.NumSegments]int64{int64(i)}})
		}
		if err := w.Commit(RunInfo{End: sim.Time(tc.jobs+10) * sim.Second}); err != nil {
			t.Fatal(err)
		}
		jobs := readArrow(t, filepath.Join(dir, JobsFile))
		if wantBatches := (tc.jobs + tc.batch - 1) / tc.batch; jobs.rows != tc.jobs || jobs.batches != wantBatches {
			t.Errorf("batch %d: jobs has %d rows in %d batches, want %d in %d", tc.batch, jobs.rows, jobs.batches, tc.jobs, wantBatches)
		}
		for _, i := range []int{0, tc.batch - 1, tc.batch, tc.jobs - 1} {
			if got, want := jobs.cols["submit_s"][i], float64(i); got != want {
				t.Errorf("batch %d: submit_s[%d] = %v, want %v", tc.batch, i, got, want)
			}
			if got, want := jobs.cols["gpus"][i], int32(i%8+1); got != want {
				t.Errorf("batch %d: gpus[%d] = %v, want %v", tc.batch, i, got, want)
			}
		}
		ts := readArrow(t, filepath.Join(dir, TimeseriesFile))
		if ts.rows != tc.samples || ts.cols["queued_jobs_internal"][tc.samples-1] != int64(tc.samples-1) {
			t.Errorf("batch %d: timeseries has %d rows, want %d", tc.batch, ts.rows, tc.samples)
		}
		if s := w.Summary(); s.Jobs != int64(tc.jobs) || s.Wait.Started != int64(tc.jobs) {
			t.Errorf("batch %d: summary counts %d jobs, %d started", tc.batch, s.Jobs, s.Wait.Started)
		}
	}
}

// TestEmptyRun: a run with no job and no sample still gives readable files.
// (An Arrow file holds one empty batch, a Parquet file no row group.)
func TestEmptyRun(t *testing.T) { forEachFormat(t, testEmptyRun) }

func testEmptyRun(t *testing.T, format Format) {
	dir := t.TempDir()
	w, err := CreateFormat(dir, format)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(RunInfo{Scenario: "empty"}); err != nil {
		t.Fatal(err)
	}
	jobs := readData(t, filepath.Join(dir, format.File("jobs")))
	ts := readData(t, filepath.Join(dir, format.File("timeseries")))
	sum := readData(t, filepath.Join(dir, format.File("summary")))
	checkMeta(t, jobs, jobsSchema)
	wantBatches := map[Format]int{FormatArrow: 1, FormatParquet: 0}[format]
	if jobs.rows != 0 || ts.rows != 0 || sum.rows != 1 || jobs.batches != wantBatches {
		t.Errorf("rows: jobs %d (%d batches), timeseries %d, summary %d", jobs.rows, jobs.batches, ts.rows, sum.rows)
	}
	checkCol(t, sum, "scenario", "empty")
	for _, c := range []string{"horizon_s", "utilization", "wait_mean_s", "wait_p99_s_internal"} {
		checkCol(t, sum, c, nil)
	}
}

func listAll(t *testing.T, root string) []string {
	t.Helper()
	var got []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != root {
			got = append(got, strings.TrimPrefix(p, root))
		}
		return nil
	})
	return got
}

func TestAbortLeavesNothing(t *testing.T) { forEachFormat(t, testAbortLeavesNothing) }

func testAbortLeavesNothing(t *testing.T, format Format) {
	root := t.TempDir()
	w, err := create(filepath.Join(root, "a", "b", "run"), format, 2, AllOutputs)
	if err != nil {
		t.Fatal(err)
	}
	jobs := fixtureJobs()
	for i := range jobs { // two batches reach the temporary file
		w.JobEnded(&jobs[i])
	}
	w.Sampled(&fixtureSamples()[1])
	if got, tmp := listAll(t, root), "/a/b/run/."+format.File("jobs")+".tmp"; !slices.Contains(got, tmp) {
		t.Errorf("files %v, want %s", got, tmp)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := listAll(t, root); len(got) != 0 {
		t.Errorf("Abort left %v", got)
	}
	if w.Abort() != nil || w.Commit(fixtureInfo) != ErrClosed {
		t.Error("Abort twice, or Commit after Abort, misbehaved")
	}

	// A folder that existed stays, with what it held.
	keep := filepath.Join(root, "keep")
	os.MkdirAll(keep, 0o755)
	os.WriteFile(filepath.Join(keep, "notes.txt"), []byte("mine"), 0o644)
	w, err = CreateFormat(keep, format)
	if err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if got := listAll(t, root); !slices.Equal(got, []string{"/keep", "/keep/notes.txt"}) {
		t.Errorf("after Abort in an existing folder: %v", got)
	}
}

func TestCreateFailsCleanly(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "file"), []byte("x"), 0o644)
	if _, err := Create(filepath.Join(root, "file", "run")); err == nil {
		t.Error("Create under a regular file succeeded")
	}
	// MkdirAll fails after making "y": it must go.
	if _, err := Create(filepath.Join(root, "y", strings.Repeat("n", 300), "run")); err == nil {
		t.Error("Create with a too-long name succeeded")
	}
	// The second temporary file cannot be made: the first must go, and the
	// folder, which existed, stays as it was.
	dir := filepath.Join(root, "x")
	os.MkdirAll(filepath.Join(dir, "."+TimeseriesFile+".tmp", "full"), 0o755)
	if _, err := Create(dir); err == nil {
		t.Error("Create succeeded over a folder named like a temporary file")
	}
	if got := listAll(t, root); !slices.Equal(got, []string{"/file", "/x", "/x/.timeseries.arrow.tmp", "/x/.timeseries.arrow.tmp/full"}) {
		t.Errorf("failed Creates left %v", got)
	}
}

func TestCommitFailsCleanly(t *testing.T) { forEachFormat(t, testCommitFailsCleanly) }

func testCommitFailsCleanly(t *testing.T, format Format) {
	root := t.TempDir()
	dir := filepath.Join(root, "run")
	w, err := CreateFormat(dir, format)
	if err != nil {
		t.Fatal(err)
	}
	jobs := fixtureJobs()
	w.JobEnded(&jobs[0])
	info := fixtureInfo
	info.Resolved = map[any]any{1: 2} // encoding/json cannot marshal it
	if err := w.Commit(info); err == nil {
		t.Fatal("Commit with an unmarshallable scenario succeeded")
	}
	if got := listAll(t, root); len(got) != 0 {
		t.Errorf("failed Commit left %v", got)
	}
}

// TestWriteErrorFailsCommit: a write error (disk full, …) makes Commit fail
// and leaves nothing.
func TestWriteErrorFailsCommit(t *testing.T) { forEachFormat(t, testWriteErrorFailsCommit) }

func testWriteErrorFailsCommit(t *testing.T, format Format) {
	root := t.TempDir()
	w, err := create(filepath.Join(root, "run"), format, 10, AllOutputs)
	if err != nil {
		t.Fatal(err)
	}
	w.jobs.f.Close() // every write to jobs.arrow (.parquet) fails from now on
	jobs := fixtureJobs()
	for range 30 {
		w.JobEnded(&jobs[0])
	}
	if err := w.Commit(fixtureInfo); err == nil {
		t.Fatal("Commit succeeded after write errors")
	}
	if got := listAll(t, root); len(got) != 0 {
		t.Errorf("failed Commit left %v", got)
	}
}

// TestRerunReplaces: a second run into the same folder replaces the first.
func TestRerunReplaces(t *testing.T) {
	dir := t.TempDir()
	writeFixture(t, dir)
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(RunInfo{Scenario: "second"}); err != nil {
		t.Fatal(err)
	}
	if got := readArrow(t, filepath.Join(dir, SummaryFile)).cols["scenario"]; got[0] != "second" {
		t.Errorf("scenario %v after a rerun", got)
	}
	if got := listAll(t, dir); len(got) != 4 {
		t.Errorf("files after a rerun: %v", got)
	}
}

func TestQuantilesMatchGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 4, 5, 7, 10, 19, 20, 21, 99, 100, 101, 1000, 4321} {
		var segs [3]waitList
		var sum float64
		var all []float64
		for range n {
			v := float32(math.Round(rng.ExpFloat64() * 1e3)) // whole seconds: exact in float32
			switch rng.IntN(4) {
			case 0:
				v = 7 // ties
			case 1:
				v = 0 // no wait (counted, not kept)
			}
			s := rng.IntN(3)
			segs[s].add(v)
			all = append(all, float64(v))
			sum += float64(v) * float64(sim.Second)
		}
		for s := range segs {
			slices.Sort(segs[s].nonzero)
		}
		slices.Sort(all)
		got := mergedWaitStats(sum, segs[:])
		want := WaitStats{Started: int64(n), MeanS: stat.Mean(all, nil),
			P50S: stat.Quantile(0.5, stat.Empirical, all, nil),
			P95S: stat.Quantile(0.95, stat.Empirical, all, nil),
			P99S: stat.Quantile(0.99, stat.Empirical, all, nil)}
		if got.Started != want.Started || got.P50S != want.P50S || got.P95S != want.P95S || got.P99S != want.P99S ||
			math.Abs(got.MeanS-want.MeanS) > 1e-9*want.MeanS {
			t.Errorf("n=%d: got %+v, want %+v", n, got, want)
		}
	}
	if got := mergedWaitStats(0, nil); got.Started != 0 || !math.IsNaN(got.P50S) || !math.IsNaN(got.MeanS) {
		t.Errorf("no waits: %+v", got)
	}
}

func TestSchemas(t *testing.T) {
	var buf bytes.Buffer
	if err := FormatSchemas(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range Schemas() {
		if len(s.Columns) != s.Schema.NumFields() {
			t.Errorf("%s: %d columns documented, %d fields", s.File, len(s.Columns), s.Schema.NumFields())
		}
		for i, c := range s.Columns {
			if c.Doc == "" || !strings.Contains(buf.String(), c.Name) {
				t.Errorf("%s: column %s undocumented or not printed", s.File, c.Name)
			}
			if f := s.Schema.Field(i); f.Name != c.Name || !arrow.TypeEqual(f.Type, c.Type) || f.Nullable != c.Nullable {
				t.Errorf("%s: field %d is %v, column says %s", s.File, i, f, c.Name)
			}
			if strings.ContainsAny(c.Name, "-. ") || strings.ToLower(c.Name) != c.Name {
				t.Errorf("%s: column name %q is not snake_case", s.File, c.Name)
			}
		}
	}
}

// TestDocsMentionEveryColumn keeps docs/output-schema.md and the code in
// step: every column, the version and the metadata keys must be there.
func TestDocsMentionEveryColumn(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "output-schema.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, s := range Schemas() {
		for _, c := range append([]string{s.File}, columnNames(s)...) {
			if !strings.Contains(doc, "`"+c+"`") {
				t.Errorf("docs/output-schema.md does not mention `%s` (%s)", c, s.File)
			}
		}
	}
	for _, want := range []string{"`" + MetaSchemaVersion + "`", "`" + MetaFile + "`", "schema version " + SchemaVersion, "`" + RunFile + "`"} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/output-schema.md does not mention %s", want)
		}
	}
}

func columnNames(s NamedSchema) []string {
	var n []string
	for _, c := range s.Columns {
		n = append(n, c.Name)
	}
	return n
}

// TestWriteFixtureForReader writes a sample run folder for the independent
// reader test (tests/reader) when NEOSIM_WRITE_FIXTURE names a folder:
//
//	NEOSIM_WRITE_FIXTURE=/tmp/neosim-fixture go test ./results/ -run TestWriteFixtureForReader
//	NEOSIM_RUN_DIR=/tmp/neosim-fixture node --test tests/reader/
func TestWriteFixtureForReader(t *testing.T) {
	dir := os.Getenv("NEOSIM_WRITE_FIXTURE")
	if dir == "" {
		t.Skip("NEOSIM_WRITE_FIXTURE is not set")
	}
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := runEngine(t, w, 500, 40*sim.Hour)
	if err := w.Commit(info); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkJobEnded(b *testing.B) {
	w, err := Create(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Abort()
	jobs := fixtureJobs()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w.JobEnded(&jobs[i%len(jobs)])
	}
}

// BenchmarkJobRows measures building jobs.arrow's rows alone (an op is a
// row): the columns of BatchRows-row batches, made into record batches and
// dropped rather than compressed and written.
func BenchmarkJobRows(b *testing.B) {
	w, err := create(b.TempDir(), FormatArrow, BatchRows, OutJobs)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Abort()
	w.batch = math.MaxInt // jobRow never flushes: the loop below does
	jobs := fixtureJobs()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w.jobRow(&jobs[i%len(jobs)], jobs[i%len(jobs)].Wait(), true)
		if w.jobs.rows++; w.jobs.rows == BatchRows {
			w.jobs.b.NewRecordBatch().Release()
			w.jobs.b.Reserve(BatchRows)
			w.jobs.rows = 0
		}
	}
}
