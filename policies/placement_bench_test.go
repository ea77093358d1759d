package policies

import (
	"math/rand/v2"
	"testing"

	"neosim/sim/fleet"
)

// placementPolicies are the allocators BenchmarkPlacement measures, by
// registered name. Each must implement placer (nodechoice.go): the node
// choice for one job, without the queue walk. Add a policy by adding its
// name here.
var placementPolicies = []string{"firstfit", "bestfit", "packing", "random", "topology", "fgd"}

// Placement benchmark shape: a 100,000-GPU fleet (12,500 nodes × 8 H100,
// racks of 4 nodes), about 60% busy with a random mix of whole nodes,
// partly used nodes and GPU shares.
const (
	benchNodes = 12_500
	benchRing  = 256  // placements alive at once (~2.5% of the fleet)
	benchJobs  = 4096 // pre-generated demands, reused in a cycle
)

// BenchmarkPlacement measures one placement decision on a large, busy
// fleet: each op places a demand with the policy's rule, allocates it, and
// releases the placement made benchRing ops earlier, so the fleet stays at
// its steady state (~60% busy). ns/op is the cost of a decision plus the
// fleet's index upkeep for one allocate and one release; fails/op is the
// share of demands that did not fit.
//
//	go test ./policies/ -run '^$' -bench Placement -benchmem -count 6 | benchstat -
func BenchmarkPlacement(b *testing.B) {
	for _, name := range placementPolicies {
		b.Run(name, func(b *testing.B) {
			a, err := Allocators.New(name)
			if err != nil {
				b.Fatal(err)
			}
			pl, ok := a.(placer)
			if !ok {
				b.Fatalf("%s does not implement placer", name)
			}
			f := benchFleet(b)
			demands := benchDemands()
			ring := make([][]fleet.Share, benchRing)
			// Warm up: the first query builds the fleet's bucket indexes.
			buf, _ := pl.place(f, demands[0], nil)
			fails := 0
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				slot := &ring[i%benchRing]
				if len(*slot) > 0 {
					f.Release(*slot)
					*slot = (*slot)[:0]
				}
				var ok bool
				buf, ok = pl.place(f, demands[i%benchJobs], buf[:0])
				if !ok {
					fails++
					continue
				}
				f.Allocate(buf)
				*slot = append(*slot, buf...)
			}
			b.ReportMetric(float64(fails)/float64(b.N), "fails/op")
			if err := f.Check(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// benchFleet builds the benchmark fleet and fills it to about 60%: 40% of
// the nodes entirely busy, 25% entirely free, 35% with 1..7 GPUs busy and,
// on half of those, one more GPU holding a 250..750-milli share. Fixed seed.
func benchFleet(b *testing.B) *fleet.Fleet {
	f, err := fleet.New([]fleet.Group{{Nodes: benchNodes, GPUsPerNode: 8, Type: "H100"}})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2024, 1))
	for n := fleet.NodeID(0); n < benchNodes; n++ {
		switch x := r.Float64(); {
		case x < 0.40:
			f.Allocate([]fleet.Share{{Node: n, Milli: fleet.FullGPU, Mask: 0xff}})
		case x < 0.65:
		default:
			used := 1 + r.IntN(7)
			f.Allocate([]fleet.Share{{Node: n, Milli: fleet.FullGPU, Mask: lowMask(used)}})
			if used < 7 && r.IntN(2) == 0 {
				f.Allocate([]fleet.Share{{Node: n, Milli: uint16(250 + r.IntN(501)), Mask: 1 << used}})
			}
		}
	}
	if busy := float64(f.UsedMilli()) / float64(f.GPUs()*fleet.FullGPU); busy < 0.55 || busy > 0.65 {
		b.Fatalf("fleet %.0f%% busy, want about 60%%", 100*busy)
	}
	return f
}

// benchDemands returns the demand mix: mostly small jobs, some whole-node
// and multi-node gangs, some GPU shares. Fixed seed.
func benchDemands() []fleet.Demand {
	r := rand.New(rand.NewPCG(2024, 2))
	ds := make([]fleet.Demand, benchJobs)
	for i := range ds {
		switch x := r.Float64(); {
		case x < 0.10:
			ds[i] = fleet.Demand{GPUs: 1, Milli: uint16([]int{250, 500}[r.IntN(2)])}
		default:
			g := []int32{1, 1, 1, 1, 2, 2, 4, 4, 8, 8, 8, 16, 16, 32, 64}[r.IntN(15)]
			ds[i] = fleet.Demand{GPUs: g, Milli: fleet.FullGPU}
		}
	}
	return ds
}
