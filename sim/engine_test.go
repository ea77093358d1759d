package sim_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"neosim/policies"
	"neosim/sim"
	"neosim/sim/fleet"
	"neosim/workloads"
)

// waits records what a run did, per job and per sample.
type waits struct {
	n, started   int
	sumWait      float64
	sumQueueTime float64 // Σ samples of queued jobs × sample interval
	samples      int
	ended        map[sim.State]int
	gpuHours     float64
	workHours    float64 // Σ gpus × H100 work of completed jobs
	order        []string
	end          sim.Time
	lostHours    float64
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
	w.sumQueueTime += float64(q)
	w.samples++
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

func mmc(t *testing.T, c int, rho float64, jobs int64, seed uint64, sample sim.Time) *waits {
	t.Helper()
	f, err := fleet.New([]fleet.Group{{Nodes: c, GPUsPerNode: 1, Type: "H100"}})
	if err != nil {
		t.Fatal(err)
	}
	meanService := 3600.0 // seconds
	w := workloads.Poisson{Name: "mmc", Segment: "internal", RatePerHour: rho * float64(c),
		GPUs: mustDist(t, "const:1"), Duration: mustDist(t, fmt.Sprintf("exp:%g", meanService)), MaxJobs: jobs}
	src, err := w.Source(seed, 0)
	if err != nil {
		t.Fatal(err)
	}
	obs := &waits{}
	e := sim.New(sim.Config{SampleInterval: sample}, f, &policies.FIFO{}, &policies.Flat{}, []sim.Source{src}, obs)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	obs.end = e.Stats().End
	return obs
}

func mustDist(t testing.TB, spec string) workloads.Dist {
	d, err := workloads.ParseDist(spec)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestErlangC checks the mean wait of FIFO on c single-GPU nodes with
// Poisson arrivals and exponential durations against the Erlang C formula.
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
			var sum float64
			const seeds = 4
			for seed := uint64(1); seed <= seeds; seed++ {
				o := mmc(t, c, tc.rho, tc.jobs, seed, sim.Hour)
				if o.ended[sim.Completed] != int(tc.jobs) {
					t.Fatalf("seed %d: %d of %d jobs completed: %v", seed, o.ended[sim.Completed], tc.jobs, o.ended)
				}
				meanWait := o.sumWait / float64(o.started)
				sum += meanWait
				// Little's law: time-average queue length = arrival rate × mean wait.
				lq := o.sumQueueTime / float64(o.samples)
				lambda := float64(o.n) / o.end.Seconds()
				if math.Abs(lq/(lambda*meanWait)-1) > 0.02 {
					t.Errorf("seed %d: Little's law: Lq %.4f, λW %.4f", seed, lq, lambda*meanWait)
				}
			}
			got := sum / seeds
			t.Logf("rho=%v: mean wait %.1fs, Erlang C %.1fs (%+.2f%%)", tc.rho, got, want, 100*(got/want-1))
			if math.Abs(got/want-1) > 0.05 {
				t.Errorf("mean wait %.1fs, Erlang C says %.1fs: off by more than 5%%", got, want)
			}
		})
	}
}

// TestConservation runs a mixed workload (multi-node gangs, GPU shares, type
// constraints, patience, random preemptions with and without notice,
// checkpoints, node failures and repairs, restart overheads) with the
// invariants checked after every event, and checks that completed jobs'
// GPU-hours, less the GPU-hours they lost to interruptions, equal their
// work on an H100-only fleet.
func TestConservation(t *testing.T) {
	f, err := fleet.New([]fleet.Group{{Nodes: 6, GPUsPerNode: 8, Type: "H100"}, {Nodes: 5, GPUsPerNode: 4, Type: "H100", Datacenter: "b"}})
	if err != nil {
		t.Fatal(err)
	}
	ws := []workloads.Poisson{
		{Name: "small", Segment: "internal", RatePerHour: 20, GPUs: mustDist(t, "choice:1=4,2=1,4=1,8=1"), Duration: mustDist(t, "exp:3600")},
		{Name: "gang", Segment: "internal", RatePerHour: 0.5, GPUs: mustDist(t, "choice:12=1,16=1,40=1"), Duration: mustDist(t, "exp:7200"), CheckpointS: 600},
		{Name: "share", Segment: "spot", RatePerHour: 10, GPUs: mustDist(t, "const:1"), GPUMilli: 300, Duration: mustDist(t, "exp:1800"), CheckpointS: 300, NoticeS: 120},
		{Name: "od", Segment: "on-demand", RatePerHour: 5, GPUs: mustDist(t, "const:8"), Duration: mustDist(t, "exp:3600"), Patience: ptr(mustDist(t, "exp:1800"))},
		{Name: "huge", Segment: "internal", RatePerHour: 0.5, GPUs: mustDist(t, "const:100"), Duration: mustDist(t, "exp:60")},
	}
	var srcs []sim.Source
	for i := range ws {
		s, err := ws[i].Source(7, 3*sim.Day)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, s)
	}
	obs := &waits{}
	alloc := &chaos{rng: rand.New(rand.NewPCG(1, 2))}
	cfg := sim.Config{CheckInvariants: true, SampleInterval: 10 * sim.Minute, RestartOverhead: 5 * sim.Minute, Seed: 3,
		Failures: &sim.Failures{PerGPUHour: 2e-3, Repair: func(r *rand.Rand) sim.Time { return sim.Time(r.ExpFloat64() * float64(2*sim.Hour)) }}}
	e := sim.New(cfg, f, alloc, &policies.Flat{}, srcs, obs)
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

func ptr[T any](v T) *T { return &v }

// chaos is FIFO that also preempts a random running job now and then.
type chaos struct {
	policies.FIFO
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
		f, _ := fleet.New([]fleet.Group{{Nodes: 4, GPUsPerNode: 8, Type: "H100"}})
		w := workloads.Poisson{Name: "w", Segment: "internal", RatePerHour: 30, GPUs: mustDist(t, "choice:1=1,8=1,16=1"), Duration: mustDist(t, "lognormal:600:1")}
		src, _ := w.Source(seed, 2*sim.Day)
		o := &waits{order: []string{}}
		if err := sim.New(sim.Config{Horizon: 2 * sim.Day}, f, &policies.FIFO{}, &policies.Flat{}, []sim.Source{src}, o).Run(); err != nil {
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

// listSource replays fixed jobs.
type listSource struct {
	jobs []sim.JobSpec
	i    int
}

func (s *listSource) Name() string { return "list" }
func (s *listSource) Err() error   { return nil }
func (s *listSource) Next(j *sim.JobSpec) bool {
	if s.i >= len(s.jobs) {
		return false
	}
	*j = s.jobs[s.i]
	s.i++
	return true
}

// preemptSpot is FIFO that, when the head is internal and does not fit,
// preempts a spot job for it.
type preemptSpot struct{ policies.FIFO }

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

type ends map[string]sim.Job

func (e ends) JobStarted(*sim.Job) {}
func (e ends) JobEnded(j *sim.Job) { e[j.ID] = *j }
func (e ends) Sampled(*sim.Sample) {}

// TestSpotPreemptionLosesWorkSinceCheckpoint: a spot job preempted with
// notice keeps running through its notice, then loses exactly the work since
// its last checkpoint, and pays the restart overhead when it runs again.
func TestSpotPreemptionLosesWorkSinceCheckpoint(t *testing.T) {
	for _, overhead := range []sim.Time{0, 60 * sim.Second} {
		f, _ := fleet.New([]fleet.Group{{Nodes: 1, GPUsPerNode: 1, Type: "H100"}})
		src := &listSource{jobs: []sim.JobSpec{
			{ID: "spot", Submit: 0, GPUs: 1, Milli: 1000, Segment: sim.SegSpot, Work: 3600 * sim.Second, Checkpoint: 300 * sim.Second, Notice: 120 * sim.Second},
			{ID: "train", Submit: 1000 * sim.Second, GPUs: 1, Milli: 1000, Segment: sim.SegInternal, Work: 500 * sim.Second},
		}}
		got := ends{}
		e := sim.New(sim.Config{CheckInvariants: true, RestartOverhead: overhead}, f, &preemptSpot{}, &policies.Flat{}, []sim.Source{src}, got)
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
	f, _ := fleet.New([]fleet.Group{{Nodes: 2048, GPUsPerNode: 8, Type: "H100"}})
	src := &listSource{jobs: []sim.JobSpec{{ID: "llama", GPUs: 16384, Milli: 1000, Work: 10 * sim.Day}}}
	got := ends{}
	if err := sim.New(sim.Config{}, f, &policies.FIFO{}, nil, []sim.Source{src}, got).Run(); err != nil {
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
	f, _ := fleet.New([]fleet.Group{{Nodes: 1, GPUsPerNode: 8, Type: "B200"}})
	src := &listSource{jobs: []sim.JobSpec{
		{ID: "contract", GPUs: 8, Milli: 1000, Segment: sim.SegReserved, Work: 10 * sim.Day, Hold: true},
		{ID: "urgent", Submit: sim.Hour, GPUs: 8, Milli: 1000, Segment: sim.SegInternal, Work: sim.Hour},
	}}
	got := ends{}
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
	policies.FIFO
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
