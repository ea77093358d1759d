package policies_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"neosim/policies"
	"neosim/sim"
	"neosim/sim/fleet"
	"neosim/workloads"
)

type counter struct {
	ended, completed int
	badPrice         []string
}

func (c *counter) JobStarted(*sim.Job) {}
func (c *counter) JobEnded(j *sim.Job) {
	c.ended++
	if j.State == sim.Completed {
		c.completed++
	}
	if price := j.PriceMicroUSD; j.Segment.External() && (price <= 0 || price > 1000e6) {
		c.badPrice = append(c.badPrice, fmt.Sprintf("%s quoted %d µ$/GPU-h", j.ID, price))
	} else if !j.Segment.External() && price != 0 {
		c.badPrice = append(c.badPrice, fmt.Sprintf("internal %s priced %d", j.ID, price))
	}
}
func (c *counter) Sampled(*sim.Sample) {}

// conformance checks every placement the engine reports against the job
// that asked for it: all of the gang's GPUs at once (shares adding up to
// exactly its GPUs, each node once), each share at the job's milli (at most
// a whole GPU), one GPU type, one the job allows; and at every sample, no
// more milli-GPU busy than the fleet has. The engine's invariants (checked
// after every event: no GPU held beyond 1000 milli, capacity conserved)
// panic on their own.
type conformance struct {
	f    fleet.View
	errs []string
}

func (c *conformance) JobStarted(j *sim.Job) {
	bad := func(format string, args ...any) {
		if len(c.errs) < 5 {
			c.errs = append(c.errs, fmt.Sprintf("job %s at %v: ", j.ID, j.Start)+fmt.Sprintf(format, args...))
		}
	}
	gpus := 0
	for i, sh := range j.Shares {
		gpus += sh.GPUs()
		if sh.Milli != j.Milli || sh.Milli == 0 || sh.Milli > fleet.FullGPU {
			bad("share %d holds %d milli per GPU; the job asks %d", i, sh.Milli, j.Milli)
		}
		if t := c.f.NodeType(sh.Node); t != j.Type || !j.GPUTypes.Has(t) {
			bad("share %d on a %s node; job type %d, allowed %q", i, fleet.Catalog[t].Name, j.Type, j.GPUTypes)
		}
		for _, prev := range j.Shares[:i] {
			if prev.Node == sh.Node {
				bad("node %d appears twice", sh.Node)
			}
		}
	}
	if gpus != int(j.GPUs) {
		bad("holds %d GPUs, asks %d (gangs are all or nothing)", gpus, j.GPUs)
	}
}
func (c *conformance) JobEnded(*sim.Job) {}
func (c *conformance) Sampled(s *sim.Sample) {
	var busy int64
	for _, b := range s.BusyMilli {
		busy += b
	}
	if busy > s.GPUsTotal*fleet.FullGPU && len(c.errs) < 5 {
		c.errs = append(c.errs, fmt.Sprintf("at %v: %d milli-GPU busy on %d GPUs", s.T, busy, s.GPUsTotal))
	}
}

// TestAllocatorConformance runs every registered allocator, with every
// registered pricer, on a mixed workload (gangs up to two nodes, GPU-type
// constraints, fractional shares, spot with a notice period) with the
// engine's invariants checked after every event: whatever a policy
// proposes, the engine's state stays consistent, every placement is whole
// and of an allowed type (conformance), every job ends exactly once, with
// no horizon every job that fits eventually completes (the queue drains),
// and a second run with the same seed ends the same jobs at the same times
// in the same order.
func TestAllocatorConformance(t *testing.T) {
	dist := policies.DistOf(t)
	ws := []workloads.Poisson{
		{Name: "in", Segment: "internal", RatePerHour: 10, MaxJobs: 300, GPUs: dist("choice:1=3,4=1,8=1,16=1"), Duration: dist("exp:1800")},
		{Name: "od", Segment: "on-demand", RatePerHour: 4, MaxJobs: 100, GPUs: dist("choice:1=1,8=1"), GPUMilli: 0, Duration: dist("exp:3600")},
		{Name: "sh", Segment: "spot", RatePerHour: 4, MaxJobs: 100, GPUs: dist("const:1"), GPUMilli: 250, Duration: dist("exp:600"), GPUType: "B200",
			NoticeS: 30, CheckpointS: 300},
		{Name: "h100", Segment: "internal", RatePerHour: 2, MaxJobs: 40, GPUs: dist("choice:2=1,8=1,16=1"), Duration: dist("exp:1800"), GPUType: "H100"},
		{Name: "spot", Segment: "spot", RatePerHour: 3, MaxJobs: 60, GPUs: dist("choice:1=1,4=1"), Duration: dist("exp:3600"), NoticeS: 120, CheckpointS: 600},
	}
	var want int
	for _, w := range ws {
		want += int(w.MaxJobs)
	}
	for _, an := range policies.Allocators.Names() {
		for _, pn := range policies.Pricers.Names() {
			t.Run(an+"/"+pn, func(t *testing.T) {
				t.Parallel()
				var logs [2]*schedLog
				for k := range logs {
					alloc, _ := policies.Allocators.New(an)
					pricer, _ := policies.Pricers.New(pn)
					if alloc.Name() != an || pricer.Name() != pn {
						t.Fatalf("registered as %s/%s, named %s/%s", an, pn, alloc.Name(), pricer.Name())
					}
					f, err := fleet.New([]fleet.Group{{Nodes: 4, GPUsPerNode: 8, Type: "H100"}, {Nodes: 2, GPUsPerNode: 4, Type: "B200"}})
					if err != nil {
						t.Fatal(err)
					}
					var srcs []sim.Source
					for i := range ws {
						s, err := ws[i].Source(1, 0)
						if err != nil {
							t.Fatal(err)
						}
						srcs = append(srcs, s)
					}
					c := &counter{}
					conf := &conformance{f: f}
					logs[k] = &schedLog{runs: map[string][]run{}, ended: map[string]sim.Job{}}
					// The second run, only compared, skips the O(fleet) checks.
					e := sim.New(sim.Config{CheckInvariants: k == 0}, f, alloc, pricer, srcs, c, conf, logs[k])
					if err := e.Run(); err != nil {
						t.Fatal(err)
					}
					if k > 0 {
						break // the second run is compared, not checked again
					}
					if len(c.badPrice) > 0 {
						t.Errorf("prices out of (0, $1000] per GPU-hour: %v", c.badPrice[:min(3, len(c.badPrice))])
					}
					if c.ended != want || c.completed != want {
						t.Errorf("%d jobs ended, %d completed; want %d and %d", c.ended, c.completed, want, want)
					}
					for _, msg := range conf.errs {
						t.Error(msg)
					}
				}
				a, b := logs[0], logs[1]
				if !slices.Equal(a.order, b.order) {
					t.Fatalf("same seed, different job end order")
				}
				for _, id := range a.order {
					x, y := a.ended[id], b.ended[id]
					if x.End != y.End || x.FirstStart != y.FirstStart || x.State != y.State || x.PriceMicroUSD != y.PriceMicroUSD {
						t.Fatalf("same seed, job %s differs: ended %v/%v at %v/%v, first start %v/%v", id, x.State, y.State, x.End, y.End, x.FirstStart, y.FirstStart)
					}
				}
			})
		}
	}
}

// TestAllocatorsSurviveFailures runs every registered allocator with node
// failures (about 20 in the run, each taking a node down for an hour and
// sending its jobs back to the queue) under the engine's invariants: every
// job still completes.
func TestAllocatorsSurviveFailures(t *testing.T) {
	dist := policies.DistOf(t)
	ws := []workloads.Poisson{
		{Name: "in", Segment: "internal", RatePerHour: 10, MaxJobs: 300, GPUs: dist("choice:1=3,4=1,8=1,16=1"), Duration: dist("exp:1800"), CheckpointS: 600},
		{Name: "spot", Segment: "spot", RatePerHour: 4, MaxJobs: 100, GPUs: dist("choice:1=1,4=1"), Duration: dist("exp:3600"), NoticeS: 120},
		{Name: "sh", Segment: "on-demand", RatePerHour: 4, MaxJobs: 100, GPUs: dist("const:1"), GPUMilli: 500, Duration: dist("exp:600")},
	}
	for _, an := range policies.Allocators.Names() {
		t.Run(an, func(t *testing.T) {
			t.Parallel()
			alloc, _ := policies.Allocators.New(an)
			f, err := fleet.New([]fleet.Group{{Nodes: 4, GPUsPerNode: 8, Type: "H100"}, {Nodes: 2, GPUsPerNode: 4, Type: "B200"}})
			if err != nil {
				t.Fatal(err)
			}
			var srcs []sim.Source
			for i := range ws {
				s, err := ws[i].Source(5, 0)
				if err != nil {
					t.Fatal(err)
				}
				srcs = append(srcs, s)
			}
			c := &counter{}
			cfg := sim.Config{CheckInvariants: true, Seed: 5, RestartOverhead: 5 * sim.Minute,
				Failures: &sim.Failures{PerGPUHour: 0.01, Repair: func(*rand.Rand) sim.Time { return sim.Hour }}}
			e := sim.New(cfg, f, alloc, nil, srcs, c, &conformance{f: f})
			if err := e.Run(); err != nil {
				t.Fatal(err)
			}
			if n := e.Stats().Failures; n < 5 {
				t.Errorf("only %d failures: the test does not exercise them", n)
			}
			if c.ended != 500 || c.completed != 500 {
				t.Errorf("%d jobs ended, %d completed; want 500 and 500", c.ended, c.completed)
			}
		})
	}
}

// TestScaleInvariance is a metamorphic test: doubling every node group and
// every workload's arrival rate leaves utilization (busy GPU time over GPU
// time) the same, within 3% absolute, on a month of load.
func TestScaleInvariance(t *testing.T) {
	if testing.Short() {
		t.Skip("a simulated month per run")
	}
	dist := policies.DistOf(t)
	horizon := 30 * sim.Day
	util := func(alloc string, scale int) float64 {
		ws := []workloads.Poisson{
			{Name: "in", Segment: "internal", RatePerHour: 24 * float64(scale), GPUs: dist("choice:1=4,2=2,4=1,8=1"), Duration: dist("exp:3600")},
			{Name: "od", Segment: "on-demand", RatePerHour: 8 * float64(scale), GPUs: dist("choice:1=1,2=1,4=1"), Duration: dist("exp:3600")},
			{Name: "spot", Segment: "spot", RatePerHour: 8 * float64(scale), GPUs: dist("const:1"), Duration: dist("exp:1800"), GPUType: "B200", NoticeS: 30},
		}
		var srcs []sim.Source
		for i := range ws {
			s, err := ws[i].Source(11, horizon)
			if err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, s)
		}
		f, err := fleet.New([]fleet.Group{{Nodes: 8 * scale, GPUsPerNode: 8, Type: "H100"}, {Nodes: 4 * scale, GPUsPerNode: 8, Type: "B200"}})
		if err != nil {
			t.Fatal(err)
		}
		a, err := policies.Allocators.New(alloc)
		if err != nil {
			t.Fatal(err)
		}
		var u utilization
		if err := sim.New(sim.Config{Horizon: horizon}, f, a, nil, srcs, &u).Run(); err != nil {
			t.Fatal(err)
		}
		return u.busy / u.total
	}
	for _, an := range []string{"fifo", "backfill", "partition", "priority"} {
		t.Run(an, func(t *testing.T) {
			one, two := util(an, 1), util(an, 2)
			t.Logf("utilization %.4f, doubled %.4f", one, two)
			if d := math.Abs(one - two); d > 0.03 {
				t.Errorf("utilization %.4f on the fleet, %.4f on the doubled fleet with doubled arrivals: differ by %.4f > 0.03", one, two, d)
			}
			if one < 0.2 {
				t.Errorf("utilization %.4f: the load is too light for the test to mean much", one)
			}
		})
	}
}

// utilization averages the busy share of the fleet over samples.
type utilization struct{ busy, total float64 }

func (*utilization) JobStarted(*sim.Job) {}
func (*utilization) JobEnded(*sim.Job)   {}
func (u *utilization) Sampled(s *sim.Sample) {
	var busy int64
	for _, b := range s.BusyMilli {
		busy += b
	}
	u.busy += float64(busy)
	u.total += float64(s.GPUsTotal * fleet.FullGPU)
}

func TestUnknownPolicy(t *testing.T) {
	if _, err := policies.Allocators.New("nope"); err == nil {
		t.Error("unknown allocator accepted")
	}
}
