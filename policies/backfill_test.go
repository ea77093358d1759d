package policies_test

import (
	"slices"
	"testing"

	"neosim/policies"
	"neosim/sim"
	"neosim/sim/fleet"
	"neosim/workloads"
)

// greedy starts every queued job that fits now, in queue order: the naive
// scheduler that backfilling improves on, which can starve a large job.
type greedy struct{ buf []fleet.Share }

func (*greedy) Name() string { return "greedy" }
func (a *greedy) Schedule(v *sim.View, p *sim.Plan) {
	for _, id := range slices.Clone(v.Queue()) {
		if shares, _, ok := v.Fleet().FirstFit(v.Job(id).Demand(), a.buf[:0]); ok {
			a.buf = shares
			if err := p.Start(id, shares); err != nil {
				panic(err)
			}
		}
	}
}

// TestBackfillProtectsHead: on one 8-GPU node a 4-GPU job runs until 2 h;
// the 8-GPU head's reservation is 2 h. A short job that ends before then
// backfills; a long one would delay the head (as greedy shows), so it waits.
func TestBackfillProtectsHead(t *testing.T) {
	jobs := func() []sim.JobSpec {
		return []sim.JobSpec{
			job("running", sim.SegInternal, 0, 2*sim.Hour, 4),
			job("head", sim.SegInternal, sim.Second, sim.Hour, 8),
			job("short", sim.SegInternal, 2*sim.Second, sim.Hour, 2),
			job("long", sim.SegInternal, 3*sim.Second, 5*sim.Hour, 2),
			job("exact", sim.SegInternal, 4*sim.Second, 2*sim.Hour-4*sim.Second, 2), // ends at the reservation
		}
	}
	l := schedRun(t, "1x8xH100", &policies.Backfill{}, 0, jobs()...)
	if got := l.first("head"); got != 2*sim.Hour {
		t.Errorf("head started at %v, want its reservation 2h", got)
	}
	if got := l.first("short"); got != 2*sim.Second {
		t.Errorf("short job started at %v, want 2s (backfilled on arrival)", got)
	}
	if got := l.first("exact"); got != 4*sim.Second {
		t.Errorf("a job ending exactly at the reservation started at %v, want 4s (backfilled)", got)
	}
	if got := l.first("long"); got < l.first("head") {
		t.Errorf("long job started at %v, before the head (%v): it delays the head", got, l.first("head"))
	}
	g := schedRun(t, "1x8xH100", &greedy{}, 0, jobs()...)
	if got := g.first("head"); got <= 2*sim.Hour {
		t.Errorf("greedy started the head at %v; the test queue should make greedy delay it", got)
	}
}

// TestBackfillExtraGPUs: a long job may start now on GPUs the head does
// not need at its reservation, but not on those it does.
func TestBackfillExtraGPUs(t *testing.T) {
	t.Run("node", func(t *testing.T) {
		// Node 0: 6 GPUs busy until 2 h; node 1: 4 busy until 10 h. The
		// 8-GPU head is reserved node 0 at 2 h; node 1's free GPUs are extra.
		l := schedRun(t, "2x8xH100", &policies.Backfill{}, 0,
			job("n0", sim.SegInternal, 0, 2*sim.Hour, 6),
			job("n1", sim.SegInternal, 0, 10*sim.Hour, 4),
			job("head", sim.SegInternal, sim.Second, sim.Hour, 8),
			job("extra", sim.SegInternal, 2*sim.Second, 5*sim.Hour, 4),
			job("blocked", sim.SegInternal, 3*sim.Second, 5*sim.Hour, 2),
		)
		if got := l.first("head"); got != 2*sim.Hour {
			t.Errorf("head started at %v, want 2h", got)
		}
		if got := l.first("extra"); got != 2*sim.Second {
			t.Errorf("extra job started at %v, want 2s (on node 1)", got)
		}
		if got := l.first("blocked"); got < 2*sim.Hour {
			t.Errorf("a long job on the head's node started at %v, before the head", got)
		}
	})
	t.Run("same node", func(t *testing.T) {
		// GPUs 0-1 busy until 1 h, 2-5 until 10 h, 6-7 free. The 3-GPU head
		// is reserved, at 1 h, the GPUs free by then that free latest: 0, 1
		// and 6. A long 1-GPU job, which first fit puts on GPU 6, moves to
		// GPU 7; a second one has no spare GPU left.
		l := schedRun(t, "1x8xH100", &policies.Backfill{}, 0,
			job("a", sim.SegInternal, 0, sim.Hour, 2),
			job("b", sim.SegInternal, 0, 10*sim.Hour, 4),
			job("head", sim.SegInternal, sim.Second, sim.Hour, 3),
			job("extra", sim.SegInternal, 2*sim.Second, 5*sim.Hour, 1),
			job("blocked", sim.SegInternal, 3*sim.Second, 5*sim.Hour, 1),
		)
		if got := l.first("head"); got != sim.Hour {
			t.Errorf("head started at %v, want 1h", got)
		}
		if got := l.first("extra"); got != 2*sim.Second {
			t.Errorf("extra job started at %v, want 2s", got)
		} else if m := l.runs["extra"][0].Shares[0].Mask; m != 1<<7 {
			t.Errorf("extra job placed on GPUs %#b, want GPU 7 (off the head's reserved GPUs)", m)
		}
		if got := l.first("blocked"); got < sim.Hour {
			t.Errorf("a second long job started at %v, before the head: there is one spare GPU", got)
		}
	})
	t.Run("gang", func(t *testing.T) {
		// Nodes 0 and 1 free at 1 h, node 2 at 5 h, nodes 3 and 4 free now.
		// The 24-GPU head needs three whole nodes at 1 h; four are free
		// then, so long jobs may spoil one of them (node 3), not two.
		l := schedRun(t, "5x8xH100", &policies.Backfill{}, 0,
			job("n0", sim.SegInternal, 0, sim.Hour, 8),
			job("n1", sim.SegInternal, 0, sim.Hour, 8),
			job("n2", sim.SegInternal, 0, 5*sim.Hour, 8),
			job("head", sim.SegInternal, sim.Second, sim.Hour, 24),
			job("extra", sim.SegInternal, 2*sim.Second, 5*sim.Hour, 4),
			job("extra2", sim.SegInternal, 3*sim.Second, 5*sim.Hour, 4), // node 3 again
			job("blocked", sim.SegInternal, 4*sim.Second, 5*sim.Hour, 4),
		)
		if got := l.first("head"); got != sim.Hour {
			t.Errorf("head started at %v, want 1h", got)
		}
		for _, id := range []string{"extra", "extra2"} {
			if r := l.runs[id]; len(r) == 0 || r[0].Shares[0].Node != 3 || r[0].At != l.ended[id].Submit {
				t.Errorf("%s: runs %v, want a start on arrival on node 3", id, r)
			}
		}
		if got := l.first("blocked"); got < sim.Hour {
			t.Errorf("a long job on node 4 started at %v, before the head", got)
		}
	})
	t.Run("type", func(t *testing.T) {
		// The head needs B200; a long H100 job never conflicts with it.
		b200, _ := fleet.LookupType("B200")
		head := job("head", sim.SegInternal, sim.Second, sim.Hour, 8)
		head.GPUTypes = fleet.Only(b200)
		busy := job("busy", sim.SegInternal, 0, 2*sim.Hour, 4)
		busy.GPUTypes = fleet.Only(b200)
		l := schedRun(t, "1x8xH100,1x8xB200", &policies.Backfill{}, 0,
			busy, head, job("h100", sim.SegInternal, 2*sim.Second, 10*sim.Hour, 8))
		if got := l.first("h100"); got != 2*sim.Second {
			t.Errorf("H100 job started at %v, want 2s", got)
		}
		if got, want := l.first("head"), sim.Time(float64(2*sim.Hour)/fleet.Catalog[b200].Speed)+1; got > want || got < want-2 {
			t.Errorf("head started at %v, want when the B200 job ends (%v)", got, want)
		}
	})
}

// promises wraps a Backfill and remembers, per job ID, the earliest
// reservation any pass gave it as the blocked head.
type promises struct {
	*policies.Backfill
	at   map[string]sim.Time
	late []string
}

func (p *promises) Schedule(v *sim.View, pl *sim.Plan) {
	p.Backfill.Schedule(v, pl)
	if h, at, ok := p.Reservation(); ok {
		id := v.Job(h).ID
		if old, seen := p.at[id]; !seen || at < old {
			p.at[id] = at
		} else if at > old {
			p.late = append(p.late, id)
		}
	}
}

// TestBackfillKeepsReservations runs a mixed workload (gangs across racks,
// GPU types, shares, a spread penalty) and checks that every reservation
// made is kept: a head starts no later than the earliest time it was
// promised, and no later pass moves a promise later.
func TestBackfillKeepsReservations(t *testing.T) {
	dist := policies.DistOf(t)
	ws := []workloads.Poisson{
		{Name: "big", Segment: "internal", RatePerHour: 3, MaxJobs: 300, GPUs: dist("choice:8=2,16=2,24=1,40=1"), Duration: dist("exp:7200")},
		{Name: "small", Segment: "internal", RatePerHour: 20, MaxJobs: 2000, GPUs: dist("choice:1=4,2=2,4=1"), Duration: dist("lognormal:1800:1.5")},
		{Name: "share", Segment: "spot", RatePerHour: 6, MaxJobs: 600, GPUs: dist("const:1"), GPUMilli: 500, Duration: dist("exp:900")},
		{Name: "b200", Segment: "on-demand", RatePerHour: 2, MaxJobs: 200, GPUs: dist("choice:4=1,8=1"), Duration: dist("exp:3600"), GPUType: "B200"},
	}
	for _, penalty := range []float64{0, 0.2} {
		var srcs []sim.Source
		for i := range ws {
			s, err := ws[i].Source(7, 0)
			if err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, s)
		}
		f, err := fleet.New([]fleet.Group{{Nodes: 8, GPUsPerNode: 8, Type: "H100", NodesPerRack: 2}, {Nodes: 4, GPUsPerNode: 4, Type: "B200"}})
		if err != nil {
			t.Fatal(err)
		}
		b := &policies.Backfill{}
		if err := policies.Prepare(b); err != nil {
			t.Fatal(err)
		}
		p := &promises{Backfill: b, at: map[string]sim.Time{}}
		l := &schedLog{runs: map[string][]run{}, ended: map[string]sim.Job{}}
		cfg := sim.Config{CheckInvariants: true, SpreadPenalty: penalty}
		if err := sim.New(cfg, f, p, nil, srcs, l).Run(); err != nil {
			t.Fatal(err)
		}
		if len(p.at) < 20 {
			t.Fatalf("penalty %v: only %d heads got a reservation; the workload does not exercise backfilling", penalty, len(p.at))
		}
		for id, at := range p.at {
			if got := l.first(id); got > at {
				t.Errorf("penalty %v: head %s started at %v, after its reservation %v", penalty, id, got, at)
			}
		}
		if len(p.late) > 0 {
			t.Errorf("penalty %v: reservations moved later: %v", penalty, p.late[:min(5, len(p.late))])
		}
		// Backfilling happened: jobs started before earlier arrivals.
		jumped := 0
		for _, e := range l.ended {
			for id, at := range p.at {
				if l.ended[id].Submit < e.Submit && e.FirstStart < l.first(id) && e.FirstStart < at {
					jumped++
					break
				}
			}
		}
		if jumped < 50 {
			t.Errorf("penalty %v: only %d jobs jumped a waiting head", penalty, jumped)
		}
		t.Logf("penalty %v: %d heads reserved, %d jobs backfilled", penalty, len(p.at), jumped)
	}
}

func TestBackfillParams(t *testing.T) {
	if _, err := policies.Allocators.NewWith("backfill", map[string]any{"max_candidates": -1}); err == nil {
		t.Error("max_candidates -1 accepted")
	}
	a, err := policies.Allocators.NewWith("backfill", map[string]any{"max_candidates": 10})
	if err != nil || a.(*policies.Backfill).MaxCandidates != 10 {
		t.Errorf("max_candidates 10: %v, %+v", err, a)
	}
	a, _ = policies.Allocators.New("backfill")
	if a.(*policies.Backfill).MaxCandidates != 500 {
		t.Errorf("default max_candidates %d, want 500", a.(*policies.Backfill).MaxCandidates)
	}
}
