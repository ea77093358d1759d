package fleet

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestBitScans(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, words := range []int{1, 2, 3, 16} {
		mask := make([]uint64, words)
		for step := 0; step < 3000; step++ {
			i := r.IntN(words * 64)
			mask[i/64] ^= 1 << (i % 64)
			from := r.IntN(words*64+10) - 5
			next, prev := -1, -1
			for b := max(from, 0); b < words*64; b++ {
				if mask[b/64]>>(b%64)&1 == 1 {
					next = b
					break
				}
			}
			for b := min(from, words*64-1); b >= 0; b-- {
				if mask[b/64]>>(b%64)&1 == 1 {
					prev = b
					break
				}
			}
			if got := nextBit(mask, from); got != next {
				t.Fatalf("nextBit(%x, %d) = %d, want %d", mask, from, got, next)
			}
			if got := prevBit(mask, from); got != prev {
				t.Fatalf("prevBit(%x, %d) = %d, want %d", mask, from, got, prev)
			}
		}
	}
}

// TestBucketQueries allocates and releases at random (node failures too)
// and checks every index query against a scan, and Check after each step.
// The index is built lazily, by the first query, at step 200.
func TestBucketQueries(t *testing.T) {
	f, err := New([]Group{
		{Nodes: 9, GPUsPerNode: 8, Type: "H100", NodesPerRack: 4},
		{Nodes: 5, GPUsPerNode: 2, Type: "H100", NodesPerRack: 2},
		{Nodes: 1, GPUsPerNode: 64, Type: "H100"},
		{Nodes: 20, GPUsPerNode: 4, Type: "GB200"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	var live [][]Share
	for step := 0; step < 4000; step++ {
		switch {
		case len(live) > 0 && r.IntN(2) == 0:
			k := r.IntN(len(live))
			f.Release(live[k])
			live = append(live[:k], live[k+1:]...)
		case r.IntN(20) == 0:
			n := NodeID(r.IntN(f.Nodes()))
			if f.Down(n) {
				f.SetUp(n)
			} else if f.NodeWhollyFreeGPUs(n) == f.NodeGPUs(n) {
				f.SetDown(n)
			}
		default:
			d := Demand{GPUs: int32([]int{1, 2, 4, 8, 12, 64}[r.IntN(6)]), Milli: FullGPU}
			if r.IntN(3) == 0 {
				d = Demand{GPUs: 1, Milli: uint16(1 + r.IntN(999))}
			}
			if s, _, ok := f.FirstFit(d, nil); ok {
				f.Allocate(s)
				live = append(live, s)
			}
		}
		if err := f.Check(); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if step < 200 {
			continue // the first query builds the index from a busy fleet
		}
		if step == 200 && f.ix.ready {
			t.Fatal("index built before its first query")
		}
		for _, typ := range f.Types() {
			checkQueries(t, f, typ, r.IntN(66), r.IntN(1001), r.IntN(f.MaxRackGPUs(typ)+2))
		}
	}
}

func checkQueries(t *testing.T, f *Fleet, typ TypeID, k, milli, c int) {
	t.Helper()
	for _, cl := range f.Classes(typ) {
		size := f.ClassGPUs(cl)
		want := -1
		for n := NodeID(0); n < NodeID(f.Nodes()); n++ {
			if w := f.NodeWhollyFreeGPUs(n); f.NodeType(n) == typ && f.NodeGPUs(n) == size && w >= k && (want < 0 || w < want) {
				want = w
			}
		}
		if got := f.NextFreeGPUCount(cl, k); got != want {
			t.Fatalf("NextFreeGPUCount(class %d of %d GPUs, %d) = %d, want %d", cl, size, k, got, want)
		}
		for _, n := range f.NodesWithFreeGPUs(cl, want) {
			if f.NodeWhollyFreeGPUs(n) != want || f.NodeGPUs(n) != size {
				t.Fatalf("NodesWithFreeGPUs(%d, %d) holds node %d", cl, want, n)
			}
		}
	}
	want := -1
	for g := GPUID(0); g < GPUID(f.GPUs()); g++ {
		n, j := f.GPUNode(g)
		if v := int(f.NodeFreeMilli(n)[j]); f.NodeType(n) == typ && v >= max(milli, 1) && v < FullGPU && (want < 0 || v < want) {
			want = v
		}
	}
	if got := f.NextSharedFree(typ, milli); got != want {
		t.Fatalf("NextSharedFree(%d, %d) = %d, want %d", typ, milli, got, want)
	}
	next, prev := -1, -1
	for rk := RackID(0); rk < RackID(f.Racks()); rk++ {
		lo, hi := f.RackNodes(rk)
		if f.NodeType(lo) != typ {
			continue
		}
		free := 0
		for n := lo; n < hi; n++ {
			if f.Rack(n) != rk {
				t.Fatalf("RackNodes(%d) = [%d, %d) holds node %d of rack %d", rk, lo, hi, n, f.Rack(n))
			}
			if f.NodeWhollyFreeGPUs(n) == f.NodeGPUs(n) {
				free += f.NodeGPUs(n)
			}
		}
		if f.RackGPUsOnFreeNodes(rk) != free {
			t.Fatalf("RackGPUsOnFreeNodes(%d) = %d, want %d", rk, f.RackGPUsOnFreeNodes(rk), free)
		}
		if free >= c && (next < 0 || free < next) {
			next = free
		}
		if free <= c && free > prev {
			prev = free
		}
	}
	if got := f.NextRackFreeGPUs(typ, c); got != next {
		t.Fatalf("NextRackFreeGPUs(%d, %d) = %d, want %d", typ, c, got, next)
	}
	if got := f.PrevRackFreeGPUs(typ, c); got != prev {
		t.Fatalf("PrevRackFreeGPUs(%d, %d) = %d, want %d", typ, c, got, prev)
	}
}

// TestCheckCatchesIndexDrift: Check notices a bucket index out of date.
func TestCheckCatchesIndexDrift(t *testing.T) {
	for _, tc := range []struct {
		break_ func(f *Fleet)
		want   string
	}{
		{func(f *Fleet) { f.ix.nodeKey[1] = 3 }, "not in bucket"},
		{func(f *Fleet) { f.ix.classMask[0] |= 1 << 2 }, "mask out of date"},
		{func(f *Fleet) { f.ix.gpuKey[9] = 0 }, "filed under"},
		{func(f *Fleet) { f.ix.rackFree[0] = 3 }, "rack 0"},
	} {
		f, _ := New([]Group{{Nodes: 8, GPUsPerNode: 8, Type: "H100"}})
		f.Allocate([]Share{{Node: 1, Milli: 300, Mask: 1 << 1}})
		f.index()
		if err := f.Check(); err != nil {
			t.Fatal(err)
		}
		tc.break_(f)
		if err := f.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check() = %v, want %q", err, tc.want)
		}
	}
}
