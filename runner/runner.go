// Package runner turns a resolved scenario into one simulation run: it
// builds the fleet, the job sources (trace and generated workloads) and the
// policies, runs the engine with the Arrow writers attached, and commits the
// output files only when the run succeeded. The CLI and the benchmarks call
// it; it holds the logic a test would want, so cmd stays thin.
package runner

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"neosim/policies"
	"neosim/results"
	"neosim/scenario"
	"neosim/sim"
	"neosim/sim/econ"
	"neosim/sim/fleet"
	"neosim/traces"
	"neosim/workloads"
)

// notes holds the notes already printed by this process.
var notes sync.Map

// Version is neosim's version, recorded in run.json.
const Version = "0.1.0"

// Options are the run's settings besides the scenario.
type Options struct {
	// Out is the output directory; "" means results/runs/<scenario>-<seed>.
	Out string
	// Format is the data files' format (the zero value: Arrow IPC).
	Format results.Format
	// Warn receives warnings (unknown trace columns, rejected jobs); nil
	// discards them.
	Warn io.Writer
	// Progress, if set, is called about every 65,536 events.
	Progress func(now, horizon sim.Time, events int64)
	// CheckInvariants checks the engine's invariants after every event.
	CheckInvariants bool
	// Inline reads the sources and writes the output on the engine's
	// goroutine instead of beside it (pipeline.go). One run alone is faster
	// piped, using a second core; many runs at once (compare, sweep with
	// -j ≥ 2) get more done inline, each core busy with a run of its own
	// and no hand-offs between goroutines. The counterfactual still runs
	// beside the run: simulating it first on the caller's goroutine
	// measured no faster (docs/performance.md, "compare/sweep, 1 → 2
	// workers").
	Inline bool
	// NoCounterfactual skips the counterfactual run (counterfactual.go):
	// the value-of-selling columns are then null. By default every run
	// with possible external demand also simulates its counterfactual,
	// on a goroutine beside it.
	NoCounterfactual bool
	// Outputs selects the data files written (results.Outputs); the zero
	// value writes every one. The summary is always computed and written;
	// a sweep that needs only summaries leaves out jobs and timeseries,
	// and then the counterfactual does not hand its per-job waits over.
	Outputs results.Outputs
	// Counterfactuals, if set, shares the counterfactual with the other
	// runs given the same cache whose counterfactual is the same (they
	// differ only in the pricer or the external demand): an experiment's
	// runs, summaries only (shared.go).
	Counterfactuals *Counterfactuals
}

// outputs returns the selected outputs, every one by default.
func (o *Options) outputs() results.Outputs {
	if o.Outputs == 0 {
		return results.AllOutputs
	}
	return o.Outputs
}

// Result is what a finished run reports.
type Result struct {
	Out     string
	Summary results.Summary
	Wall    time.Duration // the engine's run, without setup and the final commit
	Stats   sim.Stats
	// Phases is the time spent reading, simulating and writing.
	Phases Phases
}

// DefaultOut returns the default output directory of a scenario.
func DefaultOut(s *scenario.Scenario) string {
	return filepath.Join("results", "runs", s.Name+"-"+strconv.FormatUint(s.Seed, 10))
}

// BuildFleet makes the scenario's fleet. Notes about an imported node list
// (skipped nodes, assumed models) go to warn.
func BuildFleet(s *scenario.Scenario, warn io.Writer) (*fleet.Fleet, error) {
	groups := s.Fleet.Groups
	switch {
	case s.Fleet.Spec != "":
		g, err := fleet.ParseSpec(s.Fleet.Spec)
		if err != nil {
			return nil, err
		}
		groups = g
	case s.Fleet.File != "":
		g, format, err := traces.ReadFleet(s.Fleet.File, s.Fleet.Format, traces.Options{Warn: warn, Models: s.GPUModels})
		if err != nil {
			return nil, err
		}
		if s.Fleet.Format == "" || s.Fleet.Format == "auto" {
			fmt.Fprintf(warn, "neosim: fleet %s: %s node list\n", s.Fleet.File, format)
		}
		groups = g
	}
	return fleet.New(groups)
}

// Sources opens the scenario's job sources: the trace (if any) in place of
// the internal workloads, then each workload the scenario keeps. The caller
// closes the returned closers.
func Sources(s *scenario.Scenario, warn io.Writer) ([]sim.Source, []io.Closer, error) {
	srcs, closers, _, _, err := openSources(s, warn)
	return srcs, closers, err
}

// openSources is Sources, which also returns the counter of the trace jobs
// after the horizon (nil without a trace or a horizon) and the trace's
// reader (nil without a trace). With a trace and no horizon, the synthetic
// sources generate up to the trace's last arrival.
func openSources(s *scenario.Scenario, warn io.Writer) (srcs []sim.Source, closers []io.Closer, after *afterHorizon, trace traces.Source, err error) {
	genHorizon := sim.Time(s.Horizon)
	if s.Trace != "" {
		r, format, err := traces.OpenAs(s.Trace, s.TraceFormat, traces.Options{Warn: warn, Models: s.GPUModels})
		if err != nil {
			return nil, nil, nil, nil, err
		}
		trace = r
		if s.TraceFormat == "" || s.TraceFormat == "auto" {
			fmt.Fprintf(warn, "neosim: trace %s: %s format\n", s.Trace, format)
		}
		closers = append(closers, r)
		if genHorizon > 0 {
			after = &afterHorizon{Source: r, horizon: genHorizon}
			srcs = append(srcs, after)
		} else {
			srcs = append(srcs, r)
		}
	}
	// synthetic makes a generated source, telling it where arrivals stop.
	synthetic := func(src func(horizon sim.Time) (sim.Source, error)) error {
		if genHorizon == 0 && s.Trace != "" {
			last, err := lastArrival(s)
			if err != nil {
				return err
			}
			genHorizon = max(last, 1)
		}
		g, err := src(genHorizon)
		if err == nil {
			srcs = append(srcs, g)
		}
		return err
	}
	if s.Frontier != nil && s.Trace == "" {
		if err := synthetic(func(h sim.Time) (sim.Source, error) { return s.Frontier.Source(s.Seed, h) }); err != nil {
			return nil, closers, nil, nil, fmt.Errorf("frontier: %w", err)
		}
	}
	if s.ExternalDemand != nil && s.ExternalOn() {
		if err := synthetic(func(h sim.Time) (sim.Source, error) { return s.ExternalDemand.SourceWith(s.Seed, h, openRequests) }); err != nil {
			return nil, closers, nil, nil, fmt.Errorf("external_demand: %w", err)
		}
	}
	for i := range s.Workloads {
		w := &s.Workloads[i]
		seg, err := sim.ParseSegment(w.Segment)
		if err != nil {
			return nil, closers, nil, nil, fmt.Errorf("workloads[%d]: %w", i, err)
		}
		if (seg == sim.SegInternal && s.Trace != "") || (seg.External() && !s.ExternalOn()) {
			continue
		}
		if err := synthetic(func(h sim.Time) (sim.Source, error) { return w.Source(s.Seed, h) }); err != nil {
			return nil, closers, nil, nil, err
		}
	}
	return srcs, closers, after, trace, nil
}

// openRequests reads a serving segment's request log (traces.ReadRequests).
func openRequests(path string) (workloads.RequestLog, error) {
	r, err := traces.ReadRequests(path)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Run simulates the scenario and writes its output files. On any error no
// output file is left behind.
func Run(s *scenario.Scenario, opt Options) (res *Result, err error) {
	s.EnsureDefaults()
	if opt.Warn == nil {
		opt.Warn = io.Discard
	}
	if note := s.FitWarmup(); note != "" {
		if _, said := notes.LoadOrStore(note, true); !said { // once, not once per run of a sweep
			fmt.Fprintln(opt.Warn, "neosim: "+note)
		}
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	alloc, err := policies.Allocators.NewWith(s.Allocator, s.AllocatorParams)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	pricer, err := policies.Pricers.NewWith(s.Pricer, s.PricerParams)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	setup := time.Now()
	f, err := BuildFleet(s, opt.Warn)
	if err != nil {
		return nil, err
	}
	srcs, closers, after, trace, err := openSources(s, opt.Warn)
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	if len(srcs) == 0 {
		return nil, errors.New("scenario " + s.Name + ": no job source (no trace, and every workload is turned off)")
	}
	out := opt.Out
	if out == "" {
		out = DefaultOut(s)
	}
	w, err := results.CreateOutputs(out, opt.Format, opt.outputs())
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			w.Abort()
		}
	}()
	horizon := sim.Time(s.Horizon)
	cfg := sim.Config{Horizon: horizon, SampleInterval: sim.Time(s.SampleInterval), CheckInvariants: opt.CheckInvariants,
		RestartOverhead: sim.Time(s.RestartOverhead), Seed: s.Seed, SpreadPenalty: s.SpreadPenalty, Warmup: sim.Time(s.Warmup)}
	if fl := s.Failures; fl != nil && fl.Enabled {
		repair := *fl.Repair
		cfg.Failures = &sim.Failures{PerGPUHour: fl.PerGPUHour, Repair: func(r *rand.Rand) sim.Time {
			return sim.FromSeconds(repair.Sample(r))
		}}
	}
	if opt.Progress != nil {
		cfg.Progress = func(now sim.Time, events int64) { opt.Progress(now, horizon, events) }
	}
	if err := applyPowerProfile(s, opt.Warn); err != nil {
		return nil, err
	}
	ledger, err := econ.NewLedger(s.Cost, f)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	ledger.SetWindow(cfg.Warmup)
	w.SetWindow(cfg.Warmup)
	w.SetEconomics(ledger.PowerKW, ledger.CostUSDPerHour)
	// Each source is read, and the output written, on a goroutine of its
	// own beside the engine's (pipeline.go); the phase clocks time them
	// there. The deferred stops run before the sources are closed.
	readClocks := make([]*phaseClock, len(srcs))
	piped := make([]sim.Source, len(srcs))
	for i, src := range srcs {
		readClocks[i] = newPhaseClock(s.Seed + 1 + uint64(i))
		piped[i] = timedSource{src, readClocks[i]}
		if !opt.Inline {
			p := newPrefetchSource(piped[i])
			defer p.stop()
			piped[i] = p
		}
	}
	writeClock := newPhaseClock(s.Seed)
	var obs sim.Observer = timedObserver{w, writeClock}
	closeObs := func() {}
	// Without a jobs file the writer only sums each job into the summary:
	// cheaper on the engine's goroutine than copying the job to another.
	if !opt.Inline && opt.outputs()&results.OutJobs != 0 {
		aw := newAsyncObserver(obs)
		obs, closeObs = aw, aw.close
	}
	// Per-job waits only go to the jobs file's wait_s_counterfactual.
	perJob := opt.outputs()&results.OutJobs != 0
	var cf counterfactualChoice
	if !opt.NoCounterfactual {
		cfCfg := cfg // the decision may come later, on another goroutine
		cerr := cf.choose(s, trace, func() (*counterfactualRun, error) {
			if opt.Counterfactuals != nil {
				return opt.Counterfactuals.start(s, cfCfg, opt, perJob)
			}
			var waits waitSink
			if perJob {
				waits = newWaitBoard()
			}
			return startCounterfactual(s, cfCfg, opt, waits), nil
		})
		if cerr != nil {
			return nil, cerr
		}
		defer func() {
			if err != nil {
				cf.abandon()
			}
		}()
		if perJob && cf.maybe() {
			defer cf.closeWaits() // a failed run stops asking
			w.SetCounterfactualWaits(cf.writerWaits())
		}
	}
	defer closeObs() // before a failed run's Abort
	e := sim.New(cfg, f, alloc, pricer, piped, obs, ledger)
	start := time.Now()
	if err := e.Run(); err != nil {
		return nil, err
	}
	wall := time.Since(start)
	commit := time.Now()
	closeObs()
	st := *e.Stats()
	report := ledger.Report(st.End)
	info := results.RunInfo{
		Scenario: s.Name, Seed: s.Seed, Allocator: alloc.Name(), Pricer: pricer.Name(),
		Horizon: horizon, End: st.End, GPUsTotal: int64(f.GPUs()), Events: st.Events, NodeFailures: st.Failures, Econ: &report,
		WallSeconds: wall.Seconds(), Version: Version, Resolved: s, Warmup: cfg.Warmup,
	}
	if s.Company != nil {
		report.AddCompany(*s.Company)
	}
	run, err := cf.chosen()
	if err != nil {
		return nil, err
	}
	switch {
	case run != nil:
		c, err := run.wait()
		if err != nil {
			return nil, err
		}
		report.AddCounterfactual(c.InternalWaitGPUHours)
		info.Counterfactual = &c
	case !opt.NoCounterfactual:
		// Nothing external could arrive: the run is its own counterfactual.
		report.AddCounterfactual(report.InternalWaitGPUHours)
		info.Counterfactual = &results.Counterfactual{InternalWaitGPUHours: report.InternalWaitGPUHours, Self: true}
	}
	if after != nil {
		info.JobsAfterHorizon = after.count
	}
	if err := w.Commit(info); err != nil {
		return nil, err
	}
	ph := Phases{Read: start.Sub(setup), Simulate: wall, Write: writeClock.estimate() + time.Since(commit)}
	for _, c := range readClocks {
		ph.Read += c.estimate()
	}
	ph.Wall = time.Since(setup)
	sum := w.Summary()
	if after != nil {
		after.warn(opt.Warn, s.Trace)
	}
	var rejected int64 // every job, the warm-up's too
	for seg := range st.Jobs {
		rejected += st.Jobs[seg][sim.Rejected]
	}
	if n := rejected; n > 0 {
		see := "see the reason column of " + opt.Format.File("jobs")
		if opt.outputs()&results.OutJobs == 0 {
			see = "this run wrote no jobs file: add jobs to --outputs to see each one's reason"
		}
		fmt.Fprintf(opt.Warn, "neosim: %d job(s) rejected: no part of the fleet could ever hold them (%s)\n", n, see)
	}
	return &Result{Out: out, Summary: sum, Wall: wall, Stats: st, Phases: ph}, nil
}

// applyPowerProfile reads the scenario's power profile, if any, into its
// cost model: the models of catalog types, with a warning naming the others
// and one if the profile is not a measurement.
func applyPowerProfile(s *scenario.Scenario, warn io.Writer) error {
	if s.PowerProfile == "" {
		return nil
	}
	p, err := econ.ReadCalibration(s.PowerProfile)
	if err != nil {
		return fmt.Errorf("scenario %s: power_profile: %w", s.Name, err)
	}
	ps, skipped := p.PowerProfiles()
	s.Cost.Power = ps
	if !p.Measured {
		fmt.Fprintf(warn, "neosim: power profile %s is not a measurement (built-in defaults)\n", s.PowerProfile)
	}
	if len(skipped) > 0 {
		fmt.Fprintf(warn, "neosim: power profile %s: %s not in the GPU catalog, ignored (known: %s)\n",
			s.PowerProfile, strings.Join(skipped, ", "), fleet.TypeNames())
	}
	return nil
}
