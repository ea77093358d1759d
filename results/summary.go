package results

import (
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow/array"

	"neosim/sim"
	"neosim/sim/econ"
)

// Summary is a run's summary, the one row of summary.arrow. A float64 field
// that is NaN is a null in the file (no value: no horizon, no job started).
type Summary struct {
	Scenario  string
	Seed      uint64
	Allocator string
	Pricer    string
	HorizonS  float64 // NaN: the run had no horizon
	WarmupS   float64 // the measurement window's start (0: the whole run)
	// MSER5WarmupS is the warm-up the MSER-5 rule picks on the samples of
	// the GPUs internal jobs hold (MSER5): the fleet starts empty and its
	// long training runs take days to fill it. NaN if it cannot say.
	MSER5WarmupS float64
	EndS         float64
	GPUsTotal    int64
	Events       int64

	// Jobs counts the jobs submitted in the measurement window (every
	// row of jobs.arrow without a warm-up); JobsByState, Wait, Segments,
	// LostGPUHours, Preemptions and JobFailures count the same jobs.
	// GPUHours, Utilization and ExternalRevenueUSD count what every job
	// held inside the window.
	Jobs        int64
	JobsByState [sim.NumStates]int64
	GPUHours    float64
	// Utilization is GPUHours / (GPUsTotal × EndS / 3600); NaN if that is 0.
	Utilization        float64
	ExternalRevenueUSD float64
	LostGPUHours       float64 // Σ jobs' lost GPU-hours (preemptions, failures)
	Preemptions        int64   // Σ jobs' preemptions
	JobFailures        int64   // Σ jobs' runs killed by failures
	NodeFailures       int64   // RunInfo.NodeFailures
	JobsAfterHorizon   int64   // RunInfo.JobsAfterHorizon
	// ServingTokensDemanded and ServingTokensServed are the tokens of the
	// serving jobs counted in Jobs, and those they served
	// (sim.Job.TokensServed).
	ServingTokensDemanded, ServingTokensServed int64

	Wait     WaitStats // over all jobs that started
	Segments [sim.NumSegments]SegmentSummary

	// Econ is the margin ledger's report (RunInfo.Econ); nil if the run
	// had no ledger, and then its columns are null.
	Econ *econ.Report
	// Counterfactual is RunInfo.Counterfactual; nil without one.
	Counterfactual *Counterfactual
}

// Counterfactual is what a run's counterfactual (the same scenario and
// seed without external demand; runner) measured.
type Counterfactual struct {
	// InternalWaitGPUHours is Σ internal jobs' GPUs × time queued there.
	InternalWaitGPUHours float64
	// InternalSlowdownMean is the completed internal jobs' mean bounded
	// slowdown there (NaN if none completed).
	InternalSlowdownMean float64
	// Self is true when nothing external could arrive, so the run is its
	// own counterfactual (and the summary takes the run's own slowdown).
	Self bool
}

// SlowdownMean averages the bounded slowdown of completed jobs.
type SlowdownMean struct {
	n   int64
	sum float64
}

// Add counts j if it completed.
func (m *SlowdownMean) Add(j *sim.Job) {
	if j.State == sim.Completed {
		m.n++
		m.sum += boundedSlowdown(j)
	}
}

// Mean returns the mean bounded slowdown, or NaN if no job completed.
func (m *SlowdownMean) Mean() float64 {
	if m.n == 0 {
		return math.NaN()
	}
	return m.sum / float64(m.n)
}

// SegmentSummary is one segment's part of a Summary.
type SegmentSummary struct {
	Jobs int64
	Wait WaitStats
	// Completed jobs and their mean bounded slowdown (NaN if none):
	// (end − submit) / max(useful run time, SlowdownBound), at least 1,
	// where the useful run time is RunTime − LostTime (Feitelson's bounded
	// slowdown; the bound keeps seconds-long jobs from dominating it).
	Completed    int64
	SlowdownMean float64
}

// SlowdownBound is bounded slowdown's floor on the run time (Feitelson,
// "Metrics for parallel job scheduling and their convergence", 2001, uses
// 10 s).
const SlowdownBound = 10 * sim.Second

// boundedSlowdown is a completed job's bounded slowdown.
func boundedSlowdown(j *sim.Job) float64 {
	useful := max(j.RunTime-j.LostTime, SlowdownBound)
	return max(1, float64(j.End-j.Submit)/float64(useful))
}

// WaitStats describes the waits (first start minus submit) of the jobs that
// started. The quantiles are empirical: the smallest wait w such that at
// least p × Started waits are ≤ w (gonum's stat.Quantile with
// stat.Empirical), computed exactly over every wait, each rounded to float32
// seconds (a relative error below 6e-8). All are NaN if Started is 0.
type WaitStats struct {
	Started int64
	MeanS   float64
	P50S    float64
	P95S    float64
	P99S    float64
}

// accumulator gathers the summary numbers as jobs end.
type accumulator struct {
	jobs       int64
	byState    [sim.NumStates]int64
	bySeg      [sim.NumSegments]int64
	gpuHours   float64
	lost       float64
	preempts   int64
	failures   int64
	extRevenue int64                    // µ$: the exact sum of the jobs' bills
	waitSum    [sim.NumSegments]float64 // µs
	waits      [sim.NumSegments]waitList
	slowdown   [sim.NumSegments]SlowdownMean
	// tokens demanded and served by serving jobs
	tokens, served int64
}

// add counts a job: the GPU-hours and revenue it had inside the
// measurement window (gpuHours, revenue) whenever it was submitted, and its
// per-job measures (state, wait, slowdown, losses) only if it was submitted
// in the window.
func (a *accumulator) add(j *sim.Job, wait sim.Time, inWindow bool, gpuHours float64, revenueMicroUSD int64) {
	seg := j.Segment
	if seg < sim.NumSegments {
		a.gpuHours += gpuHours
		a.extRevenue += revenueMicroUSD // 0 for internal work
	}
	if !inWindow {
		return
	}
	a.jobs++
	if j.State < sim.NumStates {
		a.byState[j.State]++
	}
	if seg >= sim.NumSegments {
		return // not a valid segment: counted in jobs_total only
	}
	a.bySeg[seg]++
	a.lost += j.LostGPUHours()
	a.preempts += int64(j.Preemptions)
	a.failures += int64(j.Failures)
	if wait >= 0 {
		a.waitSum[seg] += float64(wait)
		a.waits[seg].add(float32(wait.Seconds()))
	}
	a.slowdown[seg].Add(j)
	if seg == sim.SegServing {
		a.tokens += j.Tokens
		if j.RunTime > 0 {
			a.served += j.TokensServed()
		}
	}
}

// summarize sorts the waits and computes the summary.
func (a *accumulator) summarize(info RunInfo) Summary {
	s := Summary{
		Scenario: info.Scenario, Seed: info.Seed, Allocator: info.Allocator, Pricer: info.Pricer,
		HorizonS: math.NaN(), EndS: info.End.Seconds(), GPUsTotal: info.GPUsTotal, Events: info.Events,
		Jobs: a.jobs, JobsByState: a.byState, GPUHours: a.gpuHours, Utilization: math.NaN(),
		ExternalRevenueUSD: float64(a.extRevenue) / 1e6, LostGPUHours: a.lost, Preemptions: a.preempts,
		JobFailures: a.failures, NodeFailures: info.NodeFailures, JobsAfterHorizon: info.JobsAfterHorizon, Econ: info.Econ, Counterfactual: info.Counterfactual,
		ServingTokensDemanded: a.tokens, ServingTokensServed: a.served,
	}
	if info.Horizon > 0 {
		s.HorizonS = info.Horizon.Seconds()
	}
	if info.Warmup > 0 {
		s.WarmupS = info.Warmup.Seconds()
	}
	if capacity := float64(info.GPUsTotal) * max(0, info.End-info.Warmup).Hours(); capacity > 0 {
		s.Utilization = a.gpuHours / capacity
	}
	var all []waitList
	var sum float64
	for seg := range sim.NumSegments {
		w := a.waits[seg]
		slices.Sort(w.nonzero)
		s.Segments[seg] = SegmentSummary{Jobs: a.bySeg[seg], Wait: waitStats(a.waitSum[seg], w),
			Completed: a.slowdown[seg].n, SlowdownMean: a.slowdown[seg].Mean()}
		all = append(all, w)
		sum += a.waitSum[seg]
	}
	s.Wait = mergedWaitStats(sum, all)
	if c := s.Counterfactual; c != nil && c.Self {
		self := *c
		self.InternalSlowdownMean = s.Segments[sim.SegInternal].SlowdownMean
		s.Counterfactual = &self
	}
	return s
}

// waitList holds the waits of one segment for exact quantiles: how many
// were zero, and the others. Most jobs of a run start the moment they
// arrive, so keeping only the count of those makes the list a small part of
// the jobs (4 bytes per job that waited) rather than one entry per job of
// the whole run (120 MB for a year of a million GPUs).
type waitList struct {
	zeros   int
	nonzero []float32 // positive; sorted by summarize
}

func (w *waitList) add(v float32) {
	if v == 0 {
		w.zeros++
		return
	}
	w.nonzero = append(w.nonzero, v)
}

func (w *waitList) len() int { return w.zeros + len(w.nonzero) }

func waitStats(sumMicros float64, w waitList) WaitStats {
	return mergedWaitStats(sumMicros, []waitList{w})
}

// mergedWaitStats computes WaitStats over the union of wait lists (their
// nonzero waits sorted) without merging them: the zeros come first, then a
// merge walk of the sorted nonzero waits.
func mergedWaitStats(sumMicros float64, lists []waitList) WaitStats {
	n, zeros := 0, 0
	for _, w := range lists {
		n += w.len()
		zeros += w.zeros
	}
	nan := math.NaN()
	if n == 0 {
		return WaitStats{MeanS: nan, P50S: nan, P95S: nan, P99S: nan}
	}
	// The ranks do not decrease with p, so one merge walk finds them all.
	ps := [...]float64{0.5, 0.95, 0.99}
	var q [len(ps)]float64
	heads := make([]int, len(lists))
	popped := zeros // values taken so far: the zeros, then from the heads
	var last float32
	for i, p := range ps {
		k := empiricalRank(p, n)
		if k < zeros {
			q[i] = 0
			continue
		}
		for ; popped <= k; popped++ {
			best := -1
			for s, h := range heads {
				if h < len(lists[s].nonzero) && (best < 0 || lists[s].nonzero[h] < lists[best].nonzero[heads[best]]) {
					best = s
				}
			}
			last = lists[best].nonzero[heads[best]]
			heads[best]++
		}
		q[i] = float64(last)
	}
	return WaitStats{Started: int64(n), MeanS: sumMicros / float64(n) / float64(sim.Second), P50S: q[0], P95S: q[1], P99S: q[2]}
}

// empiricalRank is the 0-based rank of the p-quantile of n sorted values as
// gonum's stat.Quantile(p, stat.Empirical, x, nil) defines it: the first i
// with i+1 ≥ p·n.
func empiricalRank(p float64, n int) int {
	return max(0, int(math.Ceil(p*float64(n)))-1)
}

// appendSummary appends s as one row to b (built on summarySchema).
func appendSummary(b *array.RecordBuilder, s *Summary) {
	for i, c := range summaryColumns {
		f := b.Field(i)
		switch v := c.val(s).(type) {
		case string:
			f.(*array.StringBuilder).Append(v)
		case int64:
			f.(*array.Int64Builder).Append(v)
		case uint64:
			f.(*array.Uint64Builder).Append(v)
		case float64:
			if math.IsNaN(v) {
				f.AppendNull()
			} else {
				f.(*array.Float64Builder).Append(v)
			}
		default:
			panic("results: summary column " + c.Name + " has an unsupported value type")
		}
	}
}
