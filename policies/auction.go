package policies

import (
	"fmt"
	"math"
	"slices"

	"neosim/sim"
)

func init() {
	Pricers.Register("auction", "uniform-price spot auction: waiting spot bids cleared against free GPUs every interval; other segments at list", func() Pricer { return &Auction{} })
}

// Auction runs a uniform-price spot auction, as interruptible markets do
// (Vast.ai: "highest bid runs", ../shared/calibration/SOURCES.md §1b). Every
// IntervalS seconds (when the engine updates the pricer, sim.Updater, at
// simulated times 0, IntervalS, 2·IntervalS, …) it clears: supply is the fleet's free GPUs; bids are the
// spot jobs waiting in the queue, each bidding its willingness to pay per
// GPU-hour for its GPUs. Taking bids from the highest down, the price is
// the highest bid that no longer fits in the supply (every winner pays the
// same price, the first loser's bid), and never below the reserve price
// (ReserveRatio × on-demand list). An arriving spot job is quoted the
// last clearing price; reading it (a quote, a sample) changes nothing.
// Other segments pay the PriceBook list price.
// Defaults [U]: ReserveRatio 0.10 (spot "up to 90%" off, §1c), IntervalS 300.
type Auction struct {
	PriceBook    `yaml:",inline"`
	ReserveRatio float64 `yaml:"reserve_ratio,omitempty"`
	IntervalS    float64 `yaml:"interval_s,omitempty"`

	ratio float64 // clearing price as a fraction of on-demand list, set by Update
	bids  []bid
}

type bid struct {
	ratio float64 // willingness to pay / on-demand list of its type
	gpus  float64
}

var (
	_ Pricer         = (*Auction)(nil)
	_ sim.Updater    = (*Auction)(nil)
	_ sim.SpotQuoter = (*Auction)(nil)
)

// Name returns "auction".
func (*Auction) Name() string { return "auction" }

// EnsureDefaults sets the parameters left at zero to their defaults.
func (p *Auction) EnsureDefaults() {
	p.PriceBook.EnsureDefaults()
	if p.ReserveRatio == 0 {
		p.ReserveRatio = 0.10
	}
	if p.IntervalS == 0 {
		p.IntervalS = 300
	}
}

// Validate checks the parameters.
func (p *Auction) Validate() error {
	if !(p.ReserveRatio > 0) || p.ReserveRatio > 10 {
		return fmt.Errorf("reserve_ratio: must be in (0, 10], got %v", p.ReserveRatio)
	}
	if !(p.IntervalS > 0) {
		return fmt.Errorf("interval_s: must be > 0, got %v", p.IntervalS)
	}
	return p.PriceBook.Validate()
}

// UpdateInterval returns IntervalS: the engine clears the auction that
// often.
func (p *Auction) UpdateInterval() sim.Time { return sim.FromSeconds(p.IntervalS) }

// Update clears the auction: it recomputes the clearing price from the
// queue and the free GPUs.
// Prices are compared as fractions of each bid's on-demand list price, so
// bids for different GPU types compete on one scale.
func (p *Auction) Update(v *sim.View) {
	f := v.Fleet()
	var supply float64
	for _, t := range f.Types() {
		supply += float64(f.WhollyFreeGPUs(t))
	}
	p.bids = p.bids[:0]
	for _, id := range v.Queue() {
		j := v.Job(id)
		if j.Segment != sim.SegSpot || j.WTPMicroUSD <= 0 {
			continue
		}
		list := float64(p.List(jobType(v, j), sim.SegOnDemand))
		p.bids = append(p.bids, bid{ratio: float64(j.WTPMicroUSD) / list, gpus: float64(j.GPUs) * float64(j.Milli) / 1000})
	}
	slices.SortFunc(p.bids, func(a, b bid) int {
		switch {
		case a.ratio > b.ratio:
			return -1
		case a.ratio < b.ratio:
			return 1
		}
		return 0
	})
	p.ratio = p.ReserveRatio
	for _, b := range p.bids {
		if b.gpus > supply {
			p.ratio = max(p.ReserveRatio, b.ratio)
			break
		}
		supply -= b.gpus
	}
}

// Quote returns the last clearing price for spot jobs, list for others.
func (p *Auction) Quote(v *sim.View, j *sim.Job) int64 {
	t := jobType(v, j)
	if j.Segment != sim.SegSpot {
		return p.List(t, j.Segment)
	}
	return int64(math.Round(float64(p.List(t, sim.SegOnDemand)) * p.ratio))
}

// SpotPrice quotes a one-GPU spot request now.
func (p *Auction) SpotPrice(v *sim.View) int64 { return p.Quote(v, &spotJob) }
