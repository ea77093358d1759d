package policies

import (
	"fmt"
	"math"
	"sort"

	"neosim/sim"
)

func init() {
	Pricers.Register("reserved-discount", "reserved contracts discounted by term (longer terms, bigger discounts); other segments at list", func() Pricer { return &ReservedDiscount{} })
}

// Term is one step of a term-discount schedule: contracts of at least
// MinDays get Discount off the on-demand list price.
type Term struct {
	MinDays  float64 `yaml:"min_days"`
	Discount float64 `yaml:"discount"`
}

// ReservedDiscount prices a reserved contract (a reserved-segment job whose
// work is the term) at on-demand list less the discount of the longest term
// it reaches; other segments pay the PriceBook list price. Default schedule,
// from ../shared/calibration/SOURCES.md §1: 1 year 41% (the H100 1-yr
// contract index 2.35 against the 3.99 list, §1b [D]; 1-yr −30 to −45%),
// 3 years 56% (AWS p5 3-yr, §1a; 3-yr −50 to −60%); shorter terms [U]: 1 month 10%, 3 months
// 20%. A contract shorter than every term pays list.
type ReservedDiscount struct {
	PriceBook `yaml:",inline"`
	Terms     []Term `yaml:"terms,omitempty"`
}

var (
	_ Pricer         = (*ReservedDiscount)(nil)
	_ sim.SpotQuoter = (*ReservedDiscount)(nil)
)

// Name returns "reserved-discount".
func (*ReservedDiscount) Name() string { return "reserved-discount" }

// EnsureDefaults sets the default schedule if none is given and sorts the
// terms.
func (p *ReservedDiscount) EnsureDefaults() {
	p.PriceBook.EnsureDefaults()
	if p.Terms == nil {
		p.Terms = []Term{{30, 0.10}, {90, 0.20}, {365, DefaultReservedDiscount}, {1095, 0.56}}
	}
	sort.Slice(p.Terms, func(a, b int) bool { return p.Terms[a].MinDays < p.Terms[b].MinDays })
}

// Validate checks the schedule.
func (p *ReservedDiscount) Validate() error {
	for i, t := range p.Terms {
		if !(t.MinDays >= 0) || math.IsInf(t.MinDays, 0) {
			return fmt.Errorf("terms[%d].min_days: must be ≥ 0, got %v", i, t.MinDays)
		}
		if !(t.Discount >= 0) || t.Discount >= 1 {
			return fmt.Errorf("terms[%d].discount: must be in [0, 1), got %v", i, t.Discount)
		}
	}
	return p.PriceBook.Validate()
}

// Quote returns the term-discounted price for reserved contracts.
func (p *ReservedDiscount) Quote(v *sim.View, j *sim.Job) int64 {
	t := jobType(v, j)
	if j.Segment != sim.SegReserved {
		return p.List(t, j.Segment)
	}
	discount := 0.0
	days := j.Work.Hours() / 24
	for _, term := range p.Terms {
		if days >= term.MinDays {
			discount = term.Discount
		}
	}
	return int64(math.Round(float64(p.List(t, sim.SegOnDemand)) * (1 - discount)))
}

// SpotPrice quotes a one-GPU spot request now (spot pays list).
func (p *ReservedDiscount) SpotPrice(v *sim.View) int64 { return p.Quote(v, &spotJob) }
