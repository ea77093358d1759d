package bench

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"neosim/internal/arrowtest"
)

// TestSuiteSmall runs the suite on the small scenario, in process, with a
// tiny hold model, and checks the rows, the printed table and suite.arrow's
// columns and values: numbers that must be positive are, the simulation
// is part of the wall time. No timing is asserted.
func TestSuiteSmall(t *testing.T) {
	dir := t.TempDir()
	var progress strings.Builder
	rows, err := RunSuite(SuiteConfig{Names: []string{"small"}, RunsDir: filepath.Join(dir, "runs"),
		HoldPending: []int{1000}, HoldSteps: 20000, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Kind != "hold" || rows[1].Kind != "scenario" || rows[1].Name != "small" {
		t.Fatalf("rows = %+v, want a hold row then small", rows)
	}
	h, s := rows[0], rows[1]
	if h.Pending != 1000 || !(h.NsPerEvent > 0) || !(h.BaselineNsPerEvent > 0) || !(h.Speedup() > 0) {
		t.Errorf("hold row %+v", h)
	}
	if s.GPUs != 1000 || s.HorizonDays != 7 || s.Jobs <= 0 || s.Events <= s.Jobs || s.WallS <= 0 ||
		!(s.Utilization > 0 && s.Utilization < 1) || s.PeakRSSBytes <= 0 || s.RSSScope != "process" ||
		!(s.EventsPerS() > 0) || !(s.JobsPerS() > 0) {
		t.Errorf("scenario row %+v", s)
	}
	// Reading and writing overlap the simulation, but the engine's loop is
	// part of the wall time.
	if s.ReadS <= 0 || s.SimulateS <= 0 || s.WriteS <= 0 || s.SimulateS > s.WallS {
		t.Errorf("phases read %v + simulate %v + write %v, wall %v", s.ReadS, s.SimulateS, s.WriteS, s.WallS)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs", "small")); !os.IsNotExist(err) {
		t.Errorf("the run's output was not removed: %v", err)
	}
	if !strings.Contains(progress.String(), "scenario small") {
		t.Errorf("progress %q", progress.String())
	}

	var out strings.Builder
	PrintSuite(&out, rows)
	for _, want := range []string{"container/heap", "speed-up", "small", "events/s", "peak RSS", "read", "simulate", "write"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printed table lacks %q:\n%s", want, out.String())
		}
	}

	start := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	paths, err := WriteSuite(dir, start, rows)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(dir, SuiteFile), filepath.Join(dir, "suite-20261128T093000Z.arrow")}; !slices.Equal(paths, want) {
		t.Fatalf("paths %v, want %v", paths, want)
	}
	f, err := os.Open(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []string
	for _, fl := range r.Schema().Fields() {
		got = append(got, fl.Name)
	}
	if !slices.Equal(got, SuiteColumns()) {
		t.Fatalf("columns %v, want %v", got, SuiteColumns())
	}
	for _, want := range []string{"name", "wall_s", "events", "events_per_s", "jobs_per_s", "peak_rss_bytes", "read_s", "simulate_s", "write_s", "speedup"} {
		if !slices.Contains(got, want) {
			t.Errorf("no column %q", want)
		}
	}
	rec, err := r.RecordBatch(0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.NumRows() != 2 {
		t.Fatalf("%d rows, want 2", rec.NumRows())
	}
	col := func(name string) int {
		i := slices.Index(got, name)
		if i < 0 {
			t.Fatalf("no column %q", name)
		}
		return i
	}
	names := rec.Column(col("name")).(*array.String)
	if names.Value(0) != "hold-1000" || names.Value(1) != "small" {
		t.Errorf("names %q, %q", names.Value(0), names.Value(1))
	}
	events := rec.Column(col("events")).(*array.Int64)
	if !events.IsNull(0) || events.Value(1) != s.Events {
		t.Errorf("events: null %v for hold, %d for small (want %d)", events.IsNull(0), events.Value(1), s.Events)
	}
	speed := rec.Column(col("speedup")).(*array.Float64)
	if speed.IsNull(0) || !speed.IsNull(1) {
		t.Errorf("speedup nulls: %v, %v", speed.IsNull(0), speed.IsNull(1))
	}
	if start := rec.Column(col("suite_start")).(*array.String).Value(1); start != "2026-11-28T09:30:00Z" {
		t.Errorf("suite_start %q", start)
	}
}

// TestScenarios loads every embedded benchmark scenario and checks the
// suite's promises about them.
func TestScenarios(t *testing.T) {
	names := ScenarioNames()
	for _, want := range []string{"small", "medium", "meta"} {
		if !slices.Contains(names, want) {
			t.Errorf("no embedded scenario %q in %v", want, names)
		}
	}
	for _, name := range names {
		s, err := LoadScenario(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := LoadScenario("nope"); err == nil || !strings.Contains(err.Error(), "small") {
		t.Errorf("unknown scenario: %v", err)
	}
}

// TestSmallRuns: the small-run rows (in process) have their kinds, counts
// and positive rates, and suite.arrow carries them with nulls where a
// column does not apply. No timing is asserted.
func TestSmallRuns(t *testing.T) {
	dir := t.TempDir()
	rows, err := smallRunRows(&SuiteConfig{RunsDir: filepath.Join(dir, "runs"), SmallRuns: 3})
	if err != nil {
		t.Fatal(err)
	}
	if want := min(2, runtime.NumCPU()) + 1; len(rows) != want {
		t.Fatalf("%d rows, want %d: %+v", len(rows), want, rows)
	}
	if rows[0].Kind != "fixed-cost" || rows[0].Name != "small-1d-summary-in-process" || rows[0].Runs != 3 || !(rows[0].WallS > 0) {
		t.Errorf("fixed-cost row %+v", rows[0])
	}
	if got := rows[0].RunsPerMin(); math.Abs(got-60/rows[0].WallS) > 1e-9 {
		t.Errorf("fixed-cost runs/min %v, want 60 / %v", got, rows[0].WallS)
	}
	for _, r := range rows[1:] {
		if r.Kind != "sweep" || r.Runs != 3 || r.Workers < 1 || !(r.WallS > 0) || math.Abs(r.RunsPerMin()-180/r.WallS) > 1e-9 {
			t.Errorf("sweep row %+v (runs/min %v)", r, r.RunsPerMin())
		}
	}
	if rows[1].Workers != 1 {
		t.Errorf("the first sweep has %d workers, want 1", rows[1].Workers)
	}
	var out strings.Builder
	PrintSuite(&out, rows)
	for _, want := range []string{"small run (1,000 GPUs, 1 day, summary only)", "runs/min", "small-1d-summary-j1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printed table lacks %q:\n%s", want, out.String())
		}
	}
	paths, err := WriteSuite(dir, time.Now(), rows)
	if err != nil {
		t.Fatal(err)
	}
	rpm, _ := arrowtest.Column(t, paths[0], "runs_per_min")
	events, _ := arrowtest.Column(t, paths[0], "events")
	if !(rpm[0] > 0) || !math.IsNaN(events[0]) {
		t.Errorf("runs_per_min %v, events %v: want a rate and a null", rpm, events)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs", "small-runs")); !os.IsNotExist(err) {
		t.Errorf("the small runs' output was not removed: %v", err)
	}
}

// TestTraceReplay: the trace-replay row (in process) replays every job of
// the trace it wrote, on 100,000 GPUs; suite.arrow carries it with nulls
// where a column does not apply; the trace and the run are removed. No
// timing is asserted.
func TestTraceReplay(t *testing.T) {
	dir := t.TempDir()
	var progress strings.Builder
	cfg := SuiteConfig{RunsDir: filepath.Join(dir, "runs"), TraceJobs: 2000, Progress: &progress}
	row, err := measureTrace(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if row.Kind != "trace" || row.Name != "canonical-csv-fifo-in-process" || row.GPUs != 100_000 || row.Jobs != 2000 ||
		row.Events < 2*row.Jobs || !(row.HorizonDays > 0) || !(row.WallS > 0) || !(row.JobsPerS() > 0) {
		t.Errorf("trace row %+v", row)
	}
	if !strings.Contains(progress.String(), "writing 2000 jobs of run-100k's workload") {
		t.Errorf("progress %q", progress.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "runs", "trace")); !os.IsNotExist(err) {
		t.Errorf("the trace and its run were not removed: %v", err)
	}
	var out strings.Builder
	PrintSuite(&out, []Row{row})
	for _, want := range []string{"trace replay (whole process)", "canonical-csv-fifo", "100000"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printed table lacks %q:\n%s", want, out.String())
		}
	}
	paths, err := WriteSuite(dir, time.Now(), []Row{row})
	if err != nil {
		t.Fatal(err)
	}
	jobs, _ := arrowtest.Column(t, paths[0], "jobs")
	runs, _ := arrowtest.Column(t, paths[0], "runs")
	eps, _ := arrowtest.Column(t, paths[0], "events_per_s")
	if jobs[0] != 2000 || !math.IsNaN(runs[0]) || !(eps[0] > 0) {
		t.Errorf("jobs %v, runs %v, events_per_s %v: want 2000, a null and a rate", jobs, runs, eps)
	}
}

// TestCSVTrace checks the trace the replay reads: a header and n rows of
// four columns, in submit order, the jobs of run-100k's workload.
func TestCSVTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.csv")
	if err := writeCSVTrace(path, 500); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 501 || lines[0] != "job_id,submit_s,gpus,duration_s" || !strings.HasPrefix(lines[1], "jobs-1,") {
		t.Fatalf("%d lines, starting %q", len(lines), lines[:min(3, len(lines))])
	}
	last := -1.0
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		submit, err := strconv.ParseFloat(f[1], 64)
		if len(f) != 4 || err != nil || submit < last || !slices.Contains([]string{"1", "2", "4", "8", "16", "64"}, f[2]) {
			t.Fatalf("row %q", l)
		}
		last = submit
	}
}
