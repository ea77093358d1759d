package advise

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"neosim/results"
	"neosim/runner"
	"neosim/scenario"
	"neosim/sim"
)

// Month is the month of every per-month figure: 30 days.
const Month = 30 * 24 * time.Hour

// Defaults of Options (docs/advise.md).
const (
	DefaultFirstStage   = 5
	DefaultAlpha        = 0.05
	DefaultIndifference = 0.05 // of the best first-stage |mean net value|
	DefaultTolerance    = 0.1  // of each budget
	DefaultBudgetRuns   = 300
)

// Method names the procedure in advice.json.
const Method = "KN fully sequential ranking and selection with common random numbers (Kim & Nelson 2001), feasibility by the sequential check of Andradóttir & Kim (2010)"

// Options are a search's settings.
type Options struct {
	// Load returns a fresh copy of the base scenario (each run changes its
	// copy).
	Load  func() (*scenario.Scenario, error)
	Space Space
	// MaxDelayGPUHoursPerMonth bounds the internal delay selling causes,
	// GPU-hours per 30-day month; NaN: no bound.
	MaxDelayGPUHoursPerMonth float64
	// MaxSlowdownIncrease bounds the relative increase of the internal
	// jobs' mean bounded slowdown over the counterfactual's (0.05: 5%);
	// NaN: no bound.
	MaxSlowdownIncrease float64
	// Tolerance is each bound's indifference, as a fraction of the bound
	// (default DefaultTolerance).
	Tolerance float64
	// SeedBase is the first seed (≥ 1); candidates use SeedBase, SeedBase+1, …
	SeedBase uint64
	// FirstStage is the seeds every candidate gets first (n0 ≥ 2).
	FirstStage int
	// BudgetRuns caps the runs (0: no cap); BudgetTime the wall time (0: no
	// cap): no run starts after it, and the first stage always completes.
	BudgetRuns int
	BudgetTime time.Duration
	// Jobs is the runs at once (default: every core).
	Jobs int
	// Alpha is 1 − the confidence (default 0.05).
	Alpha float64
	// Indifference is the indifference zone δ of the net value, USD per
	// month; 0: IndifferenceFraction × the best first-stage |mean|.
	Indifference         float64
	IndifferenceFraction float64
	// Progress receives one line per stage; nil: none.
	Progress io.Writer
	// Start is when the search started (for BudgetTime); zero: now.
	Start time.Time
}

// Obs is one run's measures, per 30-day month of the measurement window.
type Obs struct {
	NetValue         float64 // USD/month
	DelayCaused      float64 // GPU-h/month
	SlowdownIncrease float64 // internal mean bounded slowdown / counterfactual's − 1
	ExternalRevenue  float64 // USD/month
	GrossMargin      float64
	OperatingMargin  float64
	// CompanyMarginWith and CompanyMarginWithout are the company's
	// operating margin with and without the cloud business (docs/economics.md).
	CompanyMarginWith    float64
	CompanyMarginWithout float64
	Utilization          float64
	InternalSlowdown     float64
	CFSlowdown           float64
	WallSeconds          float64
	MeasurementMonths    float64
}

// Feasibility is a candidate's standing against one bound.
type Feasibility int8

// Feasibility values.
const (
	Unbounded  Feasibility = iota // no such bound
	Undecided                     // not yet told apart from the bound
	Feasible                      // within the bound at the confidence
	Infeasible                    // beyond the bound at the confidence
)

func (f Feasibility) String() string {
	return [...]string{"unbounded", "undecided", "feasible", "infeasible"}[f]
}

// Status is where a candidate ended.
type Status int8

// Status values.
const (
	InContention Status = iota // still sampled when the search stopped
	Eliminated                 // beaten on net value by a feasible candidate
	Excluded                   // beyond a bound
)

func (s Status) String() string { return [...]string{"contention", "eliminated", "infeasible"}[s] }

// CandidateResult is a candidate and what the search learned of it.
type CandidateResult struct {
	Candidate
	Obs    []Obs // by seed: Obs[i] is seed SeedBase+i
	Status Status
	// DecidedAt is the seeds at elimination or exclusion (0: never).
	DecidedAt int
	// EliminatedBy is the candidate that eliminated it (-1: none).
	EliminatedBy int
	// Delay and Slowdown are its standing against the two bounds.
	Delay, Slowdown Feasibility
}

// feasible reports whether every bound is met at the confidence.
func (c *CandidateResult) feasible() bool {
	return (c.Delay == Unbounded || c.Delay == Feasible) && (c.Slowdown == Unbounded || c.Slowdown == Feasible)
}

// Result is a finished search.
type Result struct {
	Options    Options
	Candidates []CandidateResult
	// Recommended indexes Candidates; -1 when no candidate meets the
	// bounds.
	Recommended int
	// Separated: the search ended with one feasible candidate in
	// contention (Kim & Nelson's stopping rule at 1 − Alpha).
	Separated bool
	// Tied are the other candidates still in contention; Identical the
	// candidates with the recommendation's results on every common seed.
	Tied, Identical []int
	// Stop says why the search ended.
	Stop  string
	Runs  int
	Wall  time.Duration
	Delta float64 // the indifference zone used, USD/month
	// Base is the resolved base scenario (for the assumptions).
	Base *scenario.Scenario
}

// Search runs the procedure (docs/advise.md, "Method").
func Search(opt Options) (*Result, error) {
	if err := opt.fill(); err != nil {
		return nil, err
	}
	base, err := opt.Load()
	if err != nil {
		return nil, err
	}
	base.EnsureDefaults()
	if base.Horizon <= 0 {
		return nil, errors.New("the scenario needs a horizon (per-month figures are over horizon − warmup)")
	}
	if base.Warmup >= base.Horizon {
		return nil, errors.New("the warm-up must end before the horizon")
	}
	cands := opt.Space.Candidates()
	k := len(cands)
	n0 := opt.FirstStage
	if opt.BudgetRuns > 0 && opt.BudgetRuns < k*n0 {
		return nil, fmt.Errorf("--budget-runs %d: the first stage alone needs %d runs (%d candidates × %d seeds)", opt.BudgetRuns, k*n0, k, n0)
	}
	tmp, err := os.MkdirTemp("", "neosim-advise-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	res := &Result{Options: opt, Recommended: -1, Base: base}
	res.Candidates = make([]CandidateResult, k)
	for i, c := range cands {
		res.Candidates[i] = CandidateResult{Candidate: c, EliminatedBy: -1, Delay: bound(opt.MaxDelayGPUHoursPerMonth), Slowdown: bound(opt.MaxSlowdownIncrease)}
	}
	ev := &evaluator{opt: opt, tmp: tmp, res: res, cfs: runner.NewCounterfactuals()}
	all := make([]int, k)
	for i := range all {
		all[i] = i
	}
	ev.deadline = time.Time{} // the first stage always completes
	if err := ev.extend(all, n0); err != nil {
		return nil, err
	}
	if opt.BudgetTime > 0 {
		ev.deadline = opt.Start.Add(opt.BudgetTime)
	}
	kn := newKN(res, opt, n0)
	res.Delta = kn.delta
	r := n0
	kn.check(r)
	for {
		surv := kn.contention()
		opt.progressf("advise: %d seeds, %d runs, %d of %d candidates in contention (%s)\n", r, res.Runs, len(surv), k, time.Since(opt.Start).Round(time.Second))
		if len(surv) == 0 {
			res.Stop = "no candidate meets the bounds"
			break
		}
		if len(surv) == 1 && res.Candidates[surv[0]].feasible() {
			res.Separated = true
			res.Stop = "separated"
			break
		}
		left := math.MaxInt
		if opt.BudgetRuns > 0 {
			left = opt.BudgetRuns - res.Runs
		}
		if left < len(surv) {
			res.Stop = "budget of runs spent"
			break
		}
		if !ev.deadline.IsZero() && !time.Now().Before(ev.deadline) {
			res.Stop = "budget of time spent"
			break
		}
		b := min(max(1, (opt.Jobs+len(surv)-1)/len(surv)), left/len(surv))
		if err := ev.extend(surv, r+b); err != nil {
			return nil, err
		}
		done := r + b
		for _, i := range surv {
			done = min(done, len(res.Candidates[i].Obs))
		}
		for rr := r + 1; rr <= done; rr++ {
			kn.check(rr)
		}
		if done == r { // the deadline stopped every run
			res.Stop = "budget of time spent"
			break
		}
		r = done
	}
	res.Wall = time.Since(opt.Start)
	res.choose()
	return res, nil
}

func bound(b float64) Feasibility {
	if math.IsNaN(b) {
		return Unbounded
	}
	return Undecided
}

// RunRecommended simulates the recommendation with the first seed and
// keeps its files (jobs.arrow, timeseries.arrow, summary.arrow, run.json)
// in dir: the one candidate run worth reading job by job.
func (r *Result) RunRecommended(dir string) error {
	if r.Recommended < 0 {
		return errors.New("no recommendation to keep")
	}
	s, err := r.Options.Load()
	if err != nil {
		return err
	}
	r.Candidates[r.Recommended].Apply(s)
	s.Seed = r.Options.SeedBase
	_, err = runner.Run(s, runner.Options{Out: dir})
	return err
}

// fill sets the defaults and checks the options.
func (o *Options) fill() error {
	if o.Load == nil {
		return errors.New("advise: no scenario")
	}
	if err := o.Space.Validate(); err != nil {
		return err
	}
	if o.FirstStage == 0 {
		o.FirstStage = DefaultFirstStage
	}
	if o.FirstStage < 2 {
		return errors.New("--first-stage: at least 2 seeds (the procedure needs a variance)")
	}
	if o.Alpha == 0 {
		o.Alpha = DefaultAlpha
	}
	if !(o.Alpha > 0 && o.Alpha < 1) {
		return fmt.Errorf("alpha %v: must be in (0, 1)", o.Alpha)
	}
	if o.Tolerance == 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.IndifferenceFraction == 0 {
		o.IndifferenceFraction = DefaultIndifference
	}
	if o.Jobs <= 0 {
		o.Jobs = runtime.NumCPU()
	}
	if o.SeedBase == 0 {
		o.SeedBase = 1
	}
	if o.Start.IsZero() {
		o.Start = time.Now()
	}
	if o.MaxDelayGPUHoursPerMonth < 0 || o.MaxSlowdownIncrease < 0 {
		return errors.New("a delay budget must be ≥ 0")
	}
	return nil
}

func (o *Options) progressf(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, format, args...)
	}
}

// choose picks the recommendation once the search has stopped: the one
// feasible candidate left, or else the candidate in contention with the
// best mean net value among those whose means meet the bounds.
func (r *Result) choose() {
	var cont []int
	for i := range r.Candidates {
		if r.Candidates[i].Status == InContention {
			cont = append(cont, i)
		}
	}
	best := -1
	for _, i := range cont {
		c := &r.Candidates[i]
		if !r.meanFeasible(c) {
			continue
		}
		if best < 0 || r.better(i, best) {
			best = i
		}
	}
	r.Recommended = best
	if best < 0 {
		if r.Stop == "separated" {
			r.Stop = "no candidate meets the bounds"
		}
		r.Separated = false
		return
	}
	for _, i := range cont {
		if i != best {
			r.Tied = append(r.Tied, i)
		}
	}
	for i := range r.Candidates {
		if i != best && identical(&r.Candidates[i], &r.Candidates[best]) {
			r.Identical = append(r.Identical, i)
		}
	}
}

// better orders candidates by mean net value, then as prefer does.
func (r *Result) better(i, l int) bool {
	mi, ml := mean(r.Candidates[i].Obs, netValue), mean(r.Candidates[l].Obs, netValue)
	if mi != ml {
		return mi > ml
	}
	return r.prefer(i, l)
}

// prefer breaks ties between candidates i and l with equal results: the
// larger internal share (it keeps more for the owner at no loss), then the
// first listed.
func (r *Result) prefer(i, l int) bool {
	a, b := r.Candidates[i].Share, r.Candidates[l].Share
	switch {
	case math.IsNaN(a) != math.IsNaN(b):
		return !math.IsNaN(a)
	case !math.IsNaN(a) && a != b:
		return a > b
	}
	return i < l
}

// meanFeasible reports whether the candidate's means meet the bounds.
func (r *Result) meanFeasible(c *CandidateResult) bool {
	o := &r.Options
	if !math.IsNaN(o.MaxDelayGPUHoursPerMonth) && mean(c.Obs, delayCaused) > o.MaxDelayGPUHoursPerMonth {
		return false
	}
	if !math.IsNaN(o.MaxSlowdownIncrease) && mean(c.Obs, slowdownIncrease) > o.MaxSlowdownIncrease {
		return false
	}
	return true
}

// identical reports whether a and b have the same net value and caused
// delay on every seed both have.
func identical(a, b *CandidateResult) bool {
	n := min(len(a.Obs), len(b.Obs))
	for j := range n {
		if a.Obs[j].NetValue != b.Obs[j].NetValue || a.Obs[j].DelayCaused != b.Obs[j].DelayCaused {
			return false
		}
	}
	return n > 0
}

func netValue(o *Obs) float64         { return o.NetValue }
func delayCaused(o *Obs) float64      { return o.DelayCaused }
func slowdownIncrease(o *Obs) float64 { return o.SlowdownIncrease }

func mean(obs []Obs, f func(*Obs) float64) float64 {
	var s float64
	for i := range obs {
		s += f(&obs[i])
	}
	return s / float64(len(obs))
}

// evaluator runs candidates' seeds in parallel.
type evaluator struct {
	opt      Options
	tmp      string
	res      *Result
	deadline time.Time               // zero: none
	cfs      *runner.Counterfactuals // shared by candidates that differ only in the price level
	mu       sync.Mutex
	seq      int
}

type task struct{ cand, seed int }

// extend runs the seeds each listed candidate lacks up to n (seed indexes
// len(Obs)…n−1). Past the deadline no run starts; the runs that did are
// kept only as a prefix of each candidate's seeds.
func (ev *evaluator) extend(cands []int, n int) error {
	var tasks []task
	for j := 0; j < n; j++ { // seed-major: every candidate reaches each seed together
		for _, i := range cands {
			if j >= len(ev.res.Candidates[i].Obs) {
				tasks = append(tasks, task{i, j})
			}
		}
	}
	got := make(map[task]Obs, len(tasks))
	ch := make(chan task)
	var wg sync.WaitGroup
	var firstErr error
	for range min(ev.opt.Jobs, len(tasks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range ch {
				if !ev.deadline.IsZero() && !time.Now().Before(ev.deadline) {
					continue
				}
				o, err := ev.run(t)
				ev.mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if err == nil {
					got[t] = o
					ev.res.Runs++
				}
				ev.mu.Unlock()
			}
		}()
	}
	for _, t := range tasks {
		ch <- t
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	for _, i := range cands {
		c := &ev.res.Candidates[i]
		for j := len(c.Obs); j < n; j++ {
			o, ok := got[task{i, j}]
			if !ok {
				break
			}
			c.Obs = append(c.Obs, o)
		}
	}
	return nil
}

// run simulates one candidate with one seed into a temporary folder,
// removed once the summary is read.
func (ev *evaluator) run(t task) (Obs, error) {
	c := ev.res.Candidates[t.cand].Candidate
	s, err := ev.opt.Load()
	if err != nil {
		return Obs{}, err
	}
	c.Apply(s)
	s.Seed = ev.opt.SeedBase + uint64(t.seed)
	ev.mu.Lock()
	ev.seq++
	dir := filepath.Join(ev.tmp, strconv.Itoa(ev.seq))
	ev.mu.Unlock()
	defer os.RemoveAll(dir)
	// Candidates need their summaries only; those that differ only in the
	// price level share each seed's counterfactual.
	r, err := runner.Run(s, runner.Options{Out: dir, Inline: true, Outputs: results.OutSummary, Counterfactuals: ev.cfs})
	if err != nil {
		return Obs{}, fmt.Errorf("%s, seed %d: %w", c.Label(), s.Seed, err)
	}
	return observe(&r.Summary, r.Wall.Seconds())
}

// observe turns a run's summary into per-month measures.
func observe(s *results.Summary, wall float64) (Obs, error) {
	e := s.Econ
	if e == nil || math.IsNaN(e.NetValueUSD) {
		return Obs{}, errors.New("advise: a run has no net value (no ledger or no counterfactual)")
	}
	months := (s.HorizonS - s.WarmupS) / Month.Seconds()
	o := Obs{
		NetValue: e.NetValueUSD / months, DelayCaused: e.DelayCausedGPUHours / months,
		ExternalRevenue: e.ExternalRevenueUSD / months, GrossMargin: e.GrossMargin, OperatingMargin: e.OperatingMargin,
		CompanyMarginWith: e.CompanyMarginWith, CompanyMarginWithout: e.CompanyMarginWithout,
		Utilization: s.Utilization, InternalSlowdown: s.Segments[sim.SegInternal].SlowdownMean,
		WallSeconds: wall, MeasurementMonths: months, CFSlowdown: math.NaN(),
	}
	if s.Counterfactual != nil {
		o.CFSlowdown = s.Counterfactual.InternalSlowdownMean
	}
	o.SlowdownIncrease = slowdownRatio(o.InternalSlowdown, o.CFSlowdown)
	return o, nil
}

// slowdownRatio is run/counterfactual − 1: 0 when neither completed an
// internal job, +Inf when only the counterfactual did.
func slowdownRatio(run, cf float64) float64 {
	switch {
	case math.IsNaN(cf) || cf == 0:
		return 0
	case math.IsNaN(run):
		return math.Inf(1)
	}
	return run/cf - 1
}
