package fleet

import "testing"

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
