package workloads

import (
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzParseDist: no spec panics; an accepted distribution samples finite
// values ≥ 0.
func FuzzParseDist(f *testing.F) {
	for _, s := range []string{"const:8", "exp:3600", "uniform:1:2", "lognormal:3600:1.5", "pareto:1:2", "weibull:1:0.5", "choice:1=0.5,8=0.5", "choice:", "zipf:1"} {
		f.Add(s)
	}
	r := rand.New(rand.NewPCG(1, 2))
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDist(s)
		if err != nil {
			return
		}
		for range 16 {
			if v := d.Sample(r); math.IsNaN(v) || v < 0 {
				t.Fatalf("%q sampled %v", s, v)
			}
		}
	})
}
