package sim_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"neosim/sim"
	"neosim/sim/simtest"
)

// checkPlaced is FIFO that now and then preempts a random running job of
// any segment (reserved aside), with or without notice, and on every pass
// checks View.RunningPlaced, which reads the engine's compact copy of the
// placements, against the jobs themselves as RunningIn visits them.
type checkPlaced struct {
	simtest.FIFO
	rng     *rand.Rand
	err     error
	checked int
	seen    map[string]bool // what the walks met: "spot", "notice", "non-spot notice", "several nodes"
}

func (c *checkPlaced) Schedule(v *sim.View, p *sim.Plan) {
	if c.err == nil {
		c.err = c.check(v)
	}
	if c.rng.IntN(4) == 0 {
		var victims []sim.JobID
		v.Running(func(id sim.JobID, j *sim.Job) {
			if j.Segment != sim.SegReserved && !j.Preempting() && c.rng.IntN(8) == 0 {
				victims = append(victims, id)
			}
		})
		for _, id := range victims {
			if err := p.Preempt(id); err != nil {
				panic(err)
			}
		}
	}
	c.FIFO.Schedule(v, p)
}

func (c *checkPlaced) check(v *sim.View) error {
	for _, w := range []struct{ spot, notice bool }{{true, true}, {true, false}, {false, true}, {false, false}} {
		var segs sim.SegmentSet
		if w.spot {
			segs = sim.Segments(sim.SegSpot)
		}
		var want, got []sim.Placed
		v.RunningIn(segs, w.notice, func(id sim.JobID, j *sim.Job) { want = append(want, sim.PlacedOf(id, j)) })
		v.RunningPlaced(w.spot, w.notice, func(p sim.Placed) {
			p.Shares = slices.Clone(p.Shares) // handed over for the call only
			got = append(got, p)
		})
		if len(got) != len(want) {
			return fmt.Errorf("spot %v, notice %v: RunningPlaced handed %d jobs, RunningIn %d", w.spot, w.notice, len(got), len(want))
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.ID != w.ID || g.Type != w.Type || g.Segment != w.Segment || g.Notice != w.Notice || g.End != w.End || !slices.Equal(g.Shares, w.Shares) {
				return fmt.Errorf("job %d of the walk: RunningPlaced handed %+v, the job says %+v", i, g, w)
			}
			c.seen[map[bool]string{true: "spot", false: "other"}[w.Segment == sim.SegSpot]] = true
			if w.Notice {
				c.seen["notice"] = true
				if w.Segment != sim.SegSpot {
					c.seen["non-spot notice"] = true
				}
			}
			if len(w.Shares) > 1 {
				c.seen["several nodes"] = true
			}
		}
		c.checked += len(want)
	}
	return nil
}

// TestRunningPlaced: the placements RunningPlaced hands over (kept by the
// engine as spot jobs start and jobs get notices) are the jobs' own, in the
// order of RunningIn's walk, through starts, preemptions with and without
// notice, restarts and ends, for jobs on one node and on several.
func TestRunningPlaced(t *testing.T) {
	gpus := simtest.Choice([]float64{1, 2, 8, 16}, []float64{4, 2, 1, 1})
	var sources []sim.Source
	for i, s := range []simtest.Poisson{
		{Name: "spot", Segment: sim.SegSpot, RatePerHour: 20, GPUs: gpus, Work: simtest.Exp(3600), Notice: 300 * sim.Second, Checkpoint: 600 * sim.Second},
		{Name: "spot-now", Segment: sim.SegSpot, RatePerHour: 5, GPUs: gpus, Work: simtest.Exp(1800)},
		{Name: "internal", Segment: sim.SegInternal, RatePerHour: 10, GPUs: gpus, Work: simtest.Exp(3600), Notice: 120 * sim.Second},
		{Name: "on-demand", Segment: sim.SegOnDemand, RatePerHour: 5, GPUs: gpus, Work: simtest.Exp(1800), Notice: 60 * sim.Second},
	} {
		s.Until = 2 * sim.Day
		sources = append(sources, s.Source(uint64(i+1)))
	}
	a := &checkPlaced{rng: rand.New(rand.NewPCG(7, 8)), seen: map[string]bool{}}
	e := sim.New(sim.Config{Horizon: 3 * sim.Day, CheckInvariants: true}, simtest.Fleet(t, 8, 8, "H100"), a, &simtest.Flat{}, sources)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	if a.err != nil {
		t.Fatal(a.err)
	}
	for _, k := range []string{"spot", "other", "notice", "non-spot notice", "several nodes"} {
		if !a.seen[k] {
			t.Errorf("the walks never met a %s job: the test does not cover it", k)
		}
	}
	t.Logf("%d placements checked", a.checked)
}
