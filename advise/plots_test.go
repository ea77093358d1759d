package advise

import (
	"math"
	"strings"
	"testing"
)

// TestNetValueRingsTied: the net value plot rings the candidates the
// search left tied with the recommendation, and says so in its legend;
// with none tied, or on the other plots, there is no such ring.
func TestNetValueRingsTied(t *testing.T) {
	cand := func(share, v float64) CandidateResult {
		c := CandidateResult{Candidate: Candidate{Allocator: PartitionAllocator, Pricer: "flat", Share: share, Multiplier: 1}, EliminatedBy: -1}
		for k := range 4 {
			c.Obs = append(c.Obs, Obs{NetValue: v + float64(k)*1e5, DelayCaused: 100 * share})
		}
		return c
	}
	r := &Result{
		Options:     Options{MaxDelayGPUHoursPerMonth: math.NaN(), MaxSlowdownIncrease: math.NaN()},
		Candidates:  []CandidateResult{cand(0.5, 1e6), cand(0.6, 3e6), cand(0.7, 2.9e6)},
		Recommended: 1,
		Tied:        []int{2},
	}
	_, x, ss := r.axis()
	if got := r.tiedPoints(ss, x, netValue, 1e-6); len(got) != 1 || got[0].X != 0.7 || math.Abs(got[0].Y-3.05) > 1e-9 {
		t.Errorf("tied points %v, want one at (0.7, 3.05)", got)
	}
	legend := func(r *Result) map[string]bool {
		figs, err := r.Figures()
		if err != nil {
			t.Fatal(err)
		}
		has := map[string]bool{}
		for _, f := range figs {
			has[f.Name] = strings.Contains(string(f.SVG), "not separated from it")
		}
		return has
	}
	if has := legend(r); !has["net_value"] || has["delay_caused"] {
		t.Errorf("legend \"not separated from it\" on %v, want on net_value only", has)
	}
	r.Tied = nil
	if has := legend(r); has["net_value"] {
		t.Error("legend \"not separated from it\" with nothing tied")
	}
}
