package workloads

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"neosim/sim"
)

// chiSquareArrivals bins the arrivals of p over [0, horizon) in bins of
// width and returns Pearson's statistic against the integrated rate, its
// degrees of freedom (one per bin: the expected counts are not fitted) and
// p-value; flat replaces the expectation by the mean count per bin (a wrong
// model, for the test's power).
func chiSquareArrivals(t *testing.T, p *ArrivalProcess, horizon, width sim.Time, flat bool) (stat float64, df int, pv float64) {
	t.Helper()
	n := int(horizon / width)
	obs := make([]float64, n)
	total := 0
	for {
		at, ok := p.Next(horizon)
		if !ok {
			break
		}
		obs[at/width]++
		total++
	}
	for i := range obs {
		e := p.Expected(sim.Time(i)*width, sim.Time(i+1)*width)
		if flat {
			e = float64(total) / float64(n)
		}
		if e < 5 {
			t.Fatalf("bin %d expects %.2f < 5 arrivals: widen the bins", i, e)
		}
		stat += (obs[i] - e) * (obs[i] - e) / e
	}
	return stat, n, distuv.ChiSquared{K: float64(n)}.Survival(stat)
}

// TestArrivalsChiSquare: 28 days of a daily and weekly cycle, hourly
// counts against the integrated rate. α = 0.001.
func TestArrivalsChiSquare(t *testing.T) {
	a := Arrivals{RatePerHour: 120, Cycle: Cycle{DiurnalAmplitude: 0.5, PeakHour: 15, WeekendFactor: 0.5}}
	for _, seed := range []uint64{1, 2} {
		p, err := a.Process(seed, "test/cycle")
		if err != nil {
			t.Fatal(err)
		}
		stat, df, pv := chiSquareArrivals(t, p, 28*sim.Day, sim.Hour, false)
		t.Logf("seed %d: χ² = %.1f, df = %d, p = %.3f", seed, stat, df, pv)
		if pv < 0.001 {
			t.Errorf("seed %d: arrivals do not follow the rate: χ² = %.1f, df = %d, p = %.2g", seed, stat, df, pv)
		}
	}
	// Power: the same counts against a flat rate are rejected.
	p, _ := a.Process(1, "test/cycle")
	if stat, df, pv := chiSquareArrivals(t, p, 28*sim.Day, sim.Hour, true); pv > 1e-9 {
		t.Errorf("a flat model is not rejected: χ² = %.1f, df = %d, p = %.2g", stat, df, pv)
	}
}

// TestArrivalsBurst: a scheduled launch-day burst and random bursts, in
// 15-minute bins over 14 days.
func TestArrivalsBurst(t *testing.T) {
	launch := Burst{AtS: (2*24 + 6) * 3600, DurationS: 4 * 3600, Factor: 5}
	a := Arrivals{RatePerHour: 60, Cycle: Cycle{DiurnalAmplitude: 0.3, PeakHour: 14,
		Bursts: []Burst{launch}, BurstsPerDay: 0.5, BurstFactor: 3, BurstDurationS: 7200}}
	p, err := a.Process(7, "test/burst")
	if err != nil {
		t.Fatal(err)
	}
	at := sim.FromSeconds(launch.AtS + 60)
	a0 := a
	a0.Bursts, a0.BurstsPerDay, a0.BurstFactor, a0.BurstDurationS = nil, 0, 0, 0
	p0, _ := a0.Process(7, "test/burst")
	// Random bursts (×3) never exceed the launch (×5): max, not product.
	if got, want := p.RateAt(at), 5*p0.RateAt(at); math.Abs(got-want) > 1e-9*want {
		t.Errorf("RateAt in the launch = %v, want 5 × %v", got, want/5)
	}
	stat, df, pv := chiSquareArrivals(t, p, 14*sim.Day, 15*sim.Minute, false)
	t.Logf("bursts: χ² = %.1f, df = %d, p = %.3f (%d random bursts)", stat, df, pv, len(p.rate.rnd))
	if pv < 0.001 {
		t.Errorf("bursty arrivals do not follow the rate: χ² = %.1f, df = %d, p = %.2g", stat, df, pv)
	}
	if n := len(p.rate.rnd); n < 2 || n > 20 {
		t.Errorf("%d random bursts in 14 days at 0.5/day", n)
	}
	// The launch window alone: its count is within 4 sd of the expected.
	q, _ := a.Process(7, "test/burst")
	from, to := sim.FromSeconds(launch.AtS), sim.FromSeconds(launch.AtS+launch.DurationS)
	var n float64
	for {
		at, ok := q.Next(to)
		if !ok {
			break
		}
		if at >= from {
			n++
		}
	}
	e := q.Expected(from, to)
	if e < 4.5*60*0.7*4 || math.Abs(n-e) > 4*math.Sqrt(e) {
		t.Errorf("launch window: %v arrivals, expected %.1f", n, e)
	}
}

// TestRateIntegral: Integral matches a fine numerical quadrature of At,
// and the weekly mean of the cycle is the base rate.
func TestRateIntegral(t *testing.T) {
	c := Cycle{DiurnalAmplitude: 0.6, PeakHour: 20, WeekendFactor: 1.7,
		Bursts:       []Burst{{AtS: 100000, DurationS: 50000, Factor: 2}, {AtS: 120000, DurationS: 1000, Factor: 4}},
		BurstsPerDay: 1, BurstFactor: 1.5, BurstDurationS: 20000}
	r := NewRate(2, c, sim.Stream(3, "test/integral", 2))
	for _, iv := range [][2]sim.Time{{0, 7 * sim.Day}, {90000 * sim.Second, 200000 * sim.Second}, {5*sim.Day + 3*sim.Hour, 6*sim.Day + 17*sim.Hour}} {
		const steps = 200000
		h := (iv[1] - iv[0]).Seconds() / steps
		var num float64
		for i := range steps {
			num += r.At(iv[0]+sim.FromSeconds((float64(i)+0.5)*h)) * h
		}
		if got := r.Integral(iv[0], iv[1]); math.Abs(got-num) > 1e-3*num {
			t.Errorf("Integral(%v, %v) = %.2f, quadrature %.2f", iv[0], iv[1], got, num)
		}
	}
	flat := NewRate(2, Cycle{DiurnalAmplitude: 0.6, PeakHour: 20, WeekendFactor: 1.7}, nil)
	if got, want := flat.Integral(3*sim.Day, 10*sim.Day), 2*7*86400.0; math.Abs(got-want) > 1e-9*want {
		t.Errorf("weekly integral = %v, want base × week = %v", got, want)
	}
	if r.Max() < r.At(sim.FromSeconds(120500)) {
		t.Errorf("Max %v below the rate in a burst %v", r.Max(), r.At(sim.FromSeconds(120500)))
	}
}

// TestArrivalsDeterminism: a seed gives the same arrival times; another
// seed does not. A constant rate takes one draw per arrival.
func TestArrivalsDeterminism(t *testing.T) {
	a := Arrivals{RatePerHour: 30, Cycle: Cycle{DiurnalAmplitude: 0.4, BurstsPerDay: 1, BurstFactor: 2, BurstDurationS: 3600}}
	times := func(seed uint64) []sim.Time {
		p, _ := a.Process(seed, "test/det")
		var out []sim.Time
		for {
			at, ok := p.Next(3 * sim.Day)
			if !ok {
				return out
			}
			if len(out) > 0 && at < out[len(out)-1] {
				t.Fatalf("arrival times decrease: %v after %v", at, out[len(out)-1])
			}
			out = append(out, at)
		}
	}
	x, y, z := times(1), times(1), times(2)
	if len(x) == 0 || len(x) != len(y) {
		t.Fatalf("same seed, %d vs %d arrivals", len(x), len(y))
	}
	for i := range x {
		if x[i] != y[i] {
			t.Fatalf("same seed, arrival %d at %v vs %v", i, x[i], y[i])
		}
	}
	if len(z) == len(x) && z[0] == x[0] {
		t.Errorf("seeds 1 and 2 give the same arrivals")
	}
}

func TestCycleValidate(t *testing.T) {
	for _, tc := range []struct {
		c    Cycle
		want string
	}{
		{Cycle{DiurnalAmplitude: 1}, "diurnal_amplitude"},
		{Cycle{PeakHour: 25}, "peak_hour"},
		{Cycle{WeekendFactor: 3.5}, "weekend_factor"},
		{Cycle{BurstsPerDay: -1}, "bursts_per_day"},
		{Cycle{BurstsPerDay: 1, BurstFactor: 0.5, BurstDurationS: 1}, "burst_factor"},
		{Cycle{BurstsPerDay: 1, BurstFactor: 2}, "burst_duration_s"},
		{Cycle{BurstFactor: 2}, "bursts_per_day"},
		{Cycle{Bursts: []Burst{{AtS: 0, DurationS: 1, Factor: 2}, {AtS: -1, DurationS: 1, Factor: 2}}}, "bursts[1].at_s"},
		{Cycle{Bursts: []Burst{{AtS: 0, DurationS: 0, Factor: 2}}}, "bursts[0].duration_s"},
		{Cycle{Bursts: []Burst{{AtS: 0, DurationS: 1, Factor: 0.9}}}, "bursts[0].factor"},
	} {
		err := tc.c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want+":") {
			t.Errorf("%+v: error %v, want one naming %s", tc.c, err, tc.want)
		}
	}
	if err := (&Arrivals{}).Validate(); err == nil || !strings.HasPrefix(err.Error(), "rate_per_hour:") {
		t.Errorf("zero rate: %v", err)
	}
}
