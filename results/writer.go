package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"neosim/sim"
	"neosim/sim/econ"
	"neosim/sim/fleet"
)

// Writer writes a run's output files into one folder. It is a sim.Observer:
// pass it to sim.New, run the engine, then call Commit (or Abort if the run
// failed). A Writer is not safe for concurrent use; the engine calls it from
// its one loop.
type Writer struct {
	dir     string
	created []string // folders Create made, deepest first
	format  Format
	mem     memory.Allocator
	batch   int // rows per record batch (BatchRows; smaller in tests)

	jobs *table // jobs.arrow (or .parquet); nil if not written (Outputs)
	ts   *table // timeseries.arrow; nil if not written
	sum  *table // summary.arrow, opened by Commit

	// jobs.arrow's columns (columns.go)
	jID, jTenant, jReason, jCustomer                     *stringColumn
	jSegment, jGPUType, jState                           *dictColumn
	jGPUs, jMilli, jPriority, jPreemptions, jFailures    *fixedColumn[int32]
	jSubmit, jStart, jEnd, jWait, jRun, jWork, jGPUHours *fixedColumn[float64]
	jPrice, jRevenue, jLost, jWaitCF                     *fixedColumn[float64]
	jInWindow                                            *boolColumn
	jTokens                                              *fixedColumn[int64]
	cfWait                                               func(j *sim.Job) (sim.Time, bool)
	window                                               sim.Time // SetWindow

	// timeseries.arrow builders
	tT, tBusy, tUtil           *array.Float64Builder
	tGPUsTotal, tQueued, tDown *array.Int64Builder
	tPower, tSpot, tRev, tCost *array.Float64Builder
	power, cost                func(*sim.Sample) float64
	tBusySeg                   [sim.NumSegments]*array.Float64Builder
	tQueuedSeg                 [sim.NumSegments]*array.Int64Builder
	lastGPUsTotal              int64 // of the last sample
	// internalBusy and sampleT are the internal busy milli-GPUs at each
	// sample and the sample times, for the MSER-5 warm-up (mser.go).
	internalBusy []float64
	sampleT      []sim.Time

	acc     accumulator
	summary Summary
	err     error // the first write error; later calls do nothing
	state   writerState
}

type writerState uint8

const (
	open writerState = iota
	committed
	aborted
)

var _ sim.Observer = (*Writer)(nil)

// ErrClosed is returned by Commit after Commit or Abort.
var ErrClosed = errors.New("results: writer already committed or aborted")

// Create makes dir (and its parents) if needed and opens the temporary
// files, in the Arrow IPC format. On error it leaves nothing behind: no
// file, and no folder it made.
func Create(dir string) (*Writer, error) {
	return create(dir, FormatArrow, BatchRows, AllOutputs)
}

// CreateFormat is Create with the data files in the given format: the same
// rows, columns and metadata, encoded as Arrow IPC (jobs.arrow, …) or
// Parquet (jobs.parquet, …).
func CreateFormat(dir string, format Format) (*Writer, error) {
	return create(dir, format, BatchRows, AllOutputs)
}

// CreateOutputs is CreateFormat writing only the selected outputs: without
// OutJobs no jobs file, without OutTimeseries no timeseries file (the
// summary is the same either way). Commit removes an earlier run's file of
// an output left out, so the folder holds one run's files only.
func CreateOutputs(dir string, format Format, outputs Outputs) (*Writer, error) {
	return create(dir, format, BatchRows, outputs)
}

func create(dir string, format Format, batch int, outputs Outputs) (w *Writer, err error) {
	if dir == "" {
		return nil, errors.New("results: empty output folder name")
	}
	if err := format.valid(); err != nil {
		return nil, err
	}
	dir = filepath.Clean(dir)
	w = &Writer{dir: dir, format: format, mem: memory.NewGoAllocator(), batch: batch}
	// Note the folders that do not exist yet, deepest first, to remove them
	// on Abort.
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		}
		w.created = append(w.created, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		w.removeDirs()
		return nil, fmt.Errorf("results: %w", err)
	}
	defer func() {
		if err != nil {
			w.Abort()
			w = nil
		}
	}()
	if outputs&OutJobs != 0 {
		if w.jobs, err = openTable(dir, jobsSchema, format, w.mem, w.jobColumns(), batch); err != nil {
			return w, err
		}
	}
	if outputs&OutTimeseries != 0 {
		b := array.NewRecordBuilder(w.mem, timeseriesSchema.Schema)
		if w.ts, err = openTable(dir, timeseriesSchema, format, w.mem, b, 0); err != nil {
			return w, err
		}
		w.timeseriesBuilders(b)
	}
	return w, nil
}

// jobColumns makes jobs.arrow's columns.
func (w *Writer) jobColumns() *columns {
	c := &columns{schema: jobsSchema.Schema, cols: make([]column, jcCount)}
	str := func(i int) *stringColumn { return addColumn(c, i, newStringColumn()) }
	i32 := func(i int) *fixedColumn[int32] { return addColumn(c, i, &fixedColumn[int32]{}) }
	f64 := func(i int) *fixedColumn[float64] { return addColumn(c, i, &fixedColumn[float64]{}) }
	dict := func(i int) *dictColumn {
		col := jobsSchema.Columns[i]
		return addColumn(c, i, newDictColumn(w.mem, col.Type.(*arrow.DictionaryType), DictValues(col.Name)))
	}
	w.jID, w.jTenant, w.jReason, w.jCustomer = str(jcID), str(jcTenant), str(jcReason), str(jcCustomer)
	w.jSegment, w.jGPUType, w.jState = dict(jcSegment), dict(jcGPUType), dict(jcState)
	w.jGPUs, w.jMilli, w.jPriority, w.jPreemptions, w.jFailures = i32(jcGPUs), i32(jcMilli), i32(jcPriority), i32(jcPreemptions), i32(jcFailures)
	w.jSubmit, w.jStart, w.jEnd, w.jWait, w.jRun, w.jWork = f64(jcSubmit), f64(jcStart), f64(jcEnd), f64(jcWait), f64(jcRun), f64(jcWork)
	w.jGPUHours, w.jPrice, w.jRevenue, w.jLost = f64(jcGPUHours), f64(jcPrice), f64(jcRevenue), f64(jcLostGPUHours)
	w.jWaitCF = f64(jcWaitCF)
	w.jInWindow = addColumn(c, jcInWindow, &boolColumn{})
	w.jTokens = addColumn(c, jcTokens, &fixedColumn[int64]{})
	return c
}

func (w *Writer) timeseriesBuilders(b *array.RecordBuilder) {
	tf := b.Fields()
	w.tT = tf[tcT].(*array.Float64Builder)
	w.tGPUsTotal = tf[tcGPUsTotal].(*array.Int64Builder)
	w.tDown = tf[tcDown].(*array.Int64Builder)
	w.tPower = tf[tcPower].(*array.Float64Builder)
	w.tSpot = tf[tcSpot].(*array.Float64Builder)
	w.tRev = tf[tcRevRate].(*array.Float64Builder)
	w.tCost = tf[tcCostRate].(*array.Float64Builder)
	w.tBusy = tf[tcBusy].(*array.Float64Builder)
	w.tUtil = tf[tcUtil].(*array.Float64Builder)
	w.tQueued = tf[tcQueued].(*array.Int64Builder)
	for s := range sim.NumSegments {
		w.tBusySeg[s] = tf[tcBusySeg+int(s)].(*array.Float64Builder)
		w.tQueuedSeg[s] = tf[tcQueuedSeg+int(s)].(*array.Int64Builder)
	}
}

// Dir returns the output folder.
func (w *Writer) Dir() string { return w.dir }

// Format returns the format of the data files.
func (w *Writer) Format() Format { return w.format }

// Err returns the first error met while writing batches, if any. Commit
// returns it too; a caller may check it to stop a doomed run early.
func (w *Writer) Err() error { return w.err }

// SetEconomics sets the functions that give a sample's facility power (kW)
// and the fleet's cost rate ($/h), for the power_kw and cost_usd_per_hour
// columns (econ.Ledger.PowerKW and CostUSDPerHour); without them the
// columns are null.
func (w *Writer) SetEconomics(powerKW, costUSDPerHour func(*sim.Sample) float64) {
	w.power, w.cost = powerKW, costUSDPerHour
}

// SetWindow sets the measurement window's start (the scenario's warm-up;
// sim.Config.Warmup): jobs.arrow keeps every job and marks in_window those
// submitted at or after it; the summary counts only those, and only the
// GPU-hours and revenue held from it on.
func (w *Writer) SetWindow(start sim.Time) { w.window = start }

// SetCounterfactualWaits gives the writer the counterfactual's wait of each
// internal job (first start − submit, or negative if it never started there;
// ok false if the counterfactual has no such job), for the
// wait_s_counterfactual column. wait may block until the counterfactual has
// ended the job. Without it the column is null.
func (w *Writer) SetCounterfactualWaits(wait func(j *sim.Job) (sim.Time, bool)) { w.cfWait = wait }

func (w *Writer) counterfactualWait(j *sim.Job) (sim.Time, bool) {
	if w.cfWait == nil || j.Segment.External() {
		return 0, false
	}
	cw, ok := w.cfWait(j)
	return cw, ok && cw >= 0
}

// JobStarted does nothing: jobs are written when they end.
func (w *Writer) JobStarted(*sim.Job) {}

// JobEnded appends the job's row to jobs.arrow and counts it in the summary.
func (w *Writer) JobEnded(j *sim.Job) {
	if w.state != open || w.err != nil {
		return
	}
	wait := j.Wait()
	inWindow := j.Submit >= w.window
	w.acc.add(j, wait, inWindow, j.WindowGPUHours(), j.WindowRevenueMicroUSD())
	if w.jobs != nil {
		w.jobRow(j, wait, inWindow)
	}
}

// jobRow appends the job's row to jobs.arrow.
func (w *Writer) jobRow(j *sim.Job, wait sim.Time, inWindow bool) {
	gpuHours := j.GPUHours()
	price := float64(j.PriceMicroUSD) / 1e6
	revenue := float64(j.RevenueMicroUSD()) / 1e6 // sim/money.go: the one place money is computed

	w.jID.Append(j.ID)
	w.jSegment.AppendIndex(int(j.Segment))
	w.jTenant.Append(j.Tenant)
	w.jGPUs.Append(j.GPUs)
	w.jMilli.Append(int32(j.Milli))
	w.jPriority.Append(j.Priority)
	if j.Type >= 0 && int(j.Type) < len(fleet.Catalog) {
		w.jGPUType.AppendIndex(int(j.Type))
	} else {
		w.jGPUType.AppendNull()
	}
	w.jSubmit.Append(j.Submit.Seconds())
	if wait >= 0 {
		w.jStart.Append(j.FirstStart.Seconds())
		w.jWait.Append(wait.Seconds())
	} else {
		w.jStart.AppendNull()
		w.jWait.AppendNull()
	}
	if j.State == sim.Unfinished || j.End < 0 {
		w.jEnd.AppendNull()
	} else {
		w.jEnd.Append(j.End.Seconds())
	}
	w.jRun.Append(j.RunTime.Seconds())
	w.jWork.Append(j.Work.Seconds())
	w.jState.AppendIndex(int(j.State))
	if j.Reason == "" {
		w.jReason.AppendNull()
	} else {
		w.jReason.Append(j.Reason)
	}
	w.jPreemptions.Append(j.Preemptions)
	w.jFailures.Append(j.Failures)
	w.jGPUHours.Append(gpuHours)
	w.jPrice.Append(price)
	w.jRevenue.Append(revenue)
	w.jLost.Append(j.LostGPUHours())
	if j.Customer == "" {
		w.jCustomer.AppendNull()
	} else {
		w.jCustomer.Append(j.Customer)
	}

	if cw, ok := w.counterfactualWait(j); ok {
		w.jWaitCF.Append(cw.Seconds())
	} else {
		w.jWaitCF.AppendNull()
	}
	w.jInWindow.Append(inWindow)
	if j.Segment == sim.SegServing {
		w.jTokens.Append(j.Tokens)
	} else {
		w.jTokens.AppendNull()
	}
	w.jobs.rows++
	if w.jobs.rows >= w.batch {
		w.err = w.jobs.flush(false)
	}
}

// Sampled appends a row to timeseries.arrow.
func (w *Writer) Sampled(s *sim.Sample) {
	if w.state != open || w.err != nil {
		return
	}
	w.internalBusy = append(w.internalBusy, float64(s.BusyMilli[sim.SegInternal]))
	w.sampleT = append(w.sampleT, s.T)
	w.lastGPUsTotal = s.GPUsTotal
	if w.ts == nil {
		return
	}
	var busy, queued int64
	for seg := range sim.NumSegments {
		busy += s.BusyMilli[seg]
		queued += s.Queued[seg]
		w.tBusySeg[seg].Append(float64(s.BusyMilli[seg]) / fleet.FullGPU)
		w.tQueuedSeg[seg].Append(s.Queued[seg])
	}
	w.tT.Append(s.T.Seconds())
	w.tGPUsTotal.Append(s.GPUsTotal)
	w.tBusy.Append(float64(busy) / fleet.FullGPU)
	if s.GPUsTotal > 0 {
		w.tUtil.Append(float64(busy) / fleet.FullGPU / float64(s.GPUsTotal))
	} else {
		w.tUtil.AppendNull()
	}
	w.tQueued.Append(queued)
	w.tDown.Append(s.DownGPUs)
	if w.power != nil {
		w.tPower.Append(w.power(s))
		w.tCost.Append(w.cost(s))
	} else {
		w.tPower.AppendNull()
		w.tCost.AppendNull()
	}
	if s.SpotMicroUSD >= 0 {
		w.tSpot.Append(float64(s.SpotMicroUSD) / 1e6)
	} else {
		w.tSpot.AppendNull()
	}
	w.tRev.Append(s.RevenueUSDPerHour)

	w.ts.rows++
	if w.ts.rows >= w.batch {
		w.err = w.ts.flush(false)
	}
}

// RunInfo is what the caller knows about a run that the writer does not
// see through the Observer calls.
type RunInfo struct {
	Scenario  string
	Seed      uint64
	Allocator string
	Pricer    string // "" if none
	Horizon   sim.Time
	End       sim.Time // sim.Stats.End
	GPUsTotal int64    // 0: take it from the last sample
	Events    int64    // sim.Stats.Events
	// NodeFailures is sim.Stats.Failures.
	NodeFailures int64
	// JobsAfterHorizon is the number of trace jobs submitted after the
	// horizon, counted but not simulated.
	JobsAfterHorizon int64
	// Econ is the margin ledger's report for the run, if it had one.
	Econ *econ.Report
	// Warmup is the start of the measurement window (SetWindow).
	Warmup sim.Time
	// Counterfactual is what the counterfactual run measured; nil if it
	// was not run.
	Counterfactual *Counterfactual
	// WallSeconds is the run's wall-clock time; it goes to run.json only.
	WallSeconds float64
	// Version is neosim's version string, for run.json.
	Version string
	// Resolved is the resolved scenario, marshalled into run.json with
	// encoding/json (so it must be JSON-marshallable: no map[any]any).
	Resolved any
}

// Commit writes the last batches, summary.arrow and run.json, and renames
// every file into place, run.json last. On error it removes what it wrote
// (as Abort does) and returns the error. Summary is valid after a
// successful Commit.
func (w *Writer) Commit(info RunInfo) error {
	if w.state != open {
		return ErrClosed
	}
	if err := w.commit(info); err != nil {
		w.Abort()
		return err
	}
	w.state = committed
	w.release()
	return nil
}

func (w *Writer) commit(info RunInfo) error {
	if w.err != nil {
		return w.err
	}
	if info.GPUsTotal == 0 {
		info.GPUsTotal = w.lastGPUsTotal
	}
	w.summary = w.acc.summarize(info)
	w.summary.MSER5WarmupS = math.NaN()
	if drop, ok := MSER5(w.internalBusy); ok && len(w.sampleT) > drop {
		w.summary.MSER5WarmupS = w.sampleT[drop].Seconds()
	}
	runJSON, err := marshalRun(&info, w.format)
	if err != nil {
		return err
	}
	for _, t := range []*table{w.jobs, w.ts} {
		if t == nil {
			continue
		}
		if err := t.finish(); err != nil {
			return err
		}
	}
	sb := array.NewRecordBuilder(w.mem, summarySchema.Schema)
	sum, err := openTable(w.dir, summarySchema, w.format, w.mem, sb, 1)
	if err != nil {
		return err
	}
	w.sum = sum
	appendSummary(sb, &w.summary)
	sum.rows = 1
	if err := sum.finish(); err != nil {
		return err
	}
	runTmp := filepath.Join(w.dir, "."+RunFile+".tmp")
	if err := writeFileSync(runTmp, runJSON); err != nil {
		return err
	}
	// A folder with run.json holds a complete run: take the old run.json
	// away before replacing the data files, and put the new one last.
	runFinal := filepath.Join(w.dir, RunFile)
	if err := os.Remove(runFinal); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("results: %w", err)
	}
	for _, t := range []*table{w.jobs, w.ts, sum} {
		if t == nil {
			continue
		}
		if err := os.Rename(t.tmp, t.final); err != nil {
			return fmt.Errorf("results: %w", err)
		}
	}
	for _, left := range []struct {
		t    *table
		name string
	}{{w.jobs, "jobs"}, {w.ts, "timeseries"}} {
		if left.t != nil {
			continue
		}
		// An earlier run's file of an output left out.
		if err := os.Remove(filepath.Join(w.dir, w.format.File(left.name))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("results: %w", err)
		}
	}
	if err := os.Rename(runTmp, runFinal); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	syncDir(w.dir)
	return nil
}

// Abort removes the temporary files, and the folders Create made if they
// are empty. It does nothing after Commit; it is safe to call twice.
func (w *Writer) Abort() error {
	if w.state != open {
		return nil
	}
	w.state = aborted
	for _, t := range []*table{w.jobs, w.ts, w.sum} {
		if t != nil {
			t.discard()
		}
	}
	os.Remove(filepath.Join(w.dir, "."+RunFile+".tmp"))
	w.release()
	w.removeDirs()
	return nil
}

func (w *Writer) removeDirs() {
	for _, d := range w.created {
		if os.Remove(d) != nil {
			if _, err := os.Lstat(d); err == nil {
				return // not empty: keep it and its parents
			}
		}
	}
}

func (w *Writer) release() {
	for _, t := range []*table{w.jobs, w.ts, w.sum} {
		if t != nil {
			t.release()
		}
	}
}

// Summary returns the run's summary numbers, as written to summary.arrow.
// It is the zero Summary before a successful Commit.
func (w *Writer) Summary() Summary { return w.summary }

// runFile is run.json.
type runFile struct {
	SchemaVersion    string   `json:"schema_version"`
	Format           string   `json:"format"` // of the data files: "arrow" or "parquet"
	NeosimVersion    string   `json:"neosim_version"`
	Scenario         string   `json:"scenario"`
	Seed             uint64   `json:"seed"`
	Allocator        string   `json:"allocator"`
	Pricer           string   `json:"pricer"`
	HorizonS         *float64 `json:"horizon_s"` // null: no horizon
	EndS             float64  `json:"end_s"`
	WarmupS          float64  `json:"warmup_s"` // the measurement window's start
	WallS            float64  `json:"wall_s"`
	Events           int64    `json:"events"`
	ResolvedScenario any      `json:"resolved_scenario"`
}

func marshalRun(info *RunInfo, format Format) ([]byte, error) {
	r := runFile{
		SchemaVersion: SchemaVersion, Format: format.String(), NeosimVersion: info.Version,
		Scenario: info.Scenario, Seed: info.Seed, Allocator: info.Allocator, Pricer: info.Pricer,
		EndS: info.End.Seconds(), WarmupS: info.Warmup.Seconds(), WallS: info.WallSeconds, Events: info.Events,
		ResolvedScenario: info.Resolved,
	}
	if info.Horizon > 0 {
		h := info.Horizon.Seconds()
		r.HorizonS = &h
	}
	b, err := json.MarshalIndent(&r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("results: run.json: %w", err)
	}
	return append(b, '\n'), nil
}

func writeFileSync(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}

// syncDir makes the renames durable where the OS allows it (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
