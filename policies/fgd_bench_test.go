package policies

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"neosim/sim/fleet"
)

// BenchmarkFGDPlacement is fgd's cost per placement on a 100,000-GPU fleet
// (12,500 nodes × 8 H100) held about 85% allocated by a churning mix of GPU
// shares and whole-GPU jobs: each op places one job (Place, which reads at
// most K nodes), allocates it and releases a random earlier job. Sub-
// benchmarks vary K, the candidate bound. The jobs are pre-generated.
func BenchmarkFGDPlacement(b *testing.B) {
	const mix = "1x1000=40,1x500=15,1x250=10,1x700=10,1x100=5,2x1000=8,4x1000=7,8x1000=5"
	w, err := ParseFGDWorkload(mix)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	jobs := make([]fleet.Demand, 1<<16)
	for i := range jobs {
		u, k := r.Float64(), 0
		for ; k < w.Len()-1 && u >= w.P[k]; k++ {
			u -= w.P[k]
		}
		jobs[i] = fleet.Demand{GPUs: int32(w.Shapes[k].GPUs), Milli: w.Shapes[k].Milli}
	}
	for _, k := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("K=%d", k), func(b *testing.B) {
			f, err := fleet.New([]fleet.Group{{Nodes: 12500, GPUsPerNode: 8, Type: "H100"}})
			if err != nil {
				b.Fatal(err)
			}
			a := &FGD{Candidates: k, Workload: mix}
			if err := Prepare(a); err != nil {
				b.Fatal(err)
			}
			var live [][]fleet.Share
			var used int64
			release := func(rr *rand.Rand) {
				i := rr.IntN(len(live))
				for _, s := range live[i] {
					used -= int64(s.GPUs()) * int64(s.Milli)
				}
				f.Release(live[i])
				live[i] = live[len(live)-1]
				live = live[:len(live)-1]
			}
			place := func(d fleet.Demand, rr *rand.Rand) {
				for {
					s, ok := a.Place(f, d, nil)
					if ok {
						f.Allocate(s)
						live = append(live, s)
						used += int64(d.GPUs) * int64(d.Milli)
						return
					}
					release(rr)
				}
			}
			rr := rand.New(rand.NewPCG(2, 2))
			capacity := int64(f.GPUs()) * fleet.FullGPU
			for i := 0; used < capacity*85/100; i++ {
				place(jobs[i%len(jobs)], rr)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				place(jobs[i%len(jobs)], rr)
				release(rr)
				i++
			}
			b.ReportMetric(100*float64(used)/float64(capacity), "%allocated")
		})
	}
}
