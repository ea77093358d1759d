package fleet

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestMaxTreeMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1, 2, 3, 7, 15, 16, 17, 64, 100, 256, 257, 1000, 5000, 70000} {
		m := newMaxTree(n)
		vals := make([]int32, n)
		for step := 0; step < 2000; step++ {
			i := r.IntN(n)
			vals[i] = int32(r.IntN(9))
			if n > 1000 && r.IntN(2) == 0 {
				vals[i] = 0 // sparse: long searches across groups
			}
			m.set(i, vals[i])
			if err := m.check(); err != nil {
				t.Fatalf("n=%d step %d: %v", n, step, err)
			}
			checkFirstAtLeast(t, r, &m, vals)
		}
	}
}

func TestParseSpec(t *testing.T) {
	g, err := ParseSpec("1000x8xH100,250x8xB200")
	if err != nil || len(g) != 2 || g[0].Nodes != 1000 || g[1].Type != "B200" {
		t.Fatalf("got %+v, %v", g, err)
	}
	for _, bad := range []string{"8xH100", "axbxH100", "1x8xH100,", ""} {
		if _, err := ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) accepted", bad)
		}
	}
	for _, tc := range []struct {
		g    Group
		want string
	}{
		{Group{Nodes: 1, GPUsPerNode: 8, Type: "V100"}, "unknown GPU type"},
		{Group{Nodes: 0, GPUsPerNode: 8, Type: "H100"}, "nodes must be ≥ 1"},
		{Group{Nodes: 1, GPUsPerNode: 65, Type: "H100"}, "GPUs per node"},
	} {
		if _, err := New([]Group{tc.g}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.g, err, tc.want)
		}
	}
}

// TestRandomAllocations allocates and releases random demands with
// FirstFit and checks every placement and the invariants each step.
// TestRandomAllocations places and releases random jobs by first fit and
// checks every index after each step, on a fleet with a type of two node
// sizes (which keeps the entirely-free-node tree) and on one with one size
// per type (which answers from the wholly-free tree instead), comparing
// FirstFreeNode with a scan on random node ranges.
func TestRandomAllocations(t *testing.T) {
	small := []int32{1, 2, 3, 8, 12, 16}
	gangs := []int32{1, 1, 8, 64, 96, 128, 200} // gangs of up to 25 nodes, placed and released whole
	for _, tc := range []struct {
		name    string
		groups  []Group
		demands []int32
	}{
		{"two sizes", []Group{{Nodes: 5, GPUsPerNode: 8, Type: "H100"}, {Nodes: 3, GPUsPerNode: 4, Type: "B200"}, {Nodes: 4, GPUsPerNode: 2, Type: "H100"}}, small},
		{"one size per type", []Group{{Nodes: 5, GPUsPerNode: 8, Type: "H100"}, {Nodes: 3, GPUsPerNode: 4, Type: "B200"}, {Nodes: 2, GPUsPerNode: 8, Type: "H100"}}, small},
		{"gangs, two sizes", []Group{{Nodes: 70, GPUsPerNode: 8, Type: "H100"}, {Nodes: 90, GPUsPerNode: 4, Type: "B200"}, {Nodes: 20, GPUsPerNode: 2, Type: "H100"}}, gangs},
		{"gangs, one size per type", []Group{{Nodes: 70, GPUsPerNode: 8, Type: "H100"}, {Nodes: 90, GPUsPerNode: 4, Type: "B200"}}, gangs},
	} {
		t.Run(tc.name, func(t *testing.T) { randomAllocations(t, tc.groups, tc.demands) })
	}
}

func randomAllocations(t *testing.T, groups []Group, demands []int32) {
	f, err := New(groups)
	if err != nil {
		t.Fatal(err)
	}
	if (f.fullIdx.lv == nil) != (f.size != [MaxTypes]int32{}) {
		t.Fatalf("the entirely-free tree is kept (%v) with one size per type (%v)", f.fullIdx.lv != nil, f.size)
	}
	r := rand.New(rand.NewPCG(3, 4))
	var live [][]Share
	var used int64
	for step := 0; step < 5000; step++ {
		if len(live) > 0 && r.IntN(3) == 0 {
			k := r.IntN(len(live))
			for _, s := range live[k] {
				used -= int64(s.GPUs()) * int64(s.Milli)
			}
			f.Release(live[k])
			live = append(live[:k], live[k+1:]...)
		} else {
			d := Demand{GPUs: demands[r.IntN(len(demands))], Milli: FullGPU}
			if r.IntN(4) == 0 {
				d = Demand{GPUs: 1, Milli: uint16(100 + r.IntN(900))}
			}
			if r.IntN(5) == 0 {
				d.Types = Only(3) // B200
			}
			shares, _, ok := f.FirstFit(d, nil)
			if ok && len(shares) == 1 && d.Milli == FullGPU {
				if want := firstNodeScan(f, d); shares[0].Node != want {
					t.Fatalf("step %d: FirstFit placed %+v on node %d; the first node with %d wholly free GPUs is %d", step, d, shares[0].Node, d.GPUs, want)
				}
			}
			if ok {
				if err := f.Validate(d, shares); err != nil {
					t.Fatalf("step %d: FirstFit proposed an invalid placement for %+v: %v", step, d, err)
				}
				f.Allocate(shares)
				used += int64(d.GPUs) * int64(d.Milli)
				live = append(live, shares)
			}
		}
		if err := f.Check(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if f.UsedMilli() != used {
			t.Fatalf("step %d: fleet has %d milli used, allocations hold %d", step, f.UsedMilli(), used)
		}
		lo, hi := NodeID(r.IntN(f.Nodes()+1)), NodeID(r.IntN(f.Nodes()+1))
		want := NodeID(-1)
		for n := lo; n < hi; n++ {
			if f.NodeWhollyFreeGPUs(n) == f.NodeGPUs(n) {
				want = n
				break
			}
		}
		if got := f.FirstFreeNode(lo, hi); got != want {
			t.Fatalf("step %d: FirstFreeNode(%d, %d) = %d, want %d", step, lo, hi, got, want)
		}
	}
}

// firstNodeScan is first fit's single-node placement found by a scan: the
// first node, in placement order, of a type d allows with d.GPUs wholly
// free GPUs.
func firstNodeScan(f *Fleet, d Demand) NodeID {
	for _, t := range f.Types() {
		if !d.Types.Has(t) {
			continue
		}
		for n := f.lo[t]; n < f.hi[t]; n++ {
			if f.NodeWhollyFreeGPUs(NodeID(n)) >= int(d.GPUs) {
				return NodeID(n)
			}
		}
	}
	return -1
}

func TestFits(t *testing.T) {
	f, _ := New([]Group{{Nodes: 2, GPUsPerNode: 8, Type: "H100"}})
	for _, tc := range []struct {
		d    Demand
		want string
	}{
		{Demand{GPUs: 17, Milli: FullGPU}, "needs 17 GPUs of one type; the largest type in the fleet has 16"},
		{Demand{GPUs: 1, Milli: FullGPU, Types: Only(3)}, "needs GPU type B200; the fleet has none"},
		{Demand{GPUs: 2, Milli: 500}, "a GPU share (gpu_milli 500) is only supported for single-GPU jobs; this job asks for 2 GPUs"},
		{Demand{GPUs: 16, Milli: FullGPU}, ""},
	} {
		ok, reason := f.Fits(tc.d)
		if ok != (tc.want == "") || reason != tc.want {
			t.Errorf("Fits(%+v) = %v %q, want %q", tc.d, ok, reason, tc.want)
		}
	}
	// Two types: a demand of either is measured against the larger of them,
	// whichever comes first in placement order (A100 does, with fewer).
	f2, _ := New([]Group{{Nodes: 4, GPUsPerNode: 8, Type: "H100"}, {Nodes: 2, GPUsPerNode: 8, Type: "A100"}})
	both, a100 := typeSet(t, "H100|A100"), typeSet(t, "A100")
	for _, tc := range []struct {
		d    Demand
		want string
	}{
		{Demand{GPUs: 30, Milli: FullGPU, Types: both}, ""},
		{Demand{GPUs: 30, Milli: FullGPU}, ""},
		{Demand{GPUs: 33, Milli: FullGPU}, "needs 33 GPUs of one type; the largest type in the fleet has 32"},
		{Demand{GPUs: 33, Milli: FullGPU, Types: both}, "needs 33 GPUs of type " + both.String() + "; the fleet has 32"},
		{Demand{GPUs: 30, Milli: FullGPU, Types: a100}, "needs 30 GPUs of type " + a100.String() + "; the fleet has 16"},
	} {
		ok, reason := f2.Fits(tc.d)
		if ok != (tc.want == "") || reason != tc.want {
			t.Errorf("two types: Fits(%+v) = %v %q, want %q", tc.d, ok, reason, tc.want)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	f, _ := New([]Group{{Nodes: 2, GPUsPerNode: 8, Type: "H100"}})
	d := Demand{GPUs: 2, Milli: FullGPU}
	f.Allocate([]Share{{Node: 0, Milli: FullGPU, Mask: 1}})
	for _, tc := range []struct {
		s    []Share
		want string
	}{
		{[]Share{{Node: 0, Milli: FullGPU, Mask: 3}}, "has 0 milli free"},
		{[]Share{{Node: 5, Milli: FullGPU, Mask: 3}}, "does not exist"},
		{[]Share{{Node: 1, Milli: FullGPU, Mask: 1}}, "holds 1 GPUs; the job needs 2"},
		{[]Share{{Node: 1, Milli: FullGPU, Mask: 1 << 9}}, "outside node"},
		{[]Share{{Node: 1, Milli: FullGPU, Mask: 1}, {Node: 1, Milli: FullGPU, Mask: 2}}, "appears twice"},
		// In node order at first (not stamped), then back to a node seen.
		{[]Share{{Node: 0, Milli: FullGPU, Mask: 2}, {Node: 1, Milli: FullGPU, Mask: 1}, {Node: 0, Milli: FullGPU, Mask: 4}}, "appears twice"},
	} {
		if err := f.Validate(d, tc.s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.s, err, tc.want)
		}
	}
}

// TestValidateFirstFitReceipt: Validate takes FirstFit's placement as
// valid without a check only while it is that placement, unchanged, for a
// like demand, on the fleet as it was: an allocator that edits the shares,
// a demand of another size or type, or a change of the fleet in between
// gets the full check (and its errors).
func TestValidateFirstFitReceipt(t *testing.T) {
	f, _ := New([]Group{{Nodes: 2, GPUsPerNode: 8, Type: "H100"}, {Nodes: 2, GPUsPerNode: 8, Type: "A100"}})
	var taken NodeID // the first H100 node; its GPU 0 is taken
	for typeName(f.NodeType(taken)) != "H100-SXM" {
		taken++
	}
	f.Allocate([]Share{{Node: taken, Milli: FullGPU, Mask: 1}})
	h100, a100 := typeSet(t, "H100"), typeSet(t, "A100")
	d := Demand{GPUs: 2, Milli: FullGPU, Types: h100}
	fit := func() []Share {
		s, _, ok := f.FirstFit(d, nil)
		if !ok {
			t.Fatal("no placement")
		}
		return s
	}
	if err := f.Validate(d, fit()); err != nil {
		t.Fatalf("FirstFit's own placement: %v", err)
	}
	// Edited in place after FirstFit: onto the taken GPU.
	s := fit()
	s[0] = Share{Node: taken, Milli: FullGPU, Mask: 3}
	if err := f.Validate(d, s); err == nil || !strings.Contains(err.Error(), "has 0 milli free") {
		t.Errorf("edited shares: %v, want the full check's error", err)
	}
	// A demand of another size for the same shares.
	s = fit()
	if err := f.Validate(Demand{GPUs: 3, Milli: FullGPU}, s); err == nil || !strings.Contains(err.Error(), "the job needs 3") {
		t.Errorf("another demand: %v, want the full check's error", err)
	}
	// A demand that does not allow the placement's type.
	if err := f.Validate(Demand{GPUs: 2, Milli: FullGPU, Types: a100}, s); err == nil || !strings.Contains(err.Error(), "the job needs") {
		t.Errorf("another type: %v, want the full check's error", err)
	}
	// The fleet changed since: the same GPUs taken by another allocation.
	s = fit()
	f.Allocate(append([]Share(nil), s...))
	if err := f.Validate(d, s); err == nil || !strings.Contains(err.Error(), "milli free") {
		t.Errorf("after the fleet changed: %v, want the full check's error", err)
	}
}

// TestMaxTreeFixRange writes random values to random ranges of a tree's
// leaves (some leaves of each range left as they were) and checks the tree
// and its searches after fixRange.
func TestMaxTreeFixRange(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, n := range []int{1, 17, 300, 5000, 70000} {
		m := newMaxTree(n)
		vals := make([]int32, n)
		for range 300 {
			lo := r.IntN(n)
			hi := min(n, lo+1+r.IntN(200))
			if r.IntN(10) == 0 {
				hi = min(n, lo+1+r.IntN(20000))
			}
			v := int32(r.IntN(9))
			for i := lo; i < hi; i++ {
				if r.IntN(3) > 0 {
					vals[i], m.lv[0][i] = v, v
				}
			}
			m.fixRange(lo, hi)
			if err := m.check(); err != nil {
				t.Fatalf("n=%d: %v", n, err)
			}
			for range 20 {
				checkFirstAtLeast(t, r, &m, vals)
			}
		}
	}
}

// checkFirstAtLeast compares one random search of m with a scan of vals.
func checkFirstAtLeast(t *testing.T, r *rand.Rand, m *maxTree, vals []int32) {
	t.Helper()
	n := len(vals)
	lo, hi := r.IntN(n+1), r.IntN(n+1)
	k := int32(r.IntN(10))
	want := -1
	for j := lo; j < hi; j++ {
		if vals[j] >= k {
			want = j
			break
		}
	}
	if got := m.firstAtLeast(lo, hi, k); got != want {
		t.Fatalf("n=%d: firstAtLeast(%d,%d,%d) = %d, want %d", n, lo, hi, k, got, want)
	}
}

// TestMilliTreeBuiltOnFirstShare: the tree of free shares is kept from the
// first search for a share of a GPU on, after whole-GPU work changed the
// fleet with only its leaves written; every share placement is then the
// first node with a GPU that has the share free.
func TestMilliTreeBuiltOnFirstShare(t *testing.T) {
	f, err := New([]Group{{Nodes: 300, GPUsPerNode: 8, Type: "H100"}, {Nodes: 40, GPUsPerNode: 4, Type: "H100"}})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	var live [][]Share
	for step := 0; step < 3000; step++ {
		if len(live) > 0 && r.IntN(3) == 0 {
			k := r.IntN(len(live))
			f.Release(live[k])
			live = append(live[:k], live[k+1:]...)
		} else {
			d := Demand{GPUs: []int32{1, 2, 8, 16, 40}[r.IntN(5)], Milli: FullGPU}
			if step >= 1500 && r.IntN(2) == 0 {
				d = Demand{GPUs: 1, Milli: uint16(100 + r.IntN(900))}
			}
			if step < 1500 && f.milliLive {
				t.Fatalf("step %d: the share tree is kept before any search for a share", step)
			}
			shares, _, ok := f.FirstFit(d, nil)
			if ok && d.Milli < FullGPU {
				want := NodeID(-1)
				for n := 0; n < f.Nodes() && want < 0; n++ {
					for j := range f.NodeGPUs(NodeID(n)) {
						if f.NodeFreeMilli(NodeID(n))[j] >= d.Milli {
							want = NodeID(n)
							break
						}
					}
				}
				if shares[0].Node != want {
					t.Fatalf("step %d: a share of %d milli went to node %d; the first with room is %d", step, d.Milli, shares[0].Node, want)
				}
			}
			if ok {
				f.Allocate(shares)
				live = append(live, shares)
			}
		}
		if err := f.Check(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	if !f.milliLive {
		t.Fatal("the share tree was never built")
	}
}

// typeSet parses a set of GPU type names (ParseTypeSet) or fails the test.
func typeSet(t *testing.T, names string) TypeSet {
	t.Helper()
	s, err := ParseTypeSet(names)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
