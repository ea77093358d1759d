package results

import (
	"math/rand/v2"
	"testing"
)

// TestMSER5: a series with a start-up transient (a linear ramp over its
// first 200 points, then noise around a level) is truncated near the end of
// the ramp; a stationary series is not truncated much; a short one gets no
// answer.
func TestMSER5(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 2000)
	for i := range x {
		level := 100.0
		if i < 200 {
			level = float64(i) / 2
		}
		x[i] = level + r.NormFloat64()*5
	}
	drop, ok := MSER5(x)
	if !ok || drop < 150 || drop > 260 {
		t.Errorf("ramp of 200 points: MSER-5 drops %d (ok %v), want about 200", drop, ok)
	}
	for i := range x {
		x[i] = 100 + r.NormFloat64()*5
	}
	if drop, ok := MSER5(x); !ok || drop > 100 {
		t.Errorf("stationary series: MSER-5 drops %d (ok %v), want few", drop, ok)
	}
	if _, ok := MSER5(x[:40]); ok {
		t.Error("40 points: want no answer")
	}
}
