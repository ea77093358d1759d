package policies_test

import (
	"fmt"
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

// TestAllocatorConformance runs every registered allocator, with every
// registered pricer, on a mixed workload with the engine's invariants
// checked after every event: whatever a policy proposes, the engine's
// state stays consistent, every job ends exactly once, and with no horizon
// every job that fits eventually completes.
func TestAllocatorConformance(t *testing.T) {
	dist := func(s string) workloads.Dist {
		d, err := workloads.ParseDist(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, an := range policies.Allocators.Names() {
		for _, pn := range policies.Pricers.Names() {
			t.Run(an+"/"+pn, func(t *testing.T) {
				alloc, _ := policies.Allocators.New(an)
				pricer, _ := policies.Pricers.New(pn)
				if alloc.Name() != an || pricer.Name() != pn {
					t.Fatalf("registered as %s/%s, named %s/%s", an, pn, alloc.Name(), pricer.Name())
				}
				f, err := fleet.New([]fleet.Group{{Nodes: 4, GPUsPerNode: 8, Type: "H100"}, {Nodes: 2, GPUsPerNode: 4, Type: "B200"}})
				if err != nil {
					t.Fatal(err)
				}
				ws := []workloads.Poisson{
					{Name: "in", Segment: "internal", RatePerHour: 10, MaxJobs: 300, GPUs: dist("choice:1=3,4=1,8=1,16=1"), Duration: dist("exp:1800")},
					{Name: "od", Segment: "on-demand", RatePerHour: 4, MaxJobs: 100, GPUs: dist("choice:1=1,8=1"), GPUMilli: 0, Duration: dist("exp:3600")},
					{Name: "sh", Segment: "spot", RatePerHour: 4, MaxJobs: 100, GPUs: dist("const:1"), GPUMilli: 250, Duration: dist("exp:600"), GPUType: "B200"},
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
				e := sim.New(sim.Config{CheckInvariants: true}, f, alloc, pricer, srcs, c)
				if err := e.Run(); err != nil {
					t.Fatal(err)
				}
				if len(c.badPrice) > 0 {
					t.Errorf("prices out of (0, $1000] per GPU-hour: %v", c.badPrice[:min(3, len(c.badPrice))])
				}
				if c.ended != 500 || c.completed != 500 {
					t.Errorf("%d jobs ended, %d completed; want 500 and 500", c.ended, c.completed)
				}
			})
		}
	}
}

func TestUnknownPolicy(t *testing.T) {
	if _, err := policies.Allocators.New("nope"); err == nil {
		t.Error("unknown allocator accepted")
	}
}
