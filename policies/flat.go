package policies

import (
	"neosim/sim"
)

func init() {
	Pricers.Register("flat", "list price per GPU-hour by GPU type and segment (catalog on-demand prices; spot and reserved at fixed ratios)", func() Pricer { return &Flat{} })
}

// Flat quotes the list price of the job's GPU type and segment: the catalog
// on-demand price (CoreWeave, read 2026-09-20, ../shared/calibration/
// SOURCES.md §1b) scaled by the PriceBook's segment ratios. The GPU type is
// the first, in placement order, that the job allows and the fleet has.
type Flat struct {
	PriceBook `yaml:",inline"`
}

var (
	_ Pricer         = (*Flat)(nil)
	_ sim.SpotQuoter = (*Flat)(nil)
)

// Name returns "flat".
func (*Flat) Name() string { return "flat" }

// Quote returns the list price in micro-dollars per GPU-hour.
func (p *Flat) Quote(v *sim.View, j *sim.Job) int64 {
	return p.List(jobType(v, j), j.Segment)
}

// SpotPrice quotes a one-GPU spot request now.
func (p *Flat) SpotPrice(v *sim.View) int64 { return p.Quote(v, &spotJob) }
