package policies

import (
	"math"

	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Pricers.Register("flat", "list price per GPU-hour of the job's GPU type (catalog default, CoreWeave on-demand 2026)", func() Pricer { return &Flat{} })
}

// Flat quotes the catalog list price per GPU-hour for every external
// segment (fleet.Catalog: CoreWeave on-demand prices read 2026-09-20,
// ../shared/calibration/SOURCES.md §1b): the price of the first GPU type,
// in placement order, that the job allows and the fleet has (a job that
// allows any type is quoted the first type of the fleet).
type Flat struct{}

var _ Pricer = (*Flat)(nil)

// Name returns "flat".
func (*Flat) Name() string { return "flat" }

// Quote returns the list price in micro-dollars per GPU-hour.
func (*Flat) Quote(v *sim.View, j *sim.Job) int64 {
	for _, t := range v.Fleet().Types() {
		if j.GPUTypes.Has(t) {
			return ListMicroUSD(t)
		}
	}
	return 0 // unreachable: the engine quotes only jobs that fit
}

// ListMicroUSD returns catalog type t's list price per GPU-hour in
// micro-dollars.
func ListMicroUSD(t int) int64 {
	return int64(math.Round(fleet.Catalog[t].ListUSDPerHour * 1e6))
}
