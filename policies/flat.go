package policies

import (
	"math"

	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Pricers.Register("flat", "list price per GPU-hour of the GPU type the job runs on (catalog default, CoreWeave on-demand 2026)", func() Pricer { return &Flat{} })
}

// Flat charges the catalog list price per GPU-hour of the GPU type a job
// runs on, for every external segment (fleet.Catalog: CoreWeave on-demand
// prices read 2026-09-20, ../shared/calibration/SOURCES.md §1b).
type Flat struct{}

var _ Pricer = (*Flat)(nil)

// Name returns "flat".
func (*Flat) Name() string { return "flat" }

// Price returns the list price of gpuType in micro-dollars per GPU-hour.
func (*Flat) Price(_ *sim.View, _ *sim.Job, gpuType int) int64 {
	return int64(math.Round(fleet.Catalog[gpuType].ListUSDPerHour * 1e6))
}
