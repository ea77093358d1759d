package sim_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"neosim/sim"
	"neosim/sim/fleet"
	"neosim/sim/simtest"
)

// waits records what a run did, per job and per sample.
type waits struct {
	n, started int
	sumWait    float64
	queue      []float64 // queued jobs at each sample
	ended      map[sim.State]int
	gpuHours   float64
	workHours  float64 // Σ gpus × H100 work of completed jobs
	order      []string
	waits      []float64 // each started job's wait, seconds, in order of job end
	end        sim.Time
	lostHours  float64
}

func (w *waits) JobStarted(*sim.Job) {}
func (w *waits) JobEnded(j *sim.Job) {
	if w.ended == nil {
		w.ended = map[sim.State]int{}
	}
	w.ended[j.State]++
	w.n++
	if j.FirstStart >= 0 {
		w.started++
		w.sumWait += j.Wait().Seconds()
		w.waits = append(w.waits, j.Wait().Seconds())
	}
	if j.State == sim.Completed {
		w.gpuHours += j.GPUHours() - j.LostGPUHours()
		w.workHours += float64(j.GPUs) * float64(j.Milli) / 1000 * j.Work.Hours()
	}
	w.lostHours += j.LostGPUHours()
	if w.order != nil {
		w.order = append(w.order, fmt.Sprintf("%s %v %d %d", j.ID, j.State, j.FirstStart, j.End))
	}
}
func (w *waits) Sampled(s *sim.Sample) {
	var q int64
	for _, v := range s.Queued {
		q += v
	}
	w.queue = append(w.queue, float64(q))
}

// erlangC returns the mean wait in queue of an M/M/c system with arrival
// rate lambda and service rate mu per server.
func erlangC(c int, lambda, mu float64) float64 {
	a := lambda / mu
	rho := a / float64(c)
	// Σ_{k<c} a^k/k! and a^c/c! computed iteratively.
	term, sum := 1.0, 0.0
	for k := 0; k < c; k++ {
		sum += term
		term *= a / float64(k+1)
	}
	top := term / (1 - rho)
	pWait := top / (sum + top)
	return pWait / (float64(c)*mu - lambda)
}

// mmc runs FIFO on c single-GPU H100 nodes fed by Poisson arrivals at
// rho·c per hour and exponential durations of mean one hour, until jobs
// jobs have ended.
func mmc(t *testing.T, c int, rho float64, jobs int64, seed uint64, sample sim.Time) *waits {
	t.Helper()
	src := mmcJobs(c, rho, jobs).Source(seed)
	obs := &waits{}
	e := sim.New(sim.Config{SampleInterval: sample}, simtest.Fleet(t, c, 1, "H100"), &simtest.FIFO{}, &simtest.Flat{}, []sim.Source{src}, obs)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	obs.end = e.Stats().End
	return obs
}

func mmcJobs(c int, rho float64, jobs int64) simtest.Poisson {
	return simtest.Poisson{Name: "mmc", RatePerHour: rho * float64(c), Work: simtest.Exp(3600), MaxJobs: jobs}
}

// TestErlangC checks the mean wait of FIFO on c single-GPU nodes with
// Poisson arrivals and exponential durations against the Erlang C formula.
// The bound is four standard errors of the estimate, from batch means: each
// run's waits (in order of job end, after a warm-up of 1% of the jobs that
// removes most of the empty-start bias) are cut into batches long against
// the queue's relaxation time, and the batch means of all seeds give the
// standard error. Four standard errors: a correct engine fails about once in
// 16,000 runs.
func TestErlangC(t *testing.T) {
	if testing.Short() {
		t.Skip("long statistical run")
	}
	const c = 8
	for _, tc := range []struct {
		rho  float64
		jobs int64
	}{{0.5, 200_000}, {0.8, 400_000}, {0.95, 1_000_000}} {
		t.Run(fmt.Sprintf("rho=%v", tc.rho), func(t *testing.T) {
			want := erlangC(c, tc.rho*c, 1) * 3600 // seconds
			const seeds, batches = 4, 20
			var means []float64
			for seed := uint64(1); seed <= seeds; seed++ {
				o := mmc(t, c, tc.rho, tc.jobs, seed, sim.Hour)
				if o.ended[sim.Completed] != int(tc.jobs) {
					t.Fatalf("seed %d: %d of %d jobs completed: %v", seed, o.ended[sim.Completed], tc.jobs, o.ended)
				}
				meanWait := o.sumWait / float64(o.started)
				// Little's law on the run's path (empty at both ends): the
				// time-average queue length is arrival rate × mean wait. The
				// hourly samples estimate the former with a standard error
				// from their batch means.
				lq, lqSE := meanSE(batchMeans(o.queue, batches))
				lambda := float64(o.n) / o.end.Seconds()
				if d := math.Abs(lq - lambda*meanWait); d > 4*lqSE {
					t.Errorf("seed %d: Little's law: Lq %.4f ± %.4f (SE), λW %.4f: %.1f SE apart", seed, lq, lqSE, lambda*meanWait, d/lqSE)
				}
				means = append(means, batchMeans(o.waits[len(o.waits)/100:], batches)...)
			}
			got, se := meanSE(means)
			t.Logf("rho=%v: mean wait %.1fs ± %.1fs (SE, %d batches), Erlang C %.1fs (%+.2f SE)", tc.rho, got, se, len(means), want, (got-want)/se)
			if math.Abs(got-want) > 4*se {
				t.Errorf("mean wait %.1fs, Erlang C says %.1fs: %.1f standard errors (%.1fs) apart, more than 4", got, want, math.Abs(got-want)/se, se)
			}
		})
	}
}

// batchMeans returns the means of k consecutive batches of x (the last
// len(x) mod k values are left out).
func batchMeans(x []float64, k int) []float64 {
	n := len(x) / k
	m := make([]float64, k)
	for b := range m {
		var s float64
		for _, v := range x[b*n : (b+1)*n] {
			s += v
		}
		m[b] = s / float64(n)
	}
	return m
}

// meanSE returns the mean of x and its standard error (sample standard
// deviation / √n).
func meanSE(x []float64) (mean, se float64) {
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(x)-1) / float64(len(x)))
}

// TestFIFOStartTimes checks the engine with the FIFO harness against an
// independent first-come-first-served computation on an M/M/c queue near
// saturation: job n starts at max(its arrival, the earliest time one of the c
// servers is free), exactly, to the microsecond. Mean waits cannot tell FIFO
// from any other order that ignores durations; start times can.
func TestFIFOStartTimes(t *testing.T) {
	const c, jobs, seed = 8, 20_000, 9
	w := mmcJobs(c, 0.95, jobs)
	got := simtest.Ends{}
	if err := sim.New(sim.Config{}, simtest.Fleet(t, c, 1, "H100"), &simtest.FIFO{}, nil, []sim.Source{w.Source(seed)}, got).Run(); err != nil {
		t.Fatal(err)
	}
	free := make([]sim.Time, c) // when each server is next free
	src := w.Source(seed)
	var j sim.JobSpec
	n, waited := 0, 0
	for ; src.Next(&j); n++ {
		s := 0
		for i := range free {
			if free[i] < free[s] {
				s = i
			}
		}
		start := max(j.Submit, free[s])
		free[s] = start + j.Work
		if start > j.Submit {
			waited++
		}
		if g, ok := got[j.ID]; !ok || g.State != sim.Completed || g.FirstStart != start || g.End != start+j.Work {
			t.Fatalf("job %s (arrived %v): the engine ran it %v–%v (%v), FCFS starts it at %v and ends it at %v",
				j.ID, j.Submit, g.FirstStart, g.End, g.State, start, start+j.Work)
		}
	}
	if n != jobs || len(got) != jobs || waited < jobs/2 {
		t.Fatalf("%d jobs generated, %d ended, %d waited: the queue was not exercised", n, len(got), waited)
	}
}

// TestConservation runs a mixed workload (multi-node gangs, GPU shares, type
// constraints, patience, random preemptions with and without notice,
// checkpoints, node failures and repairs, restart overheads) with the
// invariants checked after every event, and checks that completed jobs'
// GPU-hours, less the GPU-hours they lost to interruptions, equal their
// work on an H100-only fleet.
func TestConservation(t *testing.T) {
	f := simtest.Groups(t, fleet.Group{Nodes: 6, GPUsPerNode: 8, Type: "H100"}, fleet.Group{Nodes: 5, GPUsPerNode: 4, Type: "H100", Datacenter: "b"})
	ws := []simtest.Poisson{
		{Name: "small", RatePerHour: 20, GPUs: simtest.Choice([]float64{1, 2, 4, 8}, []float64{4, 1, 1, 1}), Work: simtest.Exp(3600)},
		{Name: "gang", RatePerHour: 0.5, GPUs: simtest.Choice([]float64{12, 16, 40}, []float64{1, 1, 1}), Work: simtest.Exp(7200), Checkpoint: 600 * sim.Second},
		{Name: "share", Segment: sim.SegSpot, RatePerHour: 10, Milli: 300, Work: simtest.Exp(1800), Checkpoint: 300 * sim.Second, Notice: 120 * sim.Second},
		{Name: "od", Segment: sim.SegOnDemand, RatePerHour: 5, GPUs: simtest.Const(8), Work: simtest.Exp(3600), Patience: simtest.Exp(1800)},
		{Name: "huge", RatePerHour: 0.5, GPUs: simtest.Const(100), Work: simtest.Exp(60)},
	}
	var srcs []sim.Source
	for _, w := range ws {
		w.Until = 3 * sim.Day
		srcs = append(srcs, w.Source(7))
	}
	obs := &waits{}
	alloc := &chaos{rng: rand.New(rand.NewPCG(1, 2))}
	cfg := sim.Config{CheckInvariants: true, SampleInterval: 10 * sim.Minute, RestartOverhead: 5 * sim.Minute, Seed: 3,
		Failures: &sim.Failures{PerGPUHour: 2e-3, Repair: func(r *rand.Rand) sim.Time { return sim.Time(r.ExpFloat64() * float64(2*sim.Hour)) }}}
	e := sim.New(cfg, f, alloc, &simtest.Flat{sim.SegOnDemand: 6_155_000, sim.SegSpot: 2_460_000}, srcs, obs)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	if e.Stats().Failures == 0 || obs.lostHours == 0 {
		t.Fatalf("no failures (%d) or no lost work (%v)", e.Stats().Failures, obs.lostHours)
	}
	if alloc.preempted == 0 || obs.ended[sim.Abandoned] == 0 || obs.ended[sim.Rejected] == 0 || obs.ended[sim.Completed] == 0 {
		t.Fatalf("the run did not exercise preemption, abandonment, rejection and completion: %v, %d preemptions", obs.ended, alloc.preempted)
	}
	if math.Abs(obs.gpuHours-obs.workHours) > 1e-6*obs.workHours {
		t.Errorf("completed jobs held %.6f GPU-hours, their work is %.6f GPU-hours", obs.gpuHours, obs.workHours)
	}
	var total int64
	for _, row := range e.Stats().Jobs {
		for _, n := range row {
			total += n
		}
	}
	if total != int64(obs.n) {
		t.Errorf("stats count %d jobs, observers saw %d", total, obs.n)
	}
}

// chaos is FIFO that also preempts a random running job now and then.
type chaos struct {
	simtest.FIFO
	rng       *rand.Rand
	preempted int
}

func (c *chaos) Schedule(v *sim.View, p *sim.Plan) {
	if c.rng.IntN(10) == 0 {
		var victim sim.JobID = -1
		v.Running(func(id sim.JobID, j *sim.Job) {
			if victim < 0 && !j.Preempting() && c.rng.IntN(3) == 0 {
				victim = id
			}
		})
		if victim >= 0 {
			if err := p.Preempt(victim); err != nil && !v.Job(victim).Preempting() {
				panic(err)
			}
			c.preempted++
		}
	}
	c.FIFO.Schedule(v, p)
}

// TestDeterminism: the same seed gives the same sequence of job ends; a
// different seed does not.
func TestDeterminism(t *testing.T) {
	run := func(seed uint64) []string {
		w := simtest.Poisson{Name: "w", RatePerHour: 30, GPUs: simtest.Choice([]float64{1, 8, 16}, []float64{1, 1, 1}), Work: simtest.Exp(600), Until: 2 * sim.Day}
		o := &waits{order: []string{}}
		if err := sim.New(sim.Config{Horizon: 2 * sim.Day}, simtest.Fleet(t, 4, 8, "H100"), &simtest.FIFO{}, &simtest.Flat{}, []sim.Source{w.Source(seed)}, o).Run(); err != nil {
			t.Fatal(err)
		}
		return o.order
	}
	a, b, c := run(1), run(1), run(2)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("same seed, different runs")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("different seeds, same run")
	}
}

// preemptSpot is FIFO that, when the head is internal and does not fit,
// preempts a spot job for it.
type preemptSpot struct{ simtest.FIFO }

func (a *preemptSpot) Schedule(v *sim.View, p *sim.Plan) {
	if q := v.Queue(); len(q) > 0 && v.Job(q[0]).Segment == sim.SegInternal {
		if _, _, ok := v.Fleet().FirstFit(v.Job(q[0]).Demand(), nil); !ok {
			v.Running(func(id sim.JobID, j *sim.Job) {
				if j.Segment == sim.SegSpot && !j.Preempting() {
					p.Preempt(id)
				}
			})
		}
	}
	a.FIFO.Schedule(v, p)
}

// TestSpotPreemptionLosesWorkSinceCheckpoint: a spot job preempted with
// notice keeps running through its notice, then loses exactly the work since
// its last checkpoint, and pays the restart overhead when it runs again.
func TestSpotPreemptionLosesWorkSinceCheckpoint(t *testing.T) {
	for _, overhead := range []sim.Time{0, 60 * sim.Second} {
		f := simtest.Fleet(t, 1, 1, "H100")
		src := &simtest.List{Jobs: []sim.JobSpec{
			{ID: "spot", Submit: 0, GPUs: 1, Milli: 1000, Segment: sim.SegSpot, Work: 3600 * sim.Second, Checkpoint: 300 * sim.Second, Notice: 120 * sim.Second},
			{ID: "train", Submit: 1000 * sim.Second, GPUs: 1, Milli: 1000, Segment: sim.SegInternal, Work: 500 * sim.Second},
		}}
		got := simtest.Ends{}
		e := sim.New(sim.Config{CheckInvariants: true, RestartOverhead: overhead}, f, &preemptSpot{}, &simtest.Flat{}, []sim.Source{src}, got)
		if err := e.Run(); err != nil {
			t.Fatal(err)
		}
		spot, train := got["spot"], got["train"]
		// The notice runs 1000 s → 1120 s; checkpoints at 300, 600, 900 s;
		// 220 s are lost; 2,700 s of work remain.
		if train.FirstStart != 1120*sim.Second || train.End != 1620*sim.Second {
			t.Errorf("overhead %v: train ran %v–%v, want 1120s–1620s", overhead, train.FirstStart, train.End)
		}
		wantEnd := 1620*sim.Second + overhead + 2700*sim.Second
		wantLost := (220*sim.Second + overhead).Hours()
		if spot.State != sim.Completed || spot.End != wantEnd || spot.Preemptions != 1 {
			t.Errorf("overhead %v: spot %v at %v with %d preemptions, want completed at %v with 1", overhead, spot.State, spot.End, spot.Preemptions, wantEnd)
		}
		if math.Abs(spot.LostGPUHours()-wantLost) > 1e-12 || spot.RunTime != 1120*sim.Second+overhead+2700*sim.Second {
			t.Errorf("overhead %v: spot lost %.6f GPU-h over %v run, want %.6f over %v", overhead, spot.LostGPUHours(), spot.RunTime, wantLost, 1120*sim.Second+overhead+2700*sim.Second)
		}
	}
}

// TestHugeJobGPUHours: GPU-hours of a 16,384-GPU, 10-day job (1.4e19
// milli-GPU-µs, beyond int64) come out right.
func TestHugeJobGPUHours(t *testing.T) {
	f := simtest.Fleet(t, 2048, 8, "H100")
	src := &simtest.List{Jobs: []sim.JobSpec{{ID: "llama", GPUs: 16384, Milli: 1000, Work: 10 * sim.Day}}}
	got := simtest.Ends{}
	if err := sim.New(sim.Config{}, f, &simtest.FIFO{}, nil, []sim.Source{src}, got).Run(); err != nil {
		t.Fatal(err)
	}
	llama := got["llama"]
	if h, want := llama.GPUHours(), 16384*240.0; h != want {
		t.Errorf("GPU-hours %v, want %v", h, want)
	}
}

// TestReservedNeverPreempted: a reserved contract holds its GPUs for its
// whole term; the engine refuses to preempt it, whatever the allocator.
func TestReservedNeverPreempted(t *testing.T) {
	f := simtest.Fleet(t, 1, 8, "B200")
	src := &simtest.List{Jobs: []sim.JobSpec{
		{ID: "contract", GPUs: 8, Milli: 1000, Segment: sim.SegReserved, Work: 10 * sim.Day, Hold: true},
		{ID: "urgent", Submit: sim.Hour, GPUs: 8, Milli: 1000, Segment: sim.SegInternal, Work: sim.Hour},
	}}
	got := simtest.Ends{}
	a := &preemptAll{}
	if err := sim.New(sim.Config{CheckInvariants: true}, f, a, nil, []sim.Source{src}, got).Run(); err != nil {
		t.Fatal(err)
	}
	c := got["contract"]
	if a.refused == 0 || c.Preemptions != 0 || c.State != sim.Completed || c.End != 10*sim.Day || c.RunTime != 10*sim.Day {
		t.Errorf("contract: %d refusals, %d preemptions, %v at %v after %v; want it to hold all 10 days (Hold: wall-clock on B200)", a.refused, c.Preemptions, c.State, c.End, c.RunTime)
	}
	if u := got["urgent"]; u.FirstStart != 10*sim.Day {
		t.Errorf("urgent started at %v, want after the contract, at 10d", u.FirstStart)
	}
}

// preemptAll is FIFO that tries to preempt every running job whenever the
// head of the queue does not fit.
type preemptAll struct {
	simtest.FIFO
	refused int
}

func (a *preemptAll) Schedule(v *sim.View, p *sim.Plan) {
	if q := v.Queue(); len(q) > 0 {
		if _, _, ok := v.Fleet().FirstFit(v.Job(q[0]).Demand(), nil); !ok {
			v.Running(func(id sim.JobID, j *sim.Job) {
				if err := p.Preempt(id); err != nil {
					a.refused++
				}
			})
		}
	}
	a.FIFO.Schedule(v, p)
}

// TestNodeFailureRequeues: a job whose node fails goes back to the queue,
// loses the work since its last checkpoint, and completes on another node;
// no job ends because of a failure, however often it is hit.
func TestNodeFailureRequeues(t *testing.T) {
	src := &simtest.List{Jobs: []sim.JobSpec{{ID: "long", GPUs: 1, Milli: 1000, Work: 20 * sim.Day, Checkpoint: sim.Hour}}}
	got := simtest.Ends{}
	cfg := sim.Config{CheckInvariants: true, Seed: 1,
		// About one failure a day per GPU, repaired in an hour.
		Failures: &sim.Failures{PerGPUHour: 1.0 / 24, Repair: func(*rand.Rand) sim.Time { return sim.Hour }}}
	e := sim.New(cfg, simtest.Fleet(t, 2, 1, "H100"), &simtest.FIFO{}, nil, []sim.Source{src}, got)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	j := got["long"]
	if j.State != sim.Completed || j.Failures < 5 || j.LostGPUHours() <= 0 || j.LostGPUHours() > float64(j.Failures) {
		t.Errorf("job %v after %d failures, %.2f GPU-h lost; want completed, ≥ 5 failures, under 1 GPU-h lost each", j.State, j.Failures, j.LostGPUHours())
	}
	for s := sim.State(0); s < sim.NumStates; s++ {
		if s.String() == "failed" {
			t.Errorf("state %d is named failed: nothing ends a job in it", s)
		}
	}
}

// TestReservedContractSurvivesFailures: a reserved contract hit by node
// failures resumes with the rest of its term (no lost work, no restart
// overhead), so it holds, and is billed for, exactly its contracted
// GPU-hours; a checkpointed training job on the same failures loses work.
func TestReservedContractSurvivesFailures(t *testing.T) {
	const term = 30 * sim.Day
	f := simtest.Fleet(t, 4, 8, "H100")
	src := &simtest.List{Jobs: []sim.JobSpec{
		{ID: "contract", GPUs: 16, Milli: 1000, Segment: sim.SegReserved, Work: term, Hold: true, Customer: "c"},
		{ID: "train", GPUs: 16, Milli: 1000, Segment: sim.SegInternal, Work: term, Checkpoint: sim.Hour},
	}}
	got := simtest.Ends{}
	cfg := sim.Config{CheckInvariants: true, Seed: 3, RestartOverhead: 10 * sim.Minute,
		Failures: &sim.Failures{PerGPUHour: 1e-3, Repair: func(*rand.Rand) sim.Time { return 2 * sim.Hour }}}
	price := &simtest.Flat{sim.SegReserved: 2_350_000} // $2.35 per GPU-hour
	if err := sim.New(cfg, f, &simtest.FIFO{}, price, []sim.Source{src}, got).Run(); err != nil {
		t.Fatal(err)
	}
	c, tr := got["contract"], got["train"]
	if c.Failures == 0 || tr.Failures == 0 {
		t.Fatalf("failures hit the contract %d times and the training job %d times: the test needs both hit", c.Failures, tr.Failures)
	}
	if c.State != sim.Completed || c.RunTime != term || c.LostTime != 0 {
		t.Errorf("contract after %d failures: %v, held %v (lost %v); want completed, exactly its %v term, nothing lost", c.Failures, c.State, c.RunTime, c.LostTime, term)
	}
	if want := int64(16 * 30 * 24 * 2_350_000); c.RevenueMicroUSD() != want {
		t.Errorf("contract billed %d µ$, want exactly 16 GPUs × %v × $2.35 = %d µ$", c.RevenueMicroUSD(), term, want)
	}
	if tr.LostTime == 0 || tr.RunTime <= term {
		t.Errorf("training job after %d failures: ran %v, lost %v; want lost work redone", tr.Failures, tr.RunTime, tr.LostTime)
	}
}

// TestPatience: a queued job leaves exactly when its patience runs out,
// jobs that ran out at one instant leave in the order they were queued,
// and a job that starts in its arrival's scheduling pass costs no abandon
// event (one that would only have gone stale). One GPU: A runs for an
// hour; B and D give up after 30 minutes; C, patient for two hours, starts
// when A ends.
func TestPatience(t *testing.T) {
	od := func(id string, submit, patience sim.Time) sim.JobSpec {
		return sim.JobSpec{ID: id, Segment: sim.SegOnDemand, GPUs: 1, Milli: 1000, Work: sim.Hour, Submit: submit, Patience: patience}
	}
	src := &simtest.List{Jobs: []sim.JobSpec{
		od("A", 0, 10*sim.Minute), od("B", 0, 30*sim.Minute), od("D", 0, 30*sim.Minute), od("C", 10*sim.Minute, 2*sim.Hour),
	}}
	obs := &waits{order: []string{}}
	cfg := sim.Config{CheckInvariants: true, SampleInterval: 100 * sim.Hour} // one sample, at 0
	e := sim.New(cfg, simtest.Fleet(t, 1, 1, "H100"), &simtest.FIFO{}, &simtest.Flat{}, []sim.Source{src}, obs)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("B abandoned -1 %d", 30*sim.Minute),
		fmt.Sprintf("D abandoned -1 %d", 30*sim.Minute),
		fmt.Sprintf("A completed 0 %d", sim.Hour),
		fmt.Sprintf("C completed %d %d", sim.Hour, 2*sim.Hour),
	}
	if fmt.Sprint(obs.order) != fmt.Sprint(want) {
		t.Errorf("jobs ended %q, want %q", obs.order, want)
	}
	// 4 arrivals, 3 scheduling passes (0, 10 min, 1 h; the run stops at
	// the last end), 2 abandons, 2 ends and a sample: no event for A's
	// patience, which it did not need (an abandon event pushed at A's
	// arrival would run, stale, at 10 min; C's would come after the end).
	if got := e.Stats().Events; got != 12 {
		t.Errorf("%d events, want 12", got)
	}
}

// TestLazyRestartSameRun: a run whose gangs restart after node failures
// ends the same, job by job, whether the fleet holds a failed gang's
// release back (fleet.ReleaseLater) or releases it at once (it does once
// its bucket indexes are built, which nothing else here reads).
func TestLazyRestartSameRun(t *testing.T) {
	run := func(eager bool) (*waits, *sim.Stats) {
		f := simtest.Groups(t, fleet.Group{Nodes: 40, GPUsPerNode: 8, Type: "H100"}, fleet.Group{Nodes: 30, GPUsPerNode: 4, Type: "B200"})
		if eager {
			f.Classes(0) // builds the bucket indexes: ReleaseLater releases at once
		}
		var srcs []sim.Source
		for _, w := range []simtest.Poisson{
			{Name: "small", RatePerHour: 30, GPUs: simtest.Choice([]float64{1, 2, 8}, []float64{4, 1, 1}), Work: simtest.Exp(3600)},
			{Name: "gang", RatePerHour: 1, GPUs: simtest.Choice([]float64{32, 64, 128}, []float64{1, 1, 1}), Work: simtest.Exp(6 * 3600), Checkpoint: 600 * sim.Second},
		} {
			w.Until = 4 * sim.Day
			srcs = append(srcs, w.Source(11))
		}
		obs := &waits{order: []string{}}
		cfg := sim.Config{Seed: 5, RestartOverhead: 5 * sim.Minute,
			Failures: &sim.Failures{PerGPUHour: 1e-3, Repair: func(r *rand.Rand) sim.Time { return sim.Time(r.ExpFloat64() * float64(sim.Hour)) }}}
		e := sim.New(cfg, f, &simtest.FIFO{}, nil, srcs, obs)
		if err := e.Run(); err != nil {
			t.Fatal(err)
		}
		return obs, e.Stats()
	}
	lazy, ls := run(false)
	eager, es := run(true)
	if ls.Failures < 20 || lazy.lostHours == 0 {
		t.Fatalf("%d failures, %.1f GPU-h lost: the restarts were not exercised", ls.Failures, lazy.lostHours)
	}
	if fmt.Sprint(lazy.order) != fmt.Sprint(eager.order) || ls.Events != es.Events {
		t.Errorf("lazy and eager runs differ: %d and %d jobs ended, %d and %d events", len(lazy.order), len(eager.order), ls.Events, es.Events)
	}
}

// TestArrivalsAtOneInstant: jobs of several sources arriving at one instant
// are queued in the order their arrivals were read (each source's next job
// is read when its previous one arrives), the order arrival events had when
// they went through the event queue; and they arrive after the instant's
// ends and before its scheduling pass, so a GPU freed at that instant goes
// to the first of them.
func TestArrivalsAtOneInstant(t *testing.T) {
	job := func(id string, submit sim.Time) sim.JobSpec {
		return sim.JobSpec{ID: id, Segment: sim.SegOnDemand, GPUs: 1, Milli: 1000, Work: sim.Hour, Submit: submit}
	}
	a := &simtest.List{Jobs: []sim.JobSpec{job("a0", 0), job("a1", sim.Hour), job("a2", sim.Hour)}}
	b := &simtest.List{Jobs: []sim.JobSpec{job("b1", sim.Hour), job("b2", sim.Hour)}}
	obs := &waits{order: []string{}}
	cfg := sim.Config{CheckInvariants: true, SampleInterval: 100 * sim.Hour}
	e := sim.New(cfg, simtest.Fleet(t, 1, 1, "H100"), &simtest.FIFO{}, &simtest.Flat{}, []sim.Source{a, b}, obs)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	// Read at the start: a0, then b1. a0 arrives; a1 is read. At 1 h, b1
	// (read before a1) arrives first; b2 is read, after a1.
	var want []string
	for i, id := range []string{"a0", "b1", "a1", "b2", "a2"} {
		want = append(want, fmt.Sprintf("%s completed %d %d", id, sim.Time(i)*sim.Hour, sim.Time(i+1)*sim.Hour))
	}
	if fmt.Sprint(obs.order) != fmt.Sprint(want) {
		t.Errorf("jobs ended %q, want %q", obs.order, want)
	}
}

// capsSeen records each started job's share count and room.
type capsSeen map[string][2]int

func (c capsSeen) JobStarted(j *sim.Job) { c[j.ID] = [2]int{len(j.Shares), cap(j.Shares)} }
func (capsSeen) JobEnded(*sim.Job)       {}
func (capsSeen) Sampled(*sim.Sample)     {}

// TestSlotDropsGangPlacement: a job slot reused after a gang ended does not
// keep the gang's placement array for the small job that reuses it (in the
// meta year, slots that had once held pre-training gangs kept 25 MB).
func TestSlotDropsGangPlacement(t *testing.T) {
	src := &simtest.List{Jobs: []sim.JobSpec{
		{ID: "gang", GPUs: 800, Milli: 1000, Work: sim.Hour},
		{ID: "small", GPUs: 1, Milli: 1000, Work: sim.Hour, Submit: 2 * sim.Hour},
	}}
	seen := capsSeen{}
	if err := sim.New(sim.Config{CheckInvariants: true}, simtest.Fleet(t, 100, 8, "H100"), &simtest.FIFO{}, nil, []sim.Source{src}, seen).Run(); err != nil {
		t.Fatal(err)
	}
	if got := seen["gang"][0]; got != 100 {
		t.Fatalf("the gang ran on %d nodes, want 100", got)
	}
	if got := seen["small"]; got[0] != 1 || got[1] >= 100 {
		t.Errorf("the small job's placement: %d shares with room for %d; the gang's array of 100 was kept", got[0], got[1])
	}
}
