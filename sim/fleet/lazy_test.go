package fleet

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLazyReleaseMatchesEager runs one random sequence of placements,
// releases and node failures on two fleets: one releases a failed gang at
// once (Release), the other holds it back (ReleaseLater). After a failure
// the gang is usually placed again at once, as the engine's scheduling
// pass does. Every placement, answer and version must be the same, and so
// must every node's state whenever it is compared.
func TestLazyReleaseMatchesEager(t *testing.T) {
	for _, tc := range []struct {
		name    string
		groups  []Group
		buckets bool // build the bucket indexes (the lazy fleet then releases at once)
	}{
		{"one size per type", []Group{{Nodes: 70, GPUsPerNode: 8, Type: "H100"}, {Nodes: 90, GPUsPerNode: 4, Type: "B200"}}, false},
		{"two sizes", []Group{{Nodes: 70, GPUsPerNode: 8, Type: "H100"}, {Nodes: 90, GPUsPerNode: 4, Type: "B200"}, {Nodes: 20, GPUsPerNode: 2, Type: "H100"}}, false},
		{"bucket indexes built", []Group{{Nodes: 70, GPUsPerNode: 8, Type: "H100"}, {Nodes: 90, GPUsPerNode: 4, Type: "B200"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) { lazyMatchesEager(t, tc.groups, tc.buckets) })
	}
}

func lazyMatchesEager(t *testing.T, groups []Group, buckets bool) {
	eager, err := New(groups)
	if err != nil {
		t.Fatal(err)
	}
	lazy, _ := New(groups)
	if buckets {
		eager.Classes(0)
		lazy.Classes(0)
	}
	type placed struct {
		d      Demand
		shares []Share
	}
	r := rand.New(rand.NewPCG(5, 6))
	var live []placed
	var down []NodeID
	demands := []int32{1, 2, 8, 8, 24, 64, 96, 128, 200}
	held := 0 // failures after which the lazy fleet still held a release at the next placement
	place := func(step int, d Demand) {
		a, ta, oka := eager.FirstFit(d, nil)
		b, tb, okb := lazy.FirstFit(d, nil)
		if oka != okb || ta != tb || !slices.Equal(a, b) {
			t.Fatalf("step %d: FirstFit(%+v): eager %v %d %v, lazy %v %d %v", step, d, oka, ta, a, okb, tb, b)
		}
		if !oka {
			return
		}
		if err := eager.Validate(d, a); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if err := lazy.Validate(d, b); err != nil {
			t.Fatalf("step %d: lazy: %v", step, err)
		}
		if len(lazy.pend.shares) > 0 {
			held++
		}
		eager.Allocate(a)
		lazy.Allocate(b)
		live = append(live, placed{d, a})
	}
	compare := func(step int) {
		t.Helper()
		if eager.Version() != lazy.Version() || eager.TakenVersion() != lazy.TakenVersion() {
			t.Fatalf("step %d: versions %d/%d, lazy %d/%d", step, eager.Version(), eager.TakenVersion(), lazy.Version(), lazy.TakenVersion())
		}
	}
	compareAll := func(step int) {
		t.Helper()
		if err := lazy.Check(); err != nil {
			t.Fatalf("step %d: lazy: %v", step, err)
		}
		for n := range NodeID(eager.Nodes()) {
			for j := range eager.NodeGPUs(n) {
				if eager.NodeFreeMilli(n)[j] != lazy.NodeFreeMilli(n)[j] {
					t.Fatalf("step %d: node %d GPU %d: %d free, lazy %d", step, n, j, eager.NodeFreeMilli(n)[j], lazy.NodeFreeMilli(n)[j])
				}
			}
			if eager.NodeTakenVersion(n) != lazy.NodeTakenVersion(n) || eager.Down(n) != lazy.Down(n) {
				t.Fatalf("step %d: node %d: taken %d down %v, lazy %d %v", step, n, eager.NodeTakenVersion(n), eager.Down(n), lazy.NodeTakenVersion(n), lazy.Down(n))
			}
		}
		for _, ty := range eager.Types() {
			if eager.WhollyFreeGPUs(ty) != lazy.WhollyFreeGPUs(ty) || eager.GPUsOnFreeNodes(ty) != lazy.GPUsOnFreeNodes(ty) {
				t.Fatalf("step %d: type %d: free counters differ", step, ty)
			}
		}
		compare(step)
	}
	for step := range 6000 {
		switch c := r.IntN(10); {
		case c < 4 || len(live) == 0:
			d := Demand{GPUs: demands[r.IntN(len(demands))], Milli: FullGPU}
			if r.IntN(5) == 0 {
				d = Demand{GPUs: 1, Milli: uint16(100 + r.IntN(900))}
			}
			if r.IntN(4) == 0 {
				d.Types = Only(3) // B200
			}
			place(step, d)
		case c < 6:
			k := r.IntN(len(live))
			eager.Release(live[k].shares)
			lazy.Release(live[k].shares)
			live = append(live[:k], live[k+1:]...)
		case c < 9: // a node of a running job fails
			k := r.IntN(len(live))
			p := live[k]
			live = append(live[:k], live[k+1:]...)
			eager.Release(p.shares)
			lazy.ReleaseLater(p.shares)
			compare(step)
			if x := p.shares[r.IntN(len(p.shares))].Node; r.IntN(3) > 0 && !eager.Down(x) {
				// Another job on x would have been stopped first: only
				// a node left entirely free goes down here.
				if eager.NodeWhollyFreeGPUs(x) == eager.NodeGPUs(x) && (len(lazy.pend.shares) > 0 || lazy.NodeWhollyFreeGPUs(x) == lazy.NodeGPUs(x)) {
					eager.SetDown(x)
					lazy.SetDown(x)
					down = append(down, x)
				}
			}
			compare(step)
			switch r.IntN(4) {
			case 0: // something else reads the fleet first
				ty := eager.Types()[r.IntN(len(eager.Types()))]
				if eager.GPUsOnFreeNodes(ty) != lazy.GPUsOnFreeNodes(ty) {
					t.Fatalf("step %d: GPUsOnFreeNodes differ", step)
				}
			default: // placed again at once, as the scheduling pass does
				place(step, p.d)
			}
		default:
			if len(down) > 0 {
				k := r.IntN(len(down))
				eager.SetUp(down[k])
				lazy.SetUp(down[k])
				down = append(down[:k], down[k+1:]...)
			}
		}
		compare(step)
		if step%50 == 0 {
			compareAll(step)
		}
	}
	compareAll(6000)
	t.Logf("%d placements found a release held back", held)
	if !buckets && held < 100 {
		t.Fatalf("only %d placements found a release held back: the lazy path was not exercised", held)
	}
	if buckets && held > 0 {
		t.Fatalf("%d placements found a release held back with the bucket indexes built", held)
	}
}
