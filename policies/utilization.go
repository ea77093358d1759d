package policies

import (
	"fmt"
	"math"

	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Pricers.Register("utilization", "spot price rises with fleet utilization between a floor and a cap, updated at an interval; other segments at list", func() Pricer { return &Utilization{} })
}

// Utilization prices spot capacity by how busy the fleet is, the way spot
// markets move with supply and demand: at fleet utilization u (busy GPUs
// over all GPUs, read every IntervalS seconds), the spot price is
//
//	on-demand list × (Floor + (Cap − Floor) · u^Exponent)
//
// Other segments pay the PriceBook list price. Defaults [U]: Floor 0.10
// (clouds advertise spot "up to 90%" (AWS) and "60–91%" (GCP) off,
// ../shared/calibration/SOURCES.md §1c), Cap 0.60 (the highest observed
// spot/on-demand ratio, GCP a3, §1c), Exponent 2 (cheap until the fleet
// fills), IntervalS 300 (AWS adjusts "gradually"; GCP at most once a day).
type Utilization struct {
	PriceBook `yaml:",inline"`
	Floor     float64 `yaml:"floor,omitempty"`
	Cap       float64 `yaml:"cap,omitempty"`
	Exponent  float64 `yaml:"exponent,omitempty"`
	IntervalS float64 `yaml:"interval_s,omitempty"`

	next  sim.Time // when the price is next updated
	ratio float64  // the spot price as a fraction of on-demand, since the last update
}

var _ Pricer = (*Utilization)(nil)

// Name returns "utilization".
func (*Utilization) Name() string { return "utilization" }

func (p *Utilization) defaults() {
	if p.Floor == 0 {
		p.Floor = 0.10
	}
	if p.Cap == 0 {
		p.Cap = 0.60
	}
	if p.Exponent == 0 {
		p.Exponent = 2
	}
	if p.IntervalS == 0 {
		p.IntervalS = 300
	}
}

// Validate checks the parameters.
func (p *Utilization) Validate() error {
	p.defaults()
	switch {
	case !(p.Floor > 0) || p.Floor > p.Cap:
		return fmt.Errorf("floor: must be in (0, cap], got %v", p.Floor)
	case p.Cap > 10 || math.IsInf(p.Cap, 0):
		return fmt.Errorf("cap: must be ≤ 10× on-demand, got %v", p.Cap)
	case !(p.Exponent > 0) || math.IsInf(p.Exponent, 0):
		return fmt.Errorf("exponent: must be > 0, got %v", p.Exponent)
	case !(p.IntervalS > 0):
		return fmt.Errorf("interval_s: must be > 0, got %v", p.IntervalS)
	}
	return p.PriceBook.Validate()
}

// spotRatio returns the current spot price as a fraction of on-demand.
func (p *Utilization) spotRatio(v *sim.View) float64 {
	p.defaults()
	if now := v.Now(); now >= p.next {
		p.ratio = p.Floor + (p.Cap-p.Floor)*math.Pow(Utilized(v.Fleet()), p.Exponent)
		p.next = now + sim.FromSeconds(p.IntervalS)
	}
	return p.ratio
}

// Quote prices spot by utilization and other segments at list.
func (p *Utilization) Quote(v *sim.View, j *sim.Job) int64 {
	t := jobType(v, j)
	if j.Segment != sim.SegSpot {
		return p.List(t, j.Segment)
	}
	return int64(math.Round(float64(p.List(t, sim.SegOnDemand)) * p.spotRatio(v)))
}

// Utilized returns the fraction of the fleet's GPUs that hold any job.
func Utilized(f fleet.View) float64 {
	var total, free int64
	for _, t := range f.Types() {
		total += f.TypeGPUs(t)
		free += f.FreeWholeGPUs(t)
	}
	if total == 0 {
		return 0
	}
	return float64(total-free) / float64(total)
}
