package policies

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"neosim/policies/frag"
	"neosim/sim"
	"neosim/sim/fleet"
	"neosim/workloads"
)

func fgdFleet(t testing.TB, gs ...fleet.Group) *fleet.Fleet {
	f, err := fleet.New(gs)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func fgdNew(t testing.TB, params map[string]any) *FGD {
	a, err := Allocators.NewWith("fgd", params)
	if err != nil {
		t.Fatal(err)
	}
	return a.(*FGD)
}

// TestFGDHandComputed: three 1-GPU nodes, A full, B with 400 milli free and
// C with 700, and a target workload of 1 × 400 tasks only. A 1 × 300 task:
//
//	on B: 400 → 100 free, a fragment no 400 task can use: Δ = +100
//	on C: 700 → 400 free, still usable by a 400 task:     Δ = 0
//
// FGD puts it on C (best fit would take B, the tightest share).
func TestFGDHandComputed(t *testing.T) {
	f := fgdFleet(t, fleet.Group{Nodes: 3, GPUsPerNode: 1, Type: "H100"})
	f.Allocate([]fleet.Share{{Node: 0, Milli: 1000, Mask: 1}, {Node: 1, Milli: 600, Mask: 1}, {Node: 2, Milli: 300, Mask: 1}})
	a := fgdNew(t, map[string]any{"workload": "1x400=1"})
	d := fleet.Demand{GPUs: 1, Milli: 300}
	s, ok := a.Place(f, d, nil)
	if !ok || len(s) != 1 || s[0].Node != 2 || s[0].Mask != 1 || s[0].Milli != 300 {
		t.Errorf("fgd placed 1×300 at %+v, want node 2 (C)", s)
	}

	// Whole GPUs under a workload of 8-GPU jobs: a 1-GPU job goes to the
	// partly used node, whose 7 free GPUs are all fragments to an 8-GPU job
	// (7000 → 6000: Δ = −1000), not into the free node, whose 8 free GPUs
	// it would turn into 7 fragments (0 → 7000: Δ = +7000).
	f = fgdFleet(t, fleet.Group{Nodes: 2, GPUsPerNode: 8, Type: "H100"})
	f.Allocate([]fleet.Share{{Node: 1, Milli: 1000, Mask: 1}})
	a = fgdNew(t, map[string]any{"workload": "8x1000=1"})
	s, ok = a.Place(f, fleet.Demand{GPUs: 1, Milli: 1000}, nil)
	if !ok || s[0].Node != 1 || s[0].Mask != 1<<1 {
		t.Errorf("fgd placed 1×1000 at %+v, want node 1 GPU 1", s)
	}
}

// TestFGDGang: a job larger than any node takes entirely free nodes.
func TestFGDGang(t *testing.T) {
	f := fgdFleet(t, fleet.Group{Nodes: 4, GPUsPerNode: 4, Type: "H100"})
	f.Allocate([]fleet.Share{{Node: 0, Milli: 500, Mask: 1}})
	a := fgdNew(t, nil)
	s, ok := a.Place(f, fleet.Demand{GPUs: 8, Milli: 1000}, nil)
	if !ok || len(s) != 2 || s[0].Node != 1 || s[1].Node != 2 {
		t.Errorf("gang: %+v, want nodes 1 and 2", s)
	}
	if _, ok := a.Place(f, fleet.Demand{GPUs: 16, Milli: 1000}, nil); ok {
		t.Error("a 16-GPU gang fit on 12 free GPUs")
	}
	// A type the fleet lacks.
	if _, ok := a.Place(f, fleet.Demand{GPUs: 1, Milli: 1000, Types: fleet.Only(fgdType(t, "B200"))}, nil); ok {
		t.Error("placed on a type the fleet lacks")
	}
}

func fgdType(t testing.TB, name string) fleet.TypeID {
	k, ok := fleet.LookupType(name)
	if !ok {
		t.Fatalf("no type %s", name)
	}
	return k
}

// fgdCounting is a fleet view that records the nodes whose GPUs are read.
type fgdCounting struct {
	fleet.View
	nodes map[fleet.NodeID]bool
}

func (c *fgdCounting) NodeFreeMilli(n fleet.NodeID) []uint16 {
	c.nodes[n] = true
	return c.View.NodeFreeMilli(n)
}

func (c *fgdCounting) NodeGPUs(n fleet.NodeID) int {
	c.nodes[n] = true
	return c.View.NodeGPUs(n)
}

// TestFGDBounded: on a 10,000-node fleet in a mixed, churning state, FGD
// never reads more than K nodes' GPUs for one job, and its placements stay
// valid.
func TestFGDBounded(t *testing.T) {
	f := fgdFleet(t, fleet.Group{Nodes: 8000, GPUsPerNode: 8, Type: "H100"}, fleet.Group{Nodes: 2000, GPUsPerNode: 4, Type: "B200"})
	const k = 32
	a := fgdNew(t, map[string]any{"candidates": k})
	cv := &fgdCounting{View: f, nodes: map[fleet.NodeID]bool{}}
	r := rand.New(rand.NewPCG(3, 4))
	shares := []uint16{100, 250, 500, 700, 1000}
	var live [][]fleet.Share
	maxSeen := 0
	for i := range 20000 {
		d := fleet.Demand{GPUs: 1, Milli: shares[r.IntN(len(shares))]}
		if r.IntN(4) == 0 {
			d = fleet.Demand{GPUs: int32(1 << r.IntN(4)), Milli: 1000}
		}
		clear(cv.nodes)
		a.counts = map[frag.Task]int64{taskOf(d): 1} // a learned mix of one shape: cheap
		a.seen, a.built = 1, 0
		s, ok := a.Place(cv, d, nil)
		maxSeen = max(maxSeen, len(cv.nodes))
		if len(cv.nodes) > k {
			t.Fatalf("job %d: read %d nodes' GPUs, K = %d", i, len(cv.nodes), k)
		}
		if ok {
			if err := f.Validate(d, s); err != nil {
				t.Fatalf("job %d: invalid placement %+v: %v", i, s, err)
			}
			f.Allocate(s)
			live = append(live, s)
		}
		if len(live) > 0 && (!ok || r.IntN(3) == 0) {
			j := r.IntN(len(live))
			f.Release(live[j])
			live[j] = live[len(live)-1]
			live = live[:len(live)-1]
		}
	}
	if err := f.Check(); err != nil {
		t.Fatal(err)
	}
	t.Logf("at most %d nodes read per job of 10,000", maxSeen)
}

// TestFGDLearns: run through the engine, FGD counts each job once, when it
// reaches the head of the queue, and its target workload is the popular
// shapes.
func TestFGDLearns(t *testing.T) {
	dist := DistOf(t)
	ws := []workloads.Poisson{
		{Name: "a", Segment: "internal", RatePerHour: 20, MaxJobs: 300, GPUs: dist("const:1"), GPUMilli: 500, Duration: dist("exp:3600")},
		{Name: "b", Segment: "internal", RatePerHour: 5, MaxJobs: 100, GPUs: dist("choice:1=1,8=1"), Duration: dist("exp:3600")},
		{Name: "c", Segment: "internal", RatePerHour: 1, MaxJobs: 4, GPUs: dist("const:2"), Duration: dist("exp:3600")},
	}
	var srcs []sim.Source
	for i := range ws {
		s, err := ws[i].Source(5, 0)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, s)
	}
	f := fgdFleet(t, fleet.Group{Nodes: 4, GPUsPerNode: 8, Type: "H100"})
	a := fgdNew(t, nil)
	if err := sim.New(sim.Config{CheckInvariants: true}, f, a, nil, srcs).Run(); err != nil {
		t.Fatal(err)
	}
	if a.seen != 404 {
		t.Errorf("counted %d jobs, want 404", a.seen)
	}
	if n := a.counts[frag.Task{GPUs: 1, Milli: 500}]; n != 300 {
		t.Errorf("counted %d 1×500 jobs, want 300", n)
	}
	w := a.target(fleet.Demand{GPUs: 1, Milli: 1000})
	// 300 + ~50 + ~50 of 404 reach 95%; the 4 two-GPU jobs do not.
	if w.Len() != 3 || w.Shapes[0] != (frag.Task{GPUs: 1, Milli: 500}) {
		t.Errorf("target workload %+v", w.Shapes)
	}
}

func TestFGDParams(t *testing.T) {
	a := fgdNew(t, map[string]any{"workload": "1x500=3, 8x1000@H100=1,1x500=1"})
	if a.fixed == nil || a.fixed.Len() != 2 {
		t.Fatalf("workload: %+v", a.fixed)
	}
	if a.fixed.Shapes[0] != (frag.Task{GPUs: 1, Milli: 500}) || math.Abs(a.fixed.P[0]-0.8) > 1e-12 ||
		a.fixed.Shapes[1].Models != frag.ModelSet(fleet.Only(fgdType(t, "H100"))) {
		t.Errorf("workload: %+v", a.fixed)
	}
	for _, c := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"candidates": -1}, "candidates must be ≥ 1"},
		{map[string]any{"coverage": 1.5}, "coverage must be in (0, 1]"},
		{map[string]any{"workload": "1x500"}, "no =WEIGHT"},
		{map[string]any{"workload": "2x500=1"}, "below 1000 only for 1 GPU"},
		{map[string]any{"workload": "1x500@Z80=1"}, "unknown GPU type"},
		{map[string]any{"workload": "1x500=0"}, "weight must be a number > 0"},
		{map[string]any{"nope": 1}, "nope"},
	} {
		_, err := Allocators.NewWith("fgd", c.params)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewWith(%v) = %v, want an error containing %q", c.params, err, c.want)
		}
	}
}
