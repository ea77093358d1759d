package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"neosim/results"
	"neosim/runner"
	"neosim/sim"
)

// SuiteFile is the suite's table in the output folder (the latest suite);
// each suite also leaves a copy named suite-<UTC start>.arrow.
const SuiteFile = "suite.arrow"

// Row is one line of the suite's report and table: a scenario run, or one
// size of the hold model (Kind "hold"). Fields that do not apply to a kind
// are NaN or 0 and written as nulls.
type Row struct {
	Kind string `json:"kind"` // "hold", "scenario", "trace", "fixed-cost" or "sweep"
	Name string `json:"name"`

	// Scenario runs (and the trace replay: GPUs, HorizonDays, Jobs, Events, WallS).
	GPUs         int64   `json:"gpus"`
	HorizonDays  float64 `json:"horizon_days"`
	Jobs         int64   `json:"jobs"`
	Events       int64   `json:"events"`
	Utilization  float64 `json:"utilization"`
	WallS        float64 `json:"wall_s"` // the whole run (setup, engine, commit)
	ReadS        float64 `json:"read_s"`
	SimulateS    float64 `json:"simulate_s"`
	WriteS       float64 `json:"write_s"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
	// RSSScope says whose peak PeakRSSBytes is: "child" (the scenario ran
	// alone in a child process: its own peak) or "process" (it ran in the
	// calling process, whose lifetime peak includes whatever ran before).
	RSSScope string `json:"rss_scope"`

	// Small runs ("fixed-cost": WallS is one run's median; "sweep": WallS
	// is the whole sweep's).
	Runs    int64 `json:"runs"`
	Workers int64 `json:"workers"`

	// Hold model.
	Pending            int64   `json:"pending"`
	NsPerEvent         float64 `json:"ns_per_event"`
	BaselineNsPerEvent float64 `json:"baseline_ns_per_event"`
}

// EventsPerS is simulated events per wall second (of the whole run).
func (r *Row) EventsPerS() float64 { return perS(float64(r.Events), r.WallS) }

// JobsPerS is jobs per wall second (of the whole run).
func (r *Row) JobsPerS() float64 { return perS(float64(r.Jobs), r.WallS) }

// RunsPerMin is small runs per wall minute (fixed-cost and sweep rows).
func (r *Row) RunsPerMin() float64 {
	switch r.Kind {
	case "fixed-cost":
		return perS(60, r.WallS)
	case "sweep":
		return perS(60*float64(r.Runs), r.WallS)
	}
	return math.NaN()
}

// Speedup is the hold model's baseline time over neosim's.
func (r *Row) Speedup() float64 {
	if r.NsPerEvent <= 0 {
		return math.NaN()
	}
	return r.BaselineNsPerEvent / r.NsPerEvent
}

func perS(n, s float64) float64 {
	if s <= 0 {
		return math.NaN()
	}
	return n / s
}

// SuiteConfig is what RunSuite runs.
type SuiteConfig struct {
	// Names are benchmark scenarios (ScenarioNames) or .yaml files; empty
	// means DefaultSuite.
	Names []string
	// RunsDir is where each scenario writes its output, under RunsDir/NAME
	// (removed after the run unless KeepRuns).
	RunsDir  string
	KeepRuns bool
	// Child, if set, makes the command that runs one scenario in a child
	// process (it must call RunChild and exit), so that the peak RSS read
	// from the child's rusage is the scenario's own. Nil runs the scenarios
	// in this process (the peak RSS is then the process's).
	Child func(name, out string) *exec.Cmd
	// HoldPending are the hold model's queue sizes; HoldSteps the steps per
	// round (best of 3 rounds). No sizes: no hold rows.
	HoldPending []int
	HoldSteps   int
	// SmallRuns, if positive, adds the small-run measures (smallruns.go):
	// the fixed cost of one small run (median of SmallRuns) and the
	// throughput of a sweep of SmallRuns small runs, with one worker and
	// with one per CPU.
	SmallRuns int
	// TraceJobs, if positive, adds the trace replay (tracerun.go): a
	// canonical CSV trace of TraceJobs jobs replayed with fifo on 100,000
	// GPUs.
	TraceJobs int64
	// Process, if set, makes the command of a whole neosim process with
	// the given arguments, for the fixed cost and the trace replay; nil
	// measures them in this process.
	Process func(args ...string) *exec.Cmd
	// Progress, if set, receives a line per step and the runs' progress.
	Progress io.Writer
}

func (cfg *SuiteConfig) progress() io.Writer {
	if cfg.Progress == nil {
		return io.Discard
	}
	return cfg.Progress
}

// DefaultHoldPending are the hold model's queue sizes in the suite.
var DefaultHoldPending = []int{1_000, 1_000_000}

// RunSuite runs the hold model, then each scenario in turn, and returns a
// row for each.
func RunSuite(cfg SuiteConfig) ([]Row, error) {
	names := cfg.Names
	if len(names) == 0 {
		names = DefaultSuite
	}
	for _, name := range names {
		if _, err := LoadScenario(name); err != nil {
			return nil, err
		}
	}
	progress := cfg.Progress
	if progress == nil {
		progress = io.Discard
	}
	var rows []Row
	for _, n := range cfg.HoldPending {
		fmt.Fprintf(progress, "suite: hold model, %d pending events\n", n)
		h := MeasureHold(n, max(cfg.HoldSteps, 1), 3)
		rows = append(rows, Row{Kind: "hold", Name: fmt.Sprintf("hold-%d", n), Pending: int64(n),
			NsPerEvent: h.NsPerEvent, BaselineNsPerEvent: h.BaselineNsPerEvent})
	}
	for _, name := range names {
		out := filepath.Join(cfg.RunsDir, scenarioBase(name))
		fmt.Fprintf(progress, "suite: scenario %s\n", name)
		var row Row
		var err error
		if cfg.Child != nil {
			row, err = runChild(cfg.Child(name, out))
		} else {
			row, err = RunOne(name, out, cfg.Progress)
			row.PeakRSSBytes, row.RSSScope = selfPeakRSS(), "process"
		}
		if !cfg.KeepRuns {
			os.RemoveAll(out)
		}
		if err != nil {
			return rows, fmt.Errorf("scenario %s: %w", name, err)
		}
		rows = append(rows, row)
	}
	if cfg.TraceJobs > 0 {
		row, err := measureTrace(&cfg)
		if err != nil {
			return rows, fmt.Errorf("trace replay: %w", err)
		}
		rows = append(rows, row)
	}
	if cfg.SmallRuns > 0 {
		small, err := smallRunRows(&cfg)
		rows = append(rows, small...)
		if err != nil {
			return rows, fmt.Errorf("small runs: %w", err)
		}
	}
	return rows, nil
}

func scenarioBase(name string) string {
	b := filepath.Base(name)
	return strings.TrimSuffix(strings.TrimSuffix(b, ".yaml"), ".yml")
}

// RunOne runs one benchmark scenario in this process, writing its output
// under out, and returns its row (without the peak RSS). Progress, if set,
// gets a line about every 5 seconds.
func RunOne(name, out string, progress io.Writer) (Row, error) {
	s, err := LoadScenario(name)
	if err != nil {
		return Row{}, err
	}
	opt := runner.Options{Out: out}
	if progress != nil {
		last := time.Now()
		opt.Progress = func(now, horizon sim.Time, events int64) {
			if t := time.Now(); t.Sub(last) >= 5*time.Second {
				last = t
				fmt.Fprintf(progress, "suite: %s: simulated %v of %v · %d events\n", s.Name, now, horizon, events)
			}
		}
	}
	res, err := runner.Run(s, opt)
	if err != nil {
		return Row{}, err
	}
	ph := res.Phases
	return Row{Kind: "scenario", Name: s.Name, GPUs: res.Summary.GPUsTotal, HorizonDays: res.Stats.End.Seconds() / 86400,
		Jobs: res.Summary.Jobs, Events: res.Stats.Events, Utilization: res.Summary.Utilization,
		WallS: ph.Wall.Seconds(), ReadS: ph.Read.Seconds(), SimulateS: ph.Simulate.Seconds(), WriteS: ph.Write.Seconds()}, nil
}

// RunChild is the child side of a suite run: it runs one scenario and
// writes its row, with its own peak RSS, as JSON on stdout, the progress on
// stderr.
func RunChild(name, out string, stdout, stderr io.Writer) error {
	row, err := RunOne(name, out, stderr)
	if err != nil {
		return err
	}
	row.PeakRSSBytes = selfPeakRSS()
	return json.NewEncoder(stdout).Encode(&row)
}

// runChild runs cmd (which calls RunChild), reads the row it prints and
// fills in its peak RSS from its rusage.
func runChild(cmd *exec.Cmd) (Row, error) {
	var out bytes.Buffer
	cmd.Stdout = &out
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Run(); err != nil {
		return Row{}, fmt.Errorf("child %s: %w", strings.Join(cmd.Args, " "), err)
	}
	var row Row
	if err := json.Unmarshal(lastLine(out.Bytes()), &row); err != nil {
		return Row{}, fmt.Errorf("child %s: reading its result: %w", strings.Join(cmd.Args, " "), err)
	}
	// The child's own measure; its rusage where it has none (and on Linux
	// the larger of the two is the parent's peak at the fork).
	if row.PeakRSSBytes <= 0 {
		row.PeakRSSBytes = childPeakRSS(cmd.ProcessState)
	}
	row.RSSScope = "child"
	return row, nil
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// PrintSuite writes the rows as two aligned tables: the hold model, then
// the scenarios.
func PrintSuite(w io.Writer, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	tables := []struct{ kind, header string }{
		{"hold", "event queue (hold model)\tpending\tneosim ns/event\tcontainer/heap ns/event\tspeed-up\t"},
		{"scenario", "scenario\tGPUs\tdays\tjobs\tevents\tutil\twall\tevents/s\tjobs/s\tpeak RSS\tread\tsimulate\twrite\t"},
		{"trace", "trace replay (whole process)\tGPUs\tdays\tjobs\tevents\twall\tevents/s\tjobs/s\t"},
		{"fixed-cost", "small run (1,000 GPUs, 1 day, summary only)\truns\tmedian wall\truns/min\t"},
		{"sweep", "sweep of small runs\truns\tworkers\twall\truns/min\t"},
	}
	blank := false
	for _, tab := range tables {
		header := false
		for i := range rows {
			r := &rows[i]
			if r.Kind != tab.kind {
				continue
			}
			if !header {
				if blank {
					fmt.Fprintln(tw)
				}
				fmt.Fprintln(tw, tab.header)
				header, blank = true, true
			}
			fmt.Fprintln(tw, r.line())
		}
	}
	tw.Flush()
}

// line is the row's line in its PrintSuite table.
func (r *Row) line() string {
	switch r.Kind {
	case "hold":
		return fmt.Sprintf("\t%d\t%.0f\t%.0f\t%.1fx\t", r.Pending, r.NsPerEvent, r.BaselineNsPerEvent, r.Speedup())
	case "fixed-cost":
		return fmt.Sprintf("%s\t%d\t%.1f ms\t%.0f\t", r.Name, r.Runs, 1000*r.WallS, r.RunsPerMin())
	case "sweep":
		return fmt.Sprintf("%s\t%d\t%d\t%.2fs\t%.0f\t", r.Name, r.Runs, r.Workers, r.WallS, r.RunsPerMin())
	case "trace":
		return fmt.Sprintf("%s\t%d\t%.0f\t%s\t%s\t%.2fs\t%s\t%s\t", r.Name, r.GPUs, r.HorizonDays, si(float64(r.Jobs)),
			si(float64(r.Events)), r.WallS, si(r.EventsPerS()), si(r.JobsPerS()))
	}
	return fmt.Sprintf("%s\t%d\t%.0f\t%s\t%s\t%.0f%%\t%.2fs\t%s\t%s\t%s\t%.2fs\t%.2fs\t%.2fs\t",
		r.Name, r.GPUs, r.HorizonDays, si(float64(r.Jobs)), si(float64(r.Events)), 100*r.Utilization, r.WallS,
		si(r.EventsPerS()), si(r.JobsPerS()), mib(r.PeakRSSBytes, r.RSSScope), r.ReadS, r.SimulateS, r.WriteS)
}

func si(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func mib(b int64, scope string) string {
	if b <= 0 {
		return "-"
	}
	s := fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	if scope == "process" {
		s += "*" // the process's peak, not the scenario's own
	}
	return s
}

// suiteSchema is suite.arrow's schema; docs/performance.md describes the
// columns.
var suiteSchema = arrow.NewSchema([]arrow.Field{
	{Name: "suite_start", Type: arrow.BinaryTypes.String},
	{Name: "kind", Type: arrow.BinaryTypes.String},
	{Name: "name", Type: arrow.BinaryTypes.String},
	{Name: "gpus", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "horizon_days", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "jobs", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "events", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "utilization", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "wall_s", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "events_per_s", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "jobs_per_s", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "peak_rss_bytes", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "rss_scope", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "read_s", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "simulate_s", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "write_s", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "pending", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ns_per_event", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "baseline_ns_per_event", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "speedup", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "runs", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "workers", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "runs_per_min", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "go_version", Type: arrow.BinaryTypes.String},
	{Name: "cpus", Type: arrow.PrimitiveTypes.Int64},
	{Name: "neosim_version", Type: arrow.BinaryTypes.String},
}, func() *arrow.Metadata {
	md := arrow.NewMetadata([]string{"neosim.file"}, []string{"bench-suite"})
	return &md
}())

// SuiteColumns returns the names of suite.arrow's columns, in order.
func SuiteColumns() []string {
	names := make([]string, len(suiteSchema.Fields()))
	for i, f := range suiteSchema.Fields() {
		names[i] = f.Name
	}
	return names
}

// WriteSuite writes the rows to dir/suite.arrow and to
// dir/suite-<start>.arrow (start in UTC, e.g. 20261128T093000Z), each
// through a temporary name renamed at the end. It returns the two paths.
func WriteSuite(dir string, start time.Time, rows []Row) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, suiteSchema)
	defer b.Release()
	stamp := start.UTC().Format(time.RFC3339)
	for i := range rows {
		appendRow(b, stamp, &rows[i])
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var paths []string
	for _, name := range []string{SuiteFile, "suite-" + start.UTC().Format("20060102T150405Z") + ".arrow"} {
		p := filepath.Join(dir, name)
		if err := results.WriteArrowFile(p, rec); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

func appendRow(b *array.RecordBuilder, stamp string, r *Row) {
	col := 0
	next := func() array.Builder { col++; return b.Field(col - 1) }
	str := func(v string) { next().(*array.StringBuilder).Append(v) }
	optStr := func(v string) {
		if sb := next().(*array.StringBuilder); v == "" {
			sb.AppendNull()
		} else {
			sb.Append(v)
		}
	}
	i64 := func(v int64, ok bool) {
		if ib := next().(*array.Int64Builder); ok {
			ib.Append(v)
		} else {
			ib.AppendNull()
		}
	}
	f64 := func(v float64, ok bool) {
		if fb := next().(*array.Float64Builder); ok && !math.IsNaN(v) {
			fb.Append(v)
		} else {
			fb.AppendNull()
		}
	}
	scen, hold, trace := r.Kind == "scenario", r.Kind == "hold", r.Kind == "trace"
	small := r.Kind == "fixed-cost" || r.Kind == "sweep"
	str(stamp)
	str(r.Kind)
	str(r.Name)
	i64(r.GPUs, scen || small || trace)
	f64(r.HorizonDays, scen || small || trace)
	i64(r.Jobs, scen || trace)
	i64(r.Events, scen || trace)
	f64(r.Utilization, scen)
	f64(r.WallS, scen || small || trace)
	f64(r.EventsPerS(), scen || trace)
	f64(r.JobsPerS(), scen || trace)
	i64(r.PeakRSSBytes, scen && r.PeakRSSBytes > 0)
	optStr(r.RSSScope)
	f64(r.ReadS, scen)
	f64(r.SimulateS, scen)
	f64(r.WriteS, scen)
	i64(r.Pending, hold)
	f64(r.NsPerEvent, hold)
	f64(r.BaselineNsPerEvent, hold)
	f64(r.Speedup(), hold)
	i64(r.Runs, small)
	i64(r.Workers, small)
	f64(r.RunsPerMin(), small)
	str(runtime.Version())
	i64(int64(runtime.NumCPU()), true)
	str(runner.Version)
}
