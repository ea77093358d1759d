package policies

import (
	"cmp"
	"fmt"
	"slices"

	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Allocators.Register("smallest-first", "waiting jobs by size, smallest first (first fit); a job that does not fit is skipped",
		func() Allocator { return &SmallestFirst{} })
}

// SmallestFirst starts waiting jobs in order of size (GPUs × share),
// smallest first, ties in queue order, each placed with first fit. A job
// that does not fit now is skipped, so small jobs never wait behind large
// ones; large jobs can starve while small ones keep arriving.
type SmallestFirst struct {
	// LargestFirst reverses the order (largest first).
	LargestFirst bool `yaml:"largest_first,omitempty"`
	// MaxStarts caps the jobs started per pass; 0: no cap.
	MaxStarts int `yaml:"max_starts,omitempty"`

	buf   []fleet.Share // reused: no allocation per pass once warm
	queue []sim.JobID
}

var _ Allocator = (*SmallestFirst)(nil)

// Name returns "smallest-first".
func (*SmallestFirst) Name() string { return "smallest-first" }

// Validate checks the parameters (the registry calls it after decoding
// them; MaxStarts has no default to set: 0 means no cap).
func (a *SmallestFirst) Validate() error {
	if a.MaxStarts < 0 {
		return fmt.Errorf("max_starts: must be ≥ 0, got %d", a.MaxStarts)
	}
	return nil
}

// Schedule starts jobs by size.
func (a *SmallestFirst) Schedule(v *sim.View, p *sim.Plan) {
	// Starting a job changes v.Queue(): walk a copy.
	a.queue = append(a.queue[:0], v.Queue()...)
	size := func(id sim.JobID) int64 { j := v.Job(id); return int64(j.GPUs) * int64(j.Milli) }
	slices.SortStableFunc(a.queue, func(x, y sim.JobID) int {
		if a.LargestFirst {
			return cmp.Compare(size(y), size(x))
		}
		return cmp.Compare(size(x), size(y))
	})
	started := 0
	for _, id := range a.queue {
		if a.MaxStarts > 0 && started == a.MaxStarts {
			return
		}
		shares, _, ok := v.Fleet().FirstFit(v.Job(id).Demand(), a.buf[:0])
		a.buf = shares
		if !ok {
			continue
		}
		if err := p.Start(id, shares); err != nil {
			panic("smallest-first: first fit proposed an invalid placement: " + err.Error())
		}
		started++
	}
}
