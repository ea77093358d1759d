package fleet

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkGangRestart is the fleet's share of a pre-training run's
// restart after a node failure, the largest cost of the meta year: release
// a 1,024-node gang, then find, check and take its placement again (first
// fit finds the same nodes). One op is one restart: 1,024 nodes released
// and placed.
func BenchmarkGangRestart(b *testing.B) {
	f, err := New([]Group{{Nodes: 4096, GPUsPerNode: 8, Type: "H100"}})
	if err != nil {
		b.Fatal(err)
	}
	d := Demand{GPUs: 8192, Milli: FullGPU}
	shares, _, ok := f.FirstFit(d, nil)
	if !ok {
		b.Fatal("no placement")
	}
	f.Allocate(shares)
	b.ResetTimer()
	for range b.N {
		f.Release(shares)
		var ok bool
		if shares, _, ok = f.FirstFit(d, shares[:0]); !ok {
			b.Fatal("no placement")
		}
		if err := f.Validate(d, shares); err != nil {
			b.Fatal(err)
		}
		f.Allocate(shares)
	}
}

// BenchmarkNodeChurn is the fleet's share of single-node jobs, the most
// common placement of the meta year: release a whole 8-GPU node's job, then
// find, check and take a node for the next. One op is one release and one
// placement.
func BenchmarkNodeChurn(b *testing.B) {
	const nodes = 1 << 14
	f, err := New([]Group{{Nodes: nodes, GPUsPerNode: 8, Type: "H100"}})
	if err != nil {
		b.Fatal(err)
	}
	d := Demand{GPUs: 8, Milli: FullGPU}
	held := make([][]Share, 0, nodes)
	for range nodes * 9 / 10 {
		s, _, ok := f.FirstFit(d, nil)
		if !ok {
			b.Fatal("no placement")
		}
		f.Allocate(s)
		held = append(held, s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	b.ResetTimer()
	for range b.N {
		k := r.IntN(len(held))
		f.Release(held[k])
		s, _, ok := f.FirstFit(d, held[k][:0])
		if !ok {
			b.Fatal("no placement")
		}
		if err := f.Validate(d, s); err != nil {
			b.Fatal(err)
		}
		f.Allocate(s)
		held[k] = s
	}
}

// BenchmarkScatteredGang is a gang restart on the meta year's scale, where
// gangs end up on nodes scattered over a busy fleet: 150,000 8-GPU nodes,
// single-node jobs on a random 60% of them, and 40 gangs of 512 nodes on
// the rest, each restarted in turn (released, placed again by first fit,
// checked and taken), so that a gang's node state is out of cache when its
// turn comes, as in a year-long run. One op is one restart.
func BenchmarkScatteredGang(b *testing.B) {
	const nodes, gangs, gangNodes = 150_000, 40, 512
	f, err := New([]Group{{Nodes: nodes, GPUsPerNode: 8, Type: "H100"}})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for n := range nodes {
		if r.Float64() < 0.6 {
			f.Allocate([]Share{f.wholeNode(NodeID(n))})
		}
	}
	d := Demand{GPUs: gangNodes * 8, Milli: FullGPU}
	held := make([][]Share, gangs)
	for i := range held {
		s, _, ok := f.FirstFit(d, nil)
		if !ok {
			b.Fatal("no placement")
		}
		f.Allocate(s)
		held[i] = s
	}
	b.ResetTimer()
	for i := range b.N {
		s := held[i%gangs]
		f.Release(s)
		s, _, ok := f.FirstFit(d, s[:0])
		if !ok {
			b.Fatal("no placement")
		}
		if err := f.Validate(d, s); err != nil {
			b.Fatal(err)
		}
		f.Allocate(s)
		held[i%gangs] = s
	}
}
