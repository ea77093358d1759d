package policies

import (
	"fmt"
	"math"

	"neosim/sim"
)

func init() {
	Pricers.Register("time-of-day", "list price times a peak multiplier during business hours and an off-peak one at night", func() Pricer { return &TimeOfDay{} })
}

// TimeOfDay scales the PriceBook list price by the hour of the day at which
// the job arrives: PeakMultiplier from PeakStartHour to PeakEndHour,
// OffPeakMultiplier otherwise (simulated time 0 is a Monday 00:00). Defaults
// [U]: 1.2 peak, 0.8 off-peak, peak 08:00–20:00; no public source prices GPU
// capacity by hour, so these are a starting point for sweeps.
type TimeOfDay struct {
	PriceBook         `yaml:",inline"`
	PeakMultiplier    float64 `yaml:"peak_multiplier,omitempty"`
	OffPeakMultiplier float64 `yaml:"off_peak_multiplier,omitempty"`
	PeakStartHour     float64 `yaml:"peak_start_hour,omitempty"`
	PeakEndHour       float64 `yaml:"peak_end_hour,omitempty"`
}

var (
	_ Pricer         = (*TimeOfDay)(nil)
	_ sim.SpotQuoter = (*TimeOfDay)(nil)
)

// Name returns "time-of-day".
func (*TimeOfDay) Name() string { return "time-of-day" }

// EnsureDefaults sets the parameters left at zero to their defaults.
func (p *TimeOfDay) EnsureDefaults() {
	p.PriceBook.EnsureDefaults()
	if p.PeakMultiplier == 0 {
		p.PeakMultiplier = 1.2
	}
	if p.OffPeakMultiplier == 0 {
		p.OffPeakMultiplier = 0.8
	}
	if p.PeakStartHour == 0 && p.PeakEndHour == 0 {
		p.PeakStartHour, p.PeakEndHour = 8, 20
	}
}

// Validate checks the parameters.
func (p *TimeOfDay) Validate() error {
	switch {
	case !(p.PeakMultiplier > 0) || !(p.OffPeakMultiplier > 0):
		return fmt.Errorf("peak_multiplier and off_peak_multiplier: must be > 0")
	case p.PeakStartHour < 0 || p.PeakEndHour > 24 || p.PeakStartHour >= p.PeakEndHour:
		return fmt.Errorf("peak_start_hour, peak_end_hour: need 0 ≤ start < end ≤ 24, got %v–%v", p.PeakStartHour, p.PeakEndHour)
	}
	return p.PriceBook.Validate()
}

// Quote returns the list price scaled for the hour of arrival.
func (p *TimeOfDay) Quote(v *sim.View, j *sim.Job) int64 {
	hour := math.Mod(v.Now().Hours(), 24)
	m := p.OffPeakMultiplier
	if hour >= p.PeakStartHour && hour < p.PeakEndHour {
		m = p.PeakMultiplier
	}
	return int64(math.Round(float64(p.List(jobType(v, j), j.Segment)) * m))
}

// SpotPrice quotes a one-GPU spot request now.
func (p *TimeOfDay) SpotPrice(v *sim.View) int64 { return p.Quote(v, &spotJob) }
