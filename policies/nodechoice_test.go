package policies

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"neosim/sim"
	"neosim/sim/fleet"
	"neosim/workloads"
)

// The node-choice rules are tested on crafted fleets by calling place
// directly (no engine), then through thousands of random allocate/release
// steps against brute-force recomputations of what each rule should pick.

var nodeChoosers = []string{"firstfit", "bestfit", "packing", "random", "topology"}

func ncFleet(t *testing.T, gs ...fleet.Group) *fleet.Fleet {
	t.Helper()
	f, err := fleet.New(gs)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// ncUse allocates the first used GPUs of each node: used[n] whole GPUs.
func ncUse(f *fleet.Fleet, used ...int) {
	for n, u := range used {
		if u > 0 {
			f.Allocate([]fleet.Share{{Node: fleet.NodeID(n), Milli: fleet.FullGPU, Mask: lowMask(u)}})
		}
	}
}

func ncPlacer(t *testing.T, name string) placer {
	t.Helper()
	a, err := Allocators.New(name)
	if err != nil {
		t.Fatal(err)
	}
	return a.(placer)
}

// ncPlace places d with the named rule, checks the placement with Validate
// and returns its nodes (nil if it did not fit).
func ncPlace(t *testing.T, f *fleet.Fleet, pl placer, d fleet.Demand) []fleet.Share {
	t.Helper()
	shares, ok := pl.place(f, d, nil)
	if !ok {
		if len(shares) != 0 {
			t.Fatalf("%+v: no fit but %d shares returned", d, len(shares))
		}
		return nil
	}
	if err := f.Validate(d, shares); err != nil {
		t.Fatalf("%+v: invalid placement %+v: %v", d, shares, err)
	}
	return shares
}

func ncNodes(shares []fleet.Share) []fleet.NodeID {
	var ns []fleet.NodeID
	for _, s := range shares {
		ns = append(ns, s.Node)
	}
	return ns
}

func whole(g int32) fleet.Demand { return fleet.Demand{GPUs: g, Milli: fleet.FullGPU} }

func TestNodeChoiceCrafted(t *testing.T) {
	h100x8 := fleet.Group{Nodes: 4, GPUsPerNode: 8, Type: "H100"}
	for _, tc := range []struct {
		name   string
		groups []fleet.Group
		used   []int
		d      fleet.Demand
		want   map[string][]fleet.NodeID // policy → nodes
	}{
		{
			// Node k: 6, 3, 1 and 8 wholly free.
			name: "one GPU", groups: []fleet.Group{h100x8}, used: []int{2, 5, 7, 0}, d: whole(1),
			want: map[string][]fleet.NodeID{"firstfit": {0}, "bestfit": {2}, "packing": {2}, "topology": {2}},
		},
		{
			name: "two GPUs", groups: []fleet.Group{h100x8}, used: []int{2, 5, 7, 0}, d: whole(2),
			want: map[string][]fleet.NodeID{"firstfit": {0}, "bestfit": {1}, "packing": {1}, "topology": {1}},
		},
		{
			// Only node 0 (6 free, partly used) and node 3 (entirely free)
			// fit 4: all but firstfit keep node 3 whole.
			name: "four GPUs", groups: []fleet.Group{h100x8}, used: []int{2, 5, 7, 0}, d: whole(4),
			want: map[string][]fleet.NodeID{"firstfit": {0}, "bestfit": {0}, "packing": {0}, "topology": {0}},
		},
		{
			name: "a whole node", groups: []fleet.Group{h100x8}, used: []int{2, 5, 7, 0}, d: whole(8),
			want: map[string][]fleet.NodeID{"firstfit": {3}, "bestfit": {3}, "packing": {3}, "topology": {3}},
		},
		{
			// A 16-GPU node with 12 used (4 free) and a 4-GPU node with 1
			// used (3 free): bestfit leaves 1 GPU on the small node,
			// packing fills the big node to 14/16 > 3/4.
			name:   "bestfit vs packing across node sizes",
			groups: []fleet.Group{{Nodes: 1, GPUsPerNode: 16, Type: "H100"}, {Nodes: 1, GPUsPerNode: 4, Type: "H100"}},
			used:   []int{12, 1}, d: whole(2),
			want: map[string][]fleet.NodeID{"firstfit": {0}, "bestfit": {1}, "packing": {0}, "topology": {1}},
		},
		{
			// An 8-GPU node with 4 free and an entirely free 4-GPU node:
			// a 4-GPU job leaves 0 on either; the partly used node wins.
			name:   "tie: partly used before entirely free",
			groups: []fleet.Group{{Nodes: 1, GPUsPerNode: 4, Type: "H100"}, {Nodes: 1, GPUsPerNode: 8, Type: "H100"}},
			used:   []int{0, 4}, d: whole(4),
			want: map[string][]fleet.NodeID{"firstfit": {0}, "bestfit": {1}, "packing": {1}, "topology": {1}},
		},
		{
			// Racks of 4 nodes: rack 0 has node 3 free, rack 1 nodes 5-7.
			// First fit spreads a 16-GPU gang over both racks; topology
			// keeps it in rack 1.
			name:   "gang in one rack",
			groups: []fleet.Group{{Nodes: 8, GPUsPerNode: 8, Type: "H100", NodesPerRack: 4}},
			used:   []int{8, 8, 8, 0, 8, 0, 0, 0}, d: whole(16),
			want: map[string][]fleet.NodeID{"firstfit": {3, 5}, "bestfit": {3, 5}, "packing": {3, 5}, "topology": {5, 6}},
		},
		{
			// Rack 0 has 24 free GPUs, rack 1 16: the tightest rack that
			// holds 16 is rack 1, though rack 0 comes first.
			name:   "gang in the tightest rack",
			groups: []fleet.Group{{Nodes: 8, GPUsPerNode: 8, Type: "H100", NodesPerRack: 4}},
			used:   []int{1, 0, 0, 0, 8, 8, 0, 0}, d: whole(16),
			want: map[string][]fleet.NodeID{"firstfit": {1, 2}, "topology": {6, 7}},
		},
		{
			// Racks hold 8, 16, 24 and 8 free GPUs. A 40-GPU gang fits in
			// no rack: topology takes rack 2 (24) and then the tightest
			// rack for the remaining 16 (rack 1): two racks; first fit
			// takes three.
			name:   "gang over the fewest racks",
			groups: []fleet.Group{{Nodes: 16, GPUsPerNode: 8, Type: "H100", NodesPerRack: 4}},
			used:   []int{8, 8, 8, 0, 8, 0, 8, 0, 0, 0, 8, 0, 8, 8, 8, 0}, d: whole(40),
			want: map[string][]fleet.NodeID{"firstfit": {3, 5, 7, 8, 9}, "topology": {5, 7, 8, 9, 11}},
		},
		{
			// Racks hold 0, 16, 24 and 8 free GPUs; 48 GPUs take rack 2
			// (24), rack 1 (16), then rack 3 for the last 8.
			name:   "gang over three racks",
			groups: []fleet.Group{{Nodes: 16, GPUsPerNode: 8, Type: "H100", NodesPerRack: 4}},
			used:   []int{8, 8, 8, 8, 8, 0, 8, 0, 0, 0, 8, 0, 8, 8, 8, 0}, d: whole(48),
			want: map[string][]fleet.NodeID{"topology": {5, 7, 8, 9, 11, 15}},
		},
		{
			// Every partly used node is full, so an 8-GPU job must open an
			// entirely free node: topology opens it in the rack with the
			// fewest free GPUs (rack 2, one free node), sparing rack 0.
			name:   "single node spares free racks",
			groups: []fleet.Group{{Nodes: 12, GPUsPerNode: 8, Type: "H100", NodesPerRack: 4}},
			used:   []int{8, 0, 0, 0, 8, 8, 0, 0, 8, 8, 8, 0}, d: whole(8),
			want: map[string][]fleet.NodeID{"firstfit": {1}, "topology": {11}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for name, want := range tc.want {
				f := ncFleet(t, tc.groups...)
				ncUse(f, tc.used...)
				got := ncNodes(ncPlace(t, f, ncPlacer(t, name), tc.d))
				if !slices.Equal(got, want) {
					t.Errorf("%s placed %d GPUs on nodes %v, want %v", name, tc.d.GPUs, got, want)
				}
			}
		})
	}
}

// TestSharesTightest: a GPU share goes onto the shared GPU with the least
// free share that fits; with none, a whole GPU on the tightest node.
func TestSharesTightest(t *testing.T) {
	for _, name := range []string{"bestfit", "packing", "topology"} {
		f := ncFleet(t, fleet.Group{Nodes: 3, GPUsPerNode: 8, Type: "H100"})
		f.Allocate([]fleet.Share{{Node: 0, Milli: 700, Mask: 1 << 0}}) // 300 free
		f.Allocate([]fleet.Share{{Node: 1, Milli: 400, Mask: 1 << 2}}) // 600 free
		ncUse(f, 0, 0, 5)                                              // node 2: 3 wholly free
		pl := ncPlacer(t, name)
		for _, tc := range []struct {
			milli uint16
			node  fleet.NodeID
			mask  uint64
		}{{250, 0, 1 << 0}, {300, 0, 1 << 0}, {500, 1, 1 << 2}, {700, 2, 1 << 5}} {
			s := ncPlace(t, f, pl, fleet.Demand{GPUs: 1, Milli: tc.milli})
			if len(s) != 1 || s[0].Node != tc.node || s[0].Mask != tc.mask {
				t.Errorf("%s: %d milli placed %+v, want node %d mask %#x", name, tc.milli, s, tc.node, tc.mask)
			}
		}
	}
}

// TestRandomDeterministic: random picks only nodes that fit, the same ones
// for one seed, different ones for another, and every fitting node in time.
func TestRandomDeterministic(t *testing.T) {
	// 40 nodes; the even ones are full, the odd ones have 1..8 free.
	used := make([]int, 40)
	for n := range used {
		used[n] = 8
		if n%2 == 1 {
			used[n] = n % 8
		}
	}
	draws := func(seed uint64) []fleet.NodeID {
		f := ncFleet(t, fleet.Group{Nodes: 40, GPUsPerNode: 8, Type: "H100"})
		ncUse(f, used...)
		a, err := Allocators.NewWith("random", map[string]any{"seed": seed})
		if err != nil {
			t.Fatal(err)
		}
		pl := a.(placer)
		var got []fleet.NodeID
		for i := 0; i < 2000; i++ {
			d := whole(int32(1 + i%4))
			s := ncPlace(t, f, pl, d)
			n := s[0].Node
			if free := 8 - used[n]; free < int(d.GPUs) {
				t.Fatalf("seed %d: %d GPUs placed on node %d with %d free", seed, d.GPUs, n, free)
			}
			got = append(got, n)
		}
		return got
	}
	a, b, c := draws(1), draws(1), draws(2)
	if !slices.Equal(a, b) {
		t.Error("seed 1 gave two different sequences")
	}
	if slices.Equal(a, c) {
		t.Error("seeds 1 and 2 gave the same sequence")
	}
	seen := map[fleet.NodeID]bool{}
	for i, n := range a {
		if i%4 == 0 { // one-GPU jobs: every odd node fits
			seen[n] = true
		}
	}
	for n := 1; n < 40; n += 2 {
		if used[n] < 8 && !seen[fleet.NodeID(n)] {
			t.Errorf("node %d (%d free) never drawn for a one-GPU job in 500 draws", n, 8-used[n])
		}
	}
	if _, err := Allocators.NewWith("random", map[string]any{"sed": 3}); err == nil {
		t.Error("random accepted an unknown parameter")
	}
}

// TestFirstFitIsFIFO: firstfit makes exactly fifo's decisions.
func TestFirstFitIsFIFO(t *testing.T) {
	run := func(name string) []string {
		alloc, _ := Allocators.New(name)
		pricer, _ := Pricers.New("flat")
		f := ncFleet(t, fleet.Group{Nodes: 4, GPUsPerNode: 8, Type: "H100"}, fleet.Group{Nodes: 2, GPUsPerNode: 4, Type: "B200"})
		dist := DistOf(t)
		ws := []workloads.Poisson{
			{Name: "in", Segment: "internal", RatePerHour: 10, MaxJobs: 200, GPUs: dist("choice:1=3,4=1,8=1,16=1"), Duration: dist("exp:1800")},
			{Name: "sh", Segment: "spot", RatePerHour: 4, MaxJobs: 50, GPUs: dist("const:1"), GPUMilli: 250, Duration: dist("exp:600")},
		}
		var srcs []sim.Source
		for i := range ws {
			s, err := ws[i].Source(1, 0)
			if err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, s)
		}
		log := &ncLog{}
		if err := sim.New(sim.Config{}, f, alloc, pricer, srcs, log).Run(); err != nil {
			t.Fatal(err)
		}
		return log.starts
	}
	a, b := run("fifo"), run("firstfit")
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Errorf("fifo and firstfit differ: %d and %d starts", len(a), len(b))
	}
}

type ncLog struct{ starts []string }

func (l *ncLog) JobStarted(j *sim.Job) {
	l.starts = append(l.starts, fmt.Sprintf("%s@%d %v", j.ID, j.Start, j.Shares))
}
func (l *ncLog) JobEnded(*sim.Job)   {}
func (l *ncLog) Sampled(*sim.Sample) {}

// ncTruth recomputes by brute force what the rules must pick.
type ncTruth struct {
	f *fleet.Fleet
}

func (b ncTruth) whole(n fleet.NodeID) int {
	w := 0
	for j := 0; j < b.f.NodeGPUs(n); j++ {
		if b.f.NodeFreeMilli(n)[j] == fleet.FullGPU {
			w++
		}
	}
	return w
}

// rackFree returns each rack's GPUs on entirely free nodes of type t (-1
// for racks of other types).
func (b ncTruth) rackFree(t fleet.TypeID) []int {
	free := make([]int, b.f.Racks())
	for r := range free {
		free[r] = -1
	}
	for n := fleet.NodeID(0); n < fleet.NodeID(b.f.Nodes()); n++ {
		if b.f.NodeType(n) != t {
			continue
		}
		r := b.f.Rack(n)
		free[r] = max(free[r], 0)
		if w := b.whole(n); w == b.f.NodeGPUs(n) {
			free[r] += w
		}
	}
	return free
}

// TestNodeChoiceMatchesBruteForce runs thousands of random allocate and
// release steps (with node failures) on a fleet of mixed node and rack
// sizes, places each demand with every rule, and checks each choice
// against a scan of the fleet and the fleet's indexes with Check.
func TestNodeChoiceMatchesBruteForce(t *testing.T) {
	f := ncFleet(t,
		fleet.Group{Nodes: 13, GPUsPerNode: 8, Type: "H100", NodesPerRack: 4},
		fleet.Group{Nodes: 6, GPUsPerNode: 4, Type: "H100", NodesPerRack: 3},
		fleet.Group{Nodes: 3, GPUsPerNode: 16, Type: "H100", NodesPerRack: 2},
		fleet.Group{Nodes: 9, GPUsPerNode: 4, Type: "GB200"},
	)
	h100, _ := fleet.LookupType("H100")
	gb200, _ := fleet.LookupType("GB200")
	b := ncTruth{f}
	r := rand.New(rand.NewPCG(7, 7))
	placers := map[string]placer{}
	for _, name := range nodeChoosers {
		placers[name] = ncPlacer(t, name)
	}
	var live [][]fleet.Share
	var down []fleet.NodeID
	checked := map[string]int{}
	for step := 0; step < 6000; step++ {
		switch x := r.IntN(20); {
		case x < 9 && len(live) > 0:
			k := r.IntN(len(live))
			f.Release(live[k])
			live[k] = live[len(live)-1]
			live = live[:len(live)-1]
		case x == 9 && len(down) > 0:
			f.SetUp(down[0])
			down = down[1:]
		case x == 10:
			n := fleet.NodeID(r.IntN(f.Nodes()))
			if !f.Down(n) && b.whole(n) == f.NodeGPUs(n) && len(down) < 3 {
				f.SetDown(n)
				down = append(down, n)
			}
		default:
			typ := h100
			if r.IntN(4) == 0 {
				typ = gb200
			}
			d := fleet.Demand{GPUs: int32([]int{1, 1, 2, 3, 4, 6, 8, 12, 16, 24, 40}[r.IntN(11)]), Milli: fleet.FullGPU, Types: fleet.Only(typ)}
			if r.IntN(4) == 0 {
				d = fleet.Demand{GPUs: 1, Milli: uint16(50 * (1 + r.IntN(19))), Types: fleet.Only(typ)}
			}
			var keep []fleet.Share
			order := []string{"firstfit", "bestfit", "packing", "random", "topology"}
			first := order[r.IntN(len(order))]
			for _, name := range order {
				s := ncPlace(t, f, placers[name], d)
				_, _, ffOK := f.FirstFit(d, nil)
				if (s != nil) != ffOK {
					t.Fatalf("step %d: %s fits %+v: %v; FirstFit: %v", step, name, d, s != nil, ffOK)
				}
				if s == nil {
					continue
				}
				if err := b.check(name, d, typ, s); err != "" {
					t.Fatalf("step %d: %s placed %+v on %+v: %s", step, name, d, s, err)
				}
				checked[name]++
				if len(s) > 1 {
					checked[name+" gangs"]++
				}
				if name == first {
					keep = slices.Clone(s)
				}
			}
			if keep != nil {
				f.Allocate(keep)
				live = append(live, keep)
			}
		}
		if err := f.Check(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	for _, name := range nodeChoosers {
		if checked[name] < 2000 || checked[name+" gangs"] < 200 {
			t.Errorf("%s: only %d placements (%d gangs) checked", name, checked[name], checked[name+" gangs"])
		}
	}
}

// check returns why placement s of d on type typ breaks the named rule, or "".
func (b ncTruth) check(name string, d fleet.Demand, typ fleet.TypeID, s []fleet.Share) string {
	f := b.f
	need := int(d.GPUs)
	// Best values over the nodes of typ by scan.
	minShared := fleet.FullGPU // tightest shared GPU that fits
	minLeft, maxAlloc := -1, [2]int{0, 1}
	for n := fleet.NodeID(0); n < fleet.NodeID(f.Nodes()); n++ {
		if f.NodeType(n) != typ {
			continue
		}
		for j := 0; j < f.NodeGPUs(n); j++ {
			if v := int(f.NodeFreeMilli(n)[j]); v >= int(d.Milli) && v < fleet.FullGPU {
				minShared = min(minShared, v)
			}
		}
		w, size := b.whole(n), f.NodeGPUs(n)
		if w >= need {
			if minLeft < 0 || w-need < minLeft {
				minLeft = w - need
			}
			if u := size - w + need; u*maxAlloc[1] > maxAlloc[0]*size {
				maxAlloc = [2]int{u, size}
			}
		}
	}
	n := s[0].Node
	if f.NodeType(n) != typ {
		return "wrong type"
	}
	if d.Milli < fleet.FullGPU && name != "firstfit" && name != "random" {
		got := int(f.NodeFreeMilli(n)[bits.TrailingZeros64(s[0].Mask)])
		if minShared < fleet.FullGPU && got != minShared {
			return "not the tightest shared GPU"
		}
		if minShared == fleet.FullGPU && got != fleet.FullGPU {
			return "no shared GPU fits, yet a shared one was taken"
		}
		return ""
	}
	if d.Milli < fleet.FullGPU {
		return ""
	}
	if len(s) == 1 && b.whole(n) >= need && minLeft >= 0 {
		w, size := b.whole(n), f.NodeGPUs(n)
		switch name {
		case "bestfit":
			if w-need != minLeft {
				return "not the tightest node"
			}
		case "packing":
			if u := size - w + need; u*maxAlloc[1] != maxAlloc[0]*size {
				return "not the most allocated node"
			}
		case "topology":
			if w == size && b.partlyFits(typ, need) {
				return "opened an entirely free node while a partly used one fits"
			}
			if w == size && b.rackFree(typ)[f.Rack(n)] != b.sparestRack(typ, need) {
				return "opened a node outside the rack with the fewest free GPUs"
			}
		}
		return ""
	}
	// A gang: entirely free nodes only.
	if minLeft >= 0 {
		return "a gang although one node fits"
	}
	racks := map[fleet.RackID]bool{}
	for _, sh := range s {
		if b.whole(sh.Node) != f.NodeGPUs(sh.Node) {
			return "a gang on a node that is not entirely free"
		}
		racks[f.Rack(sh.Node)] = true
	}
	if name == "topology" {
		free := b.rackFree(typ)
		slices.Sort(free)
		slices.Reverse(free)
		fewest, sum := 0, 0
		for sum < need {
			sum += free[fewest]
			fewest++
		}
		if len(racks) != fewest {
			return "not the fewest racks"
		}
		if fewest == 1 {
			tightest := -1
			for _, c := range free {
				if c >= need {
					tightest = c
				}
			}
			if got := b.rackFree(typ)[f.Rack(n)]; got != tightest {
				return "not the tightest rack"
			}
		}
	}
	return ""
}

// sparestRack returns the fewest GPUs on entirely free nodes of a rack of
// type t that has an entirely free node of at least need GPUs.
func (b ncTruth) sparestRack(t fleet.TypeID, need int) int {
	best := -1
	for r, c := range b.rackFree(t) {
		var size int
		for n := fleet.NodeID(0); n < fleet.NodeID(b.f.Nodes()); n++ {
			if b.f.Rack(n) == fleet.RackID(r) {
				size = b.f.NodeGPUs(n)
				break
			}
		}
		if c > 0 && size >= need && (best < 0 || c < best) {
			best = c
		}
	}
	return best
}

func (b ncTruth) partlyFits(typ fleet.TypeID, need int) bool {
	for n := fleet.NodeID(0); n < fleet.NodeID(b.f.Nodes()); n++ {
		if w := b.whole(n); b.f.NodeType(n) == typ && w >= need && w < b.f.NodeGPUs(n) {
			return true
		}
	}
	return false
}
