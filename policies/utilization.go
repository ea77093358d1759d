package policies

import (
	"fmt"
	"math"

	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Pricers.Register("utilization", "spot price rises with fleet utilization between a floor and a cap, updated every interval; other segments at list", func() Pricer { return &Utilization{} })
}

// Utilization prices spot capacity by how busy the fleet is, the way spot
// markets move with supply and demand: at fleet utilization u (busy GPUs
// over all GPUs), the spot price is
//
//	on-demand list × (Floor + (Cap − Floor) · u^Exponent)
//
// u is read when the engine updates the pricer (sim.Updater), at simulated
// times 0, IntervalS, 2·IntervalS, …; quotes in between use the last
// update's price, and reading it (a quote, a sample) changes nothing.
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

	ratio float64 // the spot price as a fraction of on-demand, set by Update
}

var (
	_ Pricer         = (*Utilization)(nil)
	_ sim.Updater    = (*Utilization)(nil)
	_ sim.SpotQuoter = (*Utilization)(nil)
)

// Name returns "utilization".
func (*Utilization) Name() string { return "utilization" }

// EnsureDefaults sets the parameters left at zero to their defaults.
func (p *Utilization) EnsureDefaults() {
	p.PriceBook.EnsureDefaults()
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

// UpdateInterval returns IntervalS: the engine calls Update that often.
func (p *Utilization) UpdateInterval() sim.Time { return sim.FromSeconds(p.IntervalS) }

// Update sets the spot price from the fleet's utilization now.
func (p *Utilization) Update(v *sim.View) {
	p.ratio = p.Floor + (p.Cap-p.Floor)*math.Pow(Utilized(v.Fleet()), p.Exponent)
}

// Quote prices spot at the last update's price and other segments at list.
func (p *Utilization) Quote(v *sim.View, j *sim.Job) int64 {
	t := jobType(v, j)
	if j.Segment != sim.SegSpot {
		return p.List(t, j.Segment)
	}
	return int64(math.Round(float64(p.List(t, sim.SegOnDemand)) * p.ratio))
}

// SpotPrice quotes a one-GPU spot request now.
func (p *Utilization) SpotPrice(v *sim.View) int64 { return p.Quote(v, &spotJob) }

// Utilized returns the fraction of the fleet's GPUs that hold any job.
func Utilized(f fleet.View) float64 {
	var total, free int64
	for _, t := range f.Types() {
		total += f.TypeGPUs(t)
		free += f.WhollyFreeGPUs(t)
	}
	if total == 0 {
		return 0
	}
	return float64(total-free) / float64(total)
}
