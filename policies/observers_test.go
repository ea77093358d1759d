package policies_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"neosim/policies"
	"neosim/sim"
	"neosim/sim/fleet"
)

// jobRecords keeps, per ended job, every field an output file reports
// about its fate, formatted, in the order jobs ended: two runs that make the
// same decisions give equal records.
type jobRecords struct{ lines []string }

func (*jobRecords) JobStarted(*sim.Job) {}
func (r *jobRecords) JobEnded(j *sim.Job) {
	r.lines = append(r.lines, fmt.Sprintf("%s %v %q start=%d end=%d run=%d lost=%d price=%d type=%d preempt=%d fail=%d",
		j.ID, j.State, j.Reason, j.FirstStart, j.End, j.RunTime, j.LostTime, j.PriceMicroUSD, j.Type, j.Preemptions, j.Failures))
}
func (*jobRecords) Sampled(*sim.Sample) {}

// observedJobs is a day of mixed load on a small fleet: internal gangs that
// fill it, spot and on-demand jobs with willingness to pay around the
// prices the pricers quote, so that a quote that moves changes who declines
// and who runs.
func observedJobs() []sim.JobSpec {
	rng := rand.New(rand.NewPCG(7, 13))
	var jobs []sim.JobSpec
	at := sim.Time(0)
	segs := []sim.Segment{sim.SegInternal, sim.SegSpot, sim.SegSpot, sim.SegOnDemand, sim.SegReserved}
	for i := range 600 {
		at += sim.Time(rng.ExpFloat64() * float64(2*sim.Minute))
		seg := segs[rng.IntN(len(segs))]
		j := sim.JobSpec{ID: fmt.Sprint("j", i), Segment: seg, Submit: at, GPUs: int32(1 + rng.IntN(8)),
			Milli: fleet.FullGPU, Work: sim.Time(rng.ExpFloat64() * float64(sim.Hour))}
		if seg.External() {
			// Around the spot price range of H100 list (0.6 to 7 $/GPU-h).
			j.WTPMicroUSD = int64(600_000 + rng.IntN(6_500_000))
			j.Notice = 30 * sim.Second
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// TestSamplingDoesNotChangeTheRun: the sample interval is an output
// setting, so every registered pricer, run under every allocator that
// preempts or not, gives the same job records at sample intervals of 5, 7
// and 13 minutes (ARCHITECTURE.md rule 9: observers observe; a pricer's
// state moves only on the engine's update schedule, and sampling its spot
// price is a pure read).
func TestSamplingDoesNotChangeTheRun(t *testing.T) {
	for _, pn := range policies.Pricers.Names() {
		for _, an := range []string{"fifo", "priority"} {
			t.Run(pn+"/"+an, func(t *testing.T) {
				t.Parallel()
				var first []string
				var spots int
				for _, every := range []sim.Time{5 * sim.Minute, 7 * sim.Minute, 13 * sim.Minute} {
					f, err := fleet.New([]fleet.Group{{Nodes: 4, GPUsPerNode: 8, Type: "H100"}})
					if err != nil {
						t.Fatal(err)
					}
					alloc, err := policies.Allocators.New(an)
					if err != nil {
						t.Fatal(err)
					}
					pricer, err := policies.Pricers.New(pn)
					if err != nil {
						t.Fatal(err)
					}
					rec := &jobRecords{}
					sampled := &spotSeen{}
					src := &fixed{jobs: observedJobs()}
					if err := sim.New(sim.Config{SampleInterval: every}, f, alloc, pricer, []sim.Source{src}, rec, sampled).Run(); err != nil {
						t.Fatal(err)
					}
					if sampled.n == 0 {
						t.Fatalf("sampled no spot price at interval %v: the test does not read it", every)
					}
					spots = sampled.distinct()
					if first == nil {
						first = rec.lines
						continue
					}
					if i := firstDiff(first, rec.lines); i >= 0 {
						t.Fatalf("sample interval %v changes the run: job record %d\n  at 5m: %s\n  at %v: %s", every, i, at(first, i), every, at(rec.lines, i))
					}
				}
				t.Logf("%d jobs, %d distinct spot prices sampled", len(first), spots)
			})
		}
	}
}

// spotSeen counts the samples that carry a spot price and the distinct
// prices among them.
type spotSeen struct {
	n      int
	prices []int64
}

func (*spotSeen) JobStarted(*sim.Job) {}
func (*spotSeen) JobEnded(*sim.Job)   {}
func (s *spotSeen) Sampled(x *sim.Sample) {
	if x.SpotMicroUSD >= 0 {
		s.n++
		s.prices = append(s.prices, x.SpotMicroUSD)
	}
}
func (s *spotSeen) distinct() int {
	p := slices.Clone(s.prices)
	slices.Sort(p)
	return len(slices.Compact(p))
}

func firstDiff(a, b []string) int {
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return -1
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}
