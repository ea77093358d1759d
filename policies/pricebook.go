package policies

import (
	"fmt"
	"math"

	"neosim/sim"
	"neosim/sim/fleet"
)

// PriceBook turns catalog list prices (on-demand, fleet.Catalog: the median
// of the 2026 neocloud quotes, SOURCES.md §1b) into the list price of each
// external segment and GPU type. Pricers embed it, so its fields are
// parameters of every pricer (pricer_params in a scenario). Fields are
// pointers so that a parameter set to 0 is told from one not set: 0 is used
// (reserved_discount) or rejected by Validate (spot_ratio, multiplier).
type PriceBook struct {
	// SpotRatio is the spot price as a fraction of on-demand. Default 0.45:
	// observed ratios are 0.40 (CoreWeave H100) to 0.60 (GCP a3)
	// (../shared/calibration/SOURCES.md §1c "Observed spot/on-demand ratio").
	SpotRatio *float64 `yaml:"spot_ratio,omitempty"`
	// ReservedDiscount is the discount of reserved capacity off on-demand.
	// Default 0.41: the H100 1-year contract index, 2.35 $/GPU-h (Mar 2026,
	// §1b), is 41% below the H100 list of 3.99 (1 − 2.35/3.99 = 0.411) [D];
	// AWS p5 1-yr was also 41% off (§1a).
	ReservedDiscount *float64 `yaml:"reserved_discount,omitempty"`
	// Multiplier scales every list price (a sweep's price level). Default 1.
	Multiplier *float64 `yaml:"multiplier,omitempty"`
}

// Price-book defaults (PriceBook's fields say where they come from).
const (
	DefaultSpotRatio        = 0.45
	DefaultReservedDiscount = 0.41
)

// EnsureDefaults sets the parameters not given to their defaults.
func (b *PriceBook) EnsureDefaults() {
	set := func(p **float64, v float64) {
		if *p == nil {
			*p = &v
		}
	}
	set(&b.SpotRatio, DefaultSpotRatio)
	set(&b.ReservedDiscount, DefaultReservedDiscount)
	set(&b.Multiplier, 1)
}

// param returns *p, or def if the parameter is not set.
func param(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

// rates returns the spot ratio, reserved discount and multiplier in force.
func (b *PriceBook) rates() (spot, reserved, mult float64) {
	return param(b.SpotRatio, DefaultSpotRatio), param(b.ReservedDiscount, DefaultReservedDiscount), param(b.Multiplier, 1)
}

// Validate checks the price book's parameters.
func (b *PriceBook) Validate() error {
	switch sr, rd, m := b.rates(); {
	case !(sr > 0) || sr > 1:
		return fmt.Errorf("spot_ratio: must be in (0, 1], got %v", sr)
	case !(rd >= 0) || rd >= 1:
		return fmt.Errorf("reserved_discount: must be in [0, 1), got %v (a discount of 100%% or more gives capacity away)", rd)
	case !(m > 0) || math.IsInf(m, 0):
		return fmt.Errorf("multiplier: must be > 0, got %v", m)
	}
	return nil
}

// List returns the list price of catalog type t for segment seg, in
// micro-dollars per GPU-hour (0 for internal work).
func (b *PriceBook) List(t fleet.TypeID, seg sim.Segment) int64 {
	spot, reserved, mult := b.rates()
	usd := fleet.Catalog[t].ListUSDPerHour * mult
	switch seg {
	case sim.SegInternal:
		return 0
	case sim.SegSpot:
		usd *= spot
	case sim.SegReserved:
		usd *= 1 - reserved
	}
	return int64(math.Round(usd * 1e6))
}

// QuoteOn prices job j on GPU type t (sim.TypeQuoter): its arrival quote
// (j.PriceMicroUSD, for the type jobType picks) scaled by the on-demand list
// price of t over that of the quoted type, so a job keeps its discount or
// markup and pays for the GPU it runs on: a job quoted for H100 that lands
// on B200 pays the B200 price (7.15 / 3.99 × its H100 quote). On the
// quoted type it is the arrival quote exactly. Every pricer that embeds
// PriceBook bills by the GPU used.
func (b *PriceBook) QuoteOn(v *sim.View, j *sim.Job, t fleet.TypeID) int64 {
	q := jobType(v, j)
	if t == q || j.PriceMicroUSD == 0 {
		return j.PriceMicroUSD
	}
	return int64(math.Round(float64(j.PriceMicroUSD) * fleet.Catalog[t].ListUSDPerHour / fleet.Catalog[q].ListUSDPerHour))
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
