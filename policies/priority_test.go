package policies_test

import (
	"slices"
	"testing"

	"neosim/policies"
	"neosim/sim"
	"neosim/sim/fleet"
)

// run is one job run of a schedule log.
type run struct {
	At     sim.Time
	Type   fleet.TypeID
	Shares []fleet.Share
}

// schedLog records what a run did: every job's runs, its final state and
// the samples.
type schedLog struct {
	runs    map[string][]run
	ended   map[string]sim.Job
	order   []string // job IDs in the order they ended
	samples []sim.Sample
}

func (l *schedLog) JobStarted(j *sim.Job) {
	l.runs[j.ID] = append(l.runs[j.ID], run{At: j.Start, Type: j.Type, Shares: slices.Clone(j.Shares)})
}
func (l *schedLog) JobEnded(j *sim.Job) {
	c := *j
	c.Shares = nil
	l.ended[j.ID] = c
	l.order = append(l.order, j.ID)
}
func (l *schedLog) Sampled(s *sim.Sample) { l.samples = append(l.samples, *s) }

// first returns when job id first started, or -1.
func (l *schedLog) first(id string) sim.Time {
	if r := l.runs[id]; len(r) > 0 {
		return r[0].At
	}
	return -1
}

// schedRun runs jobs (Milli 0 means a whole GPU) on fleet spec under alloc,
// with the invariants checked after every event and a sample every
// sampleEvery (0: 5 minutes), and returns the log.
func schedRun(t *testing.T, spec string, alloc sim.Allocator, sampleEvery sim.Time, jobs ...sim.JobSpec) *schedLog {
	t.Helper()
	g, err := fleet.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fleet.New(g)
	if err != nil {
		t.Fatal(err)
	}
	for i := range jobs {
		if jobs[i].Milli == 0 {
			jobs[i].Milli = fleet.FullGPU
		}
	}
	if err := policies.Prepare(alloc); err != nil {
		t.Fatal(err)
	}
	l := &schedLog{runs: map[string][]run{}, ended: map[string]sim.Job{}}
	cfg := sim.Config{CheckInvariants: true, SampleInterval: sampleEvery}
	if err := sim.New(cfg, f, alloc, nil, []sim.Source{&fixed{jobs: jobs}}, l).Run(); err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if e, ok := l.ended[j.ID]; !ok || e.State != sim.Completed {
			t.Errorf("job %s ended %v (%s), want completed", j.ID, e.State, e.Reason)
		}
	}
	return l
}

func nodesOf(shares []fleet.Share) []fleet.NodeID {
	var ns []fleet.NodeID
	for _, sh := range shares {
		ns = append(ns, sh.Node)
	}
	return ns
}

// TestPriorityNotice: an internal job that finds the fleet full preempts
// the spot job, and only it (never reserved, on-demand or internal work);
// the spot job keeps running for its 120 s notice after the decision, then
// its GPUs go to the internal job.
func TestPriorityNotice(t *testing.T) {
	spot := job("spot", sim.SegSpot, 0, 10*sim.Hour, 8)
	spot.Notice = 120 * sim.Second
	spot.Checkpoint = 10 * sim.Minute
	res := job("reserved", sim.SegReserved, 0, 10*sim.Hour, 8)
	res.Hold = true
	l := schedRun(t, "4x8xH100", &policies.Priority{}, sim.Minute,
		res,
		job("on-demand", sim.SegOnDemand, 0, 10*sim.Hour, 8),
		spot,
		job("internal-old", sim.SegInternal, 0, 10*sim.Hour, 8),
		job("internal", sim.SegInternal, sim.Hour, sim.Hour, 8), // the decision: at 1 h
	)
	decided := sim.Hour
	if got, want := l.first("internal"), decided+120*sim.Second; got != want {
		t.Errorf("internal job started at %v, want %v (the decision plus the 120 s notice)", got, want)
	}
	for _, id := range []string{"reserved", "on-demand", "internal-old"} {
		if n := l.ended[id].Preemptions; n != 0 || len(l.runs[id]) != 1 {
			t.Errorf("%s preempted %d times, ran %d times; want 0 and 1", id, n, len(l.runs[id]))
		}
	}
	if n := l.ended["spot"].Preemptions; n != 1 {
		t.Errorf("spot preempted %d times, want 1", n)
	}
	if sr, ir := l.runs["spot"], l.runs["internal"]; len(sr) != 2 || len(ir) != 1 || !slices.Equal(nodesOf(sr[0].Shares), nodesOf(ir[0].Shares)) || sr[0].Shares[0].Mask != ir[0].Shares[0].Mask {
		t.Errorf("the internal job did not take the spot job's GPUs: spot runs %v, internal runs %v", sr, ir)
	}
	// During the notice the spot job still runs and the internal one waits.
	for _, s := range l.samples {
		spotBusy, inBusy := s.BusyMilli[sim.SegSpot], s.BusyMilli[sim.SegInternal]
		switch {
		case s.T >= decided && s.T < decided+120*sim.Second:
			if spotBusy != 8000 || inBusy != 8000 {
				t.Errorf("at %v (under notice): spot holds %d, internal %d milli-GPU; want 8000 and 8000", s.T, spotBusy, inBusy)
			}
		case s.T >= decided+120*sim.Second && s.T < 2*sim.Hour+120*sim.Second:
			if spotBusy != 0 || inBusy != 16000 {
				t.Errorf("at %v (after the notice): spot holds %d, internal %d milli-GPU; want 0 and 16000", s.T, spotBusy, inBusy)
			}
		}
	}
	// The spot job resumes from its last checkpoint (1 h: 60 min of work
	// kept) once the internal job is done, and loses the 2 minutes since.
	if e := l.ended["spot"]; e.LostTime != 2*sim.Minute {
		t.Errorf("spot lost %v, want 2m (its run since the last checkpoint)", e.LostTime)
	}
}

// TestPriorityPreemptsOnlyLowerClasses: jobs wait rather than preempt
// anything but spot, and spot never preempts spot; on-demand outranks spot
// and preempts it.
func TestPriorityPreemptsOnlyLowerClasses(t *testing.T) {
	res := job("reserved", sim.SegReserved, 0, 10*sim.Hour, 8)
	res.Hold = true
	l := schedRun(t, "2x8xH100", &policies.Priority{}, 0,
		res,
		job("on-demand", sim.SegOnDemand, 0, 5*sim.Hour, 8),
		job("internal", sim.SegInternal, sim.Hour, sim.Hour, 8),
		job("spot-late", sim.SegSpot, 2*sim.Hour, sim.Hour, 8),
	)
	if got := l.first("internal"); got != 5*sim.Hour {
		t.Errorf("internal started at %v, want 5h (when the on-demand job ends; nothing preemptible)", got)
	}
	for id, e := range l.ended {
		if e.Preemptions != 0 {
			t.Errorf("%s preempted %d times", id, e.Preemptions)
		}
	}

	spot := job("spot", sim.SegSpot, 0, 10*sim.Hour, 8)
	spot.Notice = 30 * sim.Second
	l = schedRun(t, "1x8xH100", &policies.Priority{}, 0,
		spot,
		job("spot2", sim.SegSpot, sim.Hour, sim.Hour, 8),
		job("on-demand", sim.SegOnDemand, 2*sim.Hour, sim.Hour, 8),
	)
	if got := l.first("on-demand"); got != 2*sim.Hour+30*sim.Second {
		t.Errorf("on-demand started at %v, want 2h0m30s (after the spot notice)", got)
	}
	if n := l.ended["spot"].Preemptions; n != 1 {
		t.Errorf("spot preempted %d times, want 1 (by on-demand only)", n)
	}
}

// TestPriorityPreemptsUsableGPUs: the blocked job needs its GPUs of one
// type on one node; priority preempts the spot jobs whose GPUs make that
// possible, and none that would not help.
func TestPriorityPreemptsUsableGPUs(t *testing.T) {
	h100, _ := fleet.LookupType("H100")
	b200, _ := fleet.LookupType("B200")
	t.Run("type", func(t *testing.T) {
		// 4 free B200 and 8 spot H100: only preempting H100 helps.
		filler := job("filler", sim.SegInternal, 0, 20*sim.Hour, 4)
		filler.GPUTypes = fleet.Only(b200)
		jobs := []sim.JobSpec{filler}
		for _, id := range []string{"s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"} {
			s := job(id, sim.SegSpot, 0, 10*sim.Hour, 1)
			s.GPUTypes = fleet.Only(h100)
			jobs = append(jobs, s)
		}
		jobs = append(jobs, job("internal", sim.SegInternal, sim.Hour, sim.Hour, 8))
		l := schedRun(t, "1x8xH100,1x8xB200", &policies.Priority{}, 0, jobs...)
		if got := l.first("internal"); got != sim.Hour {
			t.Errorf("internal started at %v, want 1h (preempting the H100 spot jobs)", got)
		}
	})
	t.Run("node", func(t *testing.T) {
		// Node 0: spot on 4 GPUs, 4 free; node 1: internal on 4, 4 free.
		spot := job("spot", sim.SegSpot, 0, 10*sim.Hour, 4)
		spot.Notice = 30 * sim.Second
		l := schedRun(t, "2x8xH100", &policies.Priority{}, 0,
			spot,
			job("short", sim.SegInternal, 0, 30*sim.Minute, 4),
			job("long", sim.SegInternal, 0, 20*sim.Hour, 4),
			job("internal", sim.SegInternal, sim.Hour, sim.Hour, 8),
		)
		if got := l.first("internal"); got != sim.Hour+30*sim.Second {
			t.Errorf("internal started at %v, want 1h0m30s (preempting the spot job on node 0)", got)
		}
	})
	t.Run("useless", func(t *testing.T) {
		// Each node holds internal work on 4 GPUs: no preemption helps.
		l := schedRun(t, "2x8xH100", &policies.Priority{}, 0,
			job("a", sim.SegInternal, 0, 20*sim.Hour, 4),
			job("spot", sim.SegSpot, 0, 10*sim.Hour, 4),
			job("b", sim.SegInternal, 0, 20*sim.Hour, 4),
			job("c", sim.SegInternal, 0, 20*sim.Hour, 4),
			job("internal", sim.SegInternal, sim.Hour, sim.Hour, 8),
		)
		if n := l.ended["spot"].Preemptions; n != 0 {
			t.Errorf("spot preempted %d times; no node could be freed for the internal job", n)
		}
	})
	t.Run("gang", func(t *testing.T) {
		// A 16-GPU gang needs two entirely free nodes: node 0 (spot on 8)
		// and node 2 (spot on 4, 4 free); node 1 runs internal work.
		a := job("spot-a", sim.SegSpot, 0, 10*sim.Hour, 8)
		a.Notice = 30 * sim.Second
		b := job("spot-b", sim.SegSpot, 0, 10*sim.Hour, 4)
		b.Notice = 30 * sim.Second
		l := schedRun(t, "3x8xH100", &policies.Priority{}, 0,
			a, job("long", sim.SegInternal, 0, 20*sim.Hour, 8), b,
			job("gang", sim.SegInternal, sim.Hour, sim.Hour, 16),
		)
		if got := l.first("gang"); got != sim.Hour+30*sim.Second {
			t.Errorf("gang started at %v, want 1h0m30s", got)
		}
		if l.ended["long"].Preemptions != 0 {
			t.Error("internal work preempted")
		}
	})
	t.Run("spot on two nodes", func(t *testing.T) {
		// The only spot job holds nodes 0 and 1 whole; node 2 runs
		// internal work. An 8-GPU job preempts the spot job, whose
		// placement spans two nodes.
		spot := job("spot", sim.SegSpot, 0, 10*sim.Hour, 16)
		spot.Notice = 30 * sim.Second
		l := schedRun(t, "3x8xH100", &policies.Priority{}, 0,
			spot, job("long", sim.SegInternal, 0, 20*sim.Hour, 8),
			job("internal", sim.SegInternal, sim.Hour, sim.Hour, 8),
		)
		if got := l.first("internal"); got != sim.Hour+30*sim.Second {
			t.Errorf("internal started at %v, want 1h0m30s (preempting the spot job on two nodes)", got)
		}
		if n := l.ended["spot"].Preemptions; n != 1 {
			t.Errorf("spot preempted %d times, want 1", n)
		}
	})
	t.Run("gang useless", func(t *testing.T) {
		// Only one node could be freed: the gang waits, and no spot job is
		// preempted for nothing.
		l := schedRun(t, "3x8xH100", &policies.Priority{}, 0,
			job("spot-a", sim.SegSpot, 0, 10*sim.Hour, 8),
			job("long", sim.SegInternal, 0, 20*sim.Hour, 8),
			job("spot-b", sim.SegSpot, 0, 10*sim.Hour, 4),
			job("long2", sim.SegInternal, 0, 20*sim.Hour, 4),
			job("gang", sim.SegInternal, sim.Hour, sim.Hour, 16),
		)
		for _, id := range []string{"spot-a", "spot-b"} {
			if n := l.ended[id].Preemptions; n != 0 {
				t.Errorf("%s preempted %d times; no two nodes could be freed", id, n)
			}
		}
	})
}
