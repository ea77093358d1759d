package policies

import (
	"fmt"
	"math"

	"neosim/sim"
	"neosim/sim/fleet"
)

// PriceBook turns catalog list prices (on-demand, fleet.Catalog) into the
// list price of each external segment. Pricers embed it, so its fields are
// parameters of every pricer (pricer_params in a scenario).
type PriceBook struct {
	// SpotRatio is the spot price as a fraction of on-demand. Default 0.45:
	// observed ratios are 0.40 (CoreWeave H100) to 0.60 (GCP a3)
	// (../shared/calibration/SOURCES.md §1c "Observed spot/on-demand ratio").
	SpotRatio float64 `yaml:"spot_ratio,omitempty"`
	// ReservedDiscount is the discount of reserved capacity off on-demand.
	// Default 0.35: 1-year commitments are 30–45% off (§1 suggested
	// defaults; AWS p5 1-yr 41%, §1a).
	ReservedDiscount float64 `yaml:"reserved_discount,omitempty"`
	// Multiplier scales every list price (a sweep's price level). Default 1.
	Multiplier float64 `yaml:"multiplier,omitempty"`
}

// EnsureDefaults sets the parameters left at zero to their defaults.
func (b *PriceBook) EnsureDefaults() {
	if b.SpotRatio == 0 {
		b.SpotRatio = 0.45
	}
	if b.ReservedDiscount == 0 {
		b.ReservedDiscount = 0.35
	}
	if b.Multiplier == 0 {
		b.Multiplier = 1
	}
}

// Validate checks the price book's parameters.
func (b *PriceBook) Validate() error {
	switch {
	case !(b.SpotRatio > 0) || b.SpotRatio > 1:
		return fmt.Errorf("spot_ratio: must be in (0, 1], got %v", b.SpotRatio)
	case !(b.ReservedDiscount >= 0) || b.ReservedDiscount >= 1:
		return fmt.Errorf("reserved_discount: must be in [0, 1), got %v (a discount of 100%% or more gives capacity away)", b.ReservedDiscount)
	case !(b.Multiplier > 0) || math.IsInf(b.Multiplier, 0):
		return fmt.Errorf("multiplier: must be > 0, got %v", b.Multiplier)
	}
	return nil
}

// List returns the list price of catalog type t for segment seg, in
// micro-dollars per GPU-hour (0 for internal work).
func (b *PriceBook) List(t fleet.TypeID, seg sim.Segment) int64 {
	usd := fleet.Catalog[t].ListUSDPerHour * b.Multiplier
	switch seg {
	case sim.SegInternal:
		return 0
	case sim.SegSpot:
		usd *= b.SpotRatio
	case sim.SegReserved:
		usd *= 1 - b.ReservedDiscount
	}
	return int64(math.Round(usd * 1e6))
}

// jobType returns the GPU type a quote is for: the first type, in placement
// order, that the job allows and the fleet has.
func jobType(v *sim.View, j *sim.Job) fleet.TypeID {
	for _, t := range v.Fleet().Types() {
		if j.GPUTypes.Has(t) {
			return t
		}
	}
	return v.Fleet().Types()[0] // unreachable: the engine quotes only jobs that fit
}

// spotJob is a one-GPU spot request of any type: what every pricer's
// SpotPrice quotes (the spot price of the fleet's first GPU type now, for
// the time series). Each pricer's SpotPrice lives in its own file; the
// conformance test fails for a registered pricer without one.
var spotJob = sim.Job{JobSpec: sim.JobSpec{GPUs: 1, Milli: fleet.FullGPU, Segment: sim.SegSpot}}
