package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"

	"neosim/sim"
)

// Cycle shapes a rate over time: a daily cosine, a weekly factor and
// bursts. The shaped rate is
//
//	rate(t) = base × (1 + A·cos(2π(h − PeakHour)/24)) × week(t) × burst(t)
//
// where h is the hour of day (time 0 is Monday 00:00), week(t) is
// WeekendFactor on Saturday and Sunday and (7 − 2·WeekendFactor)/5 on
// weekdays (so the weekly mean of the first three factors is base), and
// burst(t) is the largest factor of the bursts active at t, or 1. Bursts
// raise the rate; overlapping bursts do not compound (the largest wins), so
// the rate is bounded, which thinning needs.
//
// A Cycle is used as written: a zero field means "off" (no daily cycle, no
// weekly cycle, no bursts), never a default.
type Cycle struct {
	// DiurnalAmplitude is A, in [0, 1); 0: no daily cycle.
	DiurnalAmplitude float64 `yaml:"diurnal_amplitude,omitempty" json:"diurnal_amplitude,omitempty"`
	// PeakHour is the hour of day at which the daily cycle peaks, [0, 24].
	PeakHour float64 `yaml:"peak_hour,omitempty" json:"peak_hour,omitempty"`
	// WeekendFactor scales Saturday and Sunday, in [0, 3.5); 0 means 1
	// (no weekly cycle).
	WeekendFactor float64 `yaml:"weekend_factor,omitempty" json:"weekend_factor,omitempty"`
	// Bursts are scheduled bursts (launch days, events).
	Bursts []Burst `yaml:"bursts,omitempty" json:"bursts,omitempty"`
	// BurstsPerDay is the rate of random bursts, a Poisson process of
	// start times (0: none). Each multiplies the rate by BurstFactor for
	// BurstDurationS seconds.
	BurstsPerDay   float64 `yaml:"bursts_per_day,omitempty" json:"bursts_per_day,omitempty"`
	BurstFactor    float64 `yaml:"burst_factor,omitempty" json:"burst_factor,omitempty"`
	BurstDurationS float64 `yaml:"burst_duration_s,omitempty" json:"burst_duration_s,omitempty"`
}

// Burst multiplies a rate by Factor (≥ 1) from AtS for DurationS seconds
// (time 0 is the start of the run, a Monday 00:00).
type Burst struct {
	AtS       float64 `yaml:"at_s" json:"at_s"`
	DurationS float64 `yaml:"duration_s" json:"duration_s"`
	Factor    float64 `yaml:"factor" json:"factor"`
}

// Validate checks the cycle and returns an error naming the field, such as
// "bursts[1].factor: must be ≥ 1".
func (c *Cycle) Validate() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	switch {
	case !(c.DiurnalAmplitude >= 0 && c.DiurnalAmplitude < 1):
		return fmt.Errorf("diurnal_amplitude: must be in [0, 1), got %v", c.DiurnalAmplitude)
	case !(c.PeakHour >= 0 && c.PeakHour <= 24):
		return fmt.Errorf("peak_hour: must be in [0, 24], got %v", c.PeakHour)
	case !(c.WeekendFactor >= 0 && c.WeekendFactor < 3.5):
		return fmt.Errorf("weekend_factor: must be in [0, 3.5) (0: no weekly cycle), got %v", c.WeekendFactor)
	case !(c.BurstsPerDay >= 0 && c.BurstsPerDay <= maxBurstsPerDay):
		return fmt.Errorf("bursts_per_day: must be in [0, %v], got %v", maxBurstsPerDay, c.BurstsPerDay)
	}
	if c.BurstsPerDay > 0 {
		if !(c.BurstFactor >= 1 && c.BurstFactor <= maxBurstFactor) {
			return fmt.Errorf("burst_factor: must be in [1, %v] when bursts_per_day > 0, got %v", maxBurstFactor, c.BurstFactor)
		}
		if !(c.BurstDurationS > 0) || bad(c.BurstDurationS) {
			return fmt.Errorf("burst_duration_s: must be > 0 when bursts_per_day > 0, got %v", c.BurstDurationS)
		}
	} else if c.BurstFactor != 0 || c.BurstDurationS != 0 {
		return fmt.Errorf("bursts_per_day: must be > 0 to use burst_factor and burst_duration_s")
	}
	for i, b := range c.Bursts {
		field := func(name string) string { return "bursts[" + strconv.Itoa(i) + "]." + name }
		switch {
		case !(b.AtS >= 0) || bad(b.AtS):
			return fmt.Errorf("%s: must be ≥ 0, got %v", field("at_s"), b.AtS)
		case !(b.DurationS > 0) || bad(b.DurationS):
			return fmt.Errorf("%s: must be > 0, got %v", field("duration_s"), b.DurationS)
		case !(b.Factor >= 1 && b.Factor <= maxBurstFactor):
			return fmt.Errorf("%s: must be in [1, %v], got %v", field("factor"), maxBurstFactor, b.Factor)
		}
	}
	return nil
}

// Bounds on bursts: thinning draws candidates at the largest factor, so a
// huge factor costs as many draws; a huge burst rate, as many bursts.
const (
	maxBurstFactor  = 1000.0
	maxBurstsPerDay = 1440.0 // one a minute
)

// dayOmega is the daily cycle's angular frequency, radians per second.
const dayOmega = 2 * math.Pi / 86400

// Rate is a Cycle applied to a base rate for one run: a deterministic
// function of time once its random bursts are drawn. Random burst start
// times come from the stream given to NewRate, one draw per burst, drawn
// lazily in time order, so RateAt and Integral answer the same for any
// query order. Not safe for concurrent use.
type Rate struct {
	base              float64 // weekly mean without bursts, per second
	amp, phase        float64
	weekend, weekday  float64
	sched             []burstSpan // sorted by start
	rnd               []burstSpan // random bursts drawn so far, by start
	rng               *rand.Rand  // nil: no random bursts
	rndGap, rndDur    float64     // mean gap between and length of random bursts, s
	rndFactor         float64
	rndNext           float64 // start of the next random burst, not yet in rnd
	maxFactor, maxVal float64
	constant          bool // rate(t) = base everywhere
}

type burstSpan struct{ start, end, factor float64 } // seconds, [start, end)

// NewRate returns the rate base (per second, or any unit per second) shaped
// by c, with random bursts drawn from bursts (unused if c has none). c must
// be valid.
func NewRate(base float64, c Cycle, bursts *rand.Rand) *Rate {
	r := &Rate{base: base, amp: c.DiurnalAmplitude, phase: 2 * math.Pi * c.PeakHour / 24,
		weekend: c.WeekendFactor, maxFactor: 1}
	if r.weekend == 0 {
		r.weekend = 1
	}
	r.weekday = (7 - 2*r.weekend) / 5
	for _, b := range c.Bursts {
		r.sched = append(r.sched, burstSpan{b.AtS, b.AtS + b.DurationS, b.Factor})
		r.maxFactor = max(r.maxFactor, b.Factor)
	}
	slices.SortStableFunc(r.sched, func(a, b burstSpan) int {
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})
	if c.BurstsPerDay > 0 {
		r.rng = bursts
		r.rndGap, r.rndDur, r.rndFactor = 86400/c.BurstsPerDay, c.BurstDurationS, c.BurstFactor
		r.rndNext = r.rng.ExpFloat64() * r.rndGap
		r.maxFactor = max(r.maxFactor, c.BurstFactor)
	}
	r.maxVal = base * (1 + r.amp) * max(r.weekend, r.weekday) * r.maxFactor
	r.constant = r.amp == 0 && r.weekend == 1 && r.maxFactor == 1
	return r
}

// Max returns an upper bound of the rate over all time (per second).
func (r *Rate) Max() float64 { return r.maxVal }

// Mean returns the base rate: the weekly mean without bursts (per second).
func (r *Rate) Mean() float64 { return r.base }

// At returns the rate at t (per second).
func (r *Rate) At(t sim.Time) float64 { return r.at(t.Seconds()) }

// Integral returns ∫ rate dt over [from, to): the expected number of
// events (or tokens) in the interval.
func (r *Rate) Integral(from, to sim.Time) float64 { return r.integral(from.Seconds(), to.Seconds()) }

// extend draws random bursts until every burst starting at or before t is
// known.
func (r *Rate) extend(t float64) {
	for r.rng != nil && r.rndNext <= t {
		r.rnd = append(r.rnd, burstSpan{r.rndNext, r.rndNext + r.rndDur, r.rndFactor})
		r.rndNext += r.rng.ExpFloat64() * r.rndGap
	}
}

// week returns the weekly factor at t seconds.
func (r *Rate) week(t float64) float64 {
	if math.Mod(math.Floor(t/86400), 7) >= 5 {
		return r.weekend
	}
	return r.weekday
}

// burst returns the largest factor of the bursts active at t, or 1.
func (r *Rate) burst(t float64) float64 {
	f := 1.0
	for _, b := range r.sched {
		if b.start > t {
			break
		}
		if t < b.end {
			f = max(f, b.factor)
		}
	}
	if r.rng != nil {
		r.extend(t)
		// Random bursts all last rndDur: the active ones are the last few
		// started at or before t.
		i := sort.Search(len(r.rnd), func(i int) bool { return r.rnd[i].start > t })
		for i--; i >= 0 && r.rnd[i].end > t; i-- {
			f = max(f, r.rnd[i].factor)
		}
	}
	return f
}

func (r *Rate) at(t float64) float64 {
	if r.constant {
		return r.base
	}
	return r.base * (1 + r.amp*math.Cos(dayOmega*t-r.phase)) * r.week(t) * r.burst(t)
}

// integral integrates piecewise: the weekly and burst factors are constant
// between day boundaries and burst edges, and the cosine integrates in
// closed form.
func (r *Rate) integral(a, b float64) float64 {
	if !(b > a) {
		return 0
	}
	if r.constant {
		return r.base * (b - a)
	}
	r.extend(b)
	cuts := []float64{a, b}
	for d := math.Floor(a/86400)*86400 + 86400; d < b; d += 86400 {
		cuts = append(cuts, d)
	}
	edges := func(s []burstSpan) {
		for _, x := range s {
			if x.start < b && x.end > a {
				cuts = append(cuts, max(a, x.start), min(b, x.end))
			}
		}
	}
	edges(r.sched)
	edges(r.rnd)
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	var sum float64
	for i := 1; i < len(cuts); i++ {
		x, y := cuts[i-1], cuts[i]
		mid := x + (y-x)/2
		cyc := (y - x) + r.amp/dayOmega*(math.Sin(dayOmega*y-r.phase)-math.Sin(dayOmega*x-r.phase))
		sum += r.week(mid) * r.burst(mid) * cyc
	}
	return r.base * sum
}

// Arrivals is a non-homogeneous Poisson arrival process: RatePerHour
// shaped by a Cycle, sampled by thinning (Lewis & Shedler 1979): candidate
// times at the rate's upper bound, each kept with probability rate(t)/bound.
type Arrivals struct {
	// RatePerHour is the weekly mean arrival rate without bursts, per hour.
	RatePerHour float64 `yaml:"rate_per_hour" json:"rate_per_hour"`
	Cycle       `yaml:",inline"`
}

// Validate checks the process and returns an error naming the field.
func (a *Arrivals) Validate() error {
	if !(a.RatePerHour > 0) || math.IsInf(a.RatePerHour, 0) {
		return fmt.Errorf("rate_per_hour: must be > 0, got %v", a.RatePerHour)
	}
	return a.Cycle.Validate()
}

// Process returns the arrival process of a run. Its arrival times come from
// the stream (seed, component, 1) and its random bursts from (seed,
// component, 2): a caller keeps its job shapes on (seed, component, 0) so
// that they do not depend on the rates (common random numbers).
func (a *Arrivals) Process(seed uint64, component string) (*ArrivalProcess, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	r := NewRate(a.RatePerHour/3600, a.Cycle, sim.Stream(seed, component, 2))
	return &ArrivalProcess{rate: r, rng: sim.Stream(seed, component, 1), bound: r.Max()}, nil
}

// ArrivalProcess draws the arrival times of one run.
type ArrivalProcess struct {
	rate  *Rate
	rng   *rand.Rand
	bound float64 // per second
	t     float64 // seconds: the last arrival
	done  bool
}

// RateAt returns the arrival rate at t, per hour.
func (p *ArrivalProcess) RateAt(t sim.Time) float64 { return 3600 * p.rate.At(t) }

// Expected returns the expected number of arrivals in [from, to).
func (p *ArrivalProcess) Expected(from, to sim.Time) float64 { return p.rate.Integral(from, to) }

// Rate returns the process's rate function (per second).
func (p *ArrivalProcess) Rate() *Rate { return p.rate }

// Next returns the next arrival time, or false once it would be at or after
// until. A constant rate takes one draw per arrival; a shaped one takes two
// per candidate, from the process's own stream only.
func (p *ArrivalProcess) Next(until sim.Time) (sim.Time, bool) {
	if p.done {
		return 0, false
	}
	gap := 1 / p.bound
	for {
		p.t += p.rng.ExpFloat64() * gap
		at := sim.FromSeconds(p.t)
		if at >= until {
			p.done = true
			return 0, false
		}
		if p.rate.constant || p.rng.Float64()*p.bound < p.rate.at(p.t) {
			return at, true
		}
	}
}
