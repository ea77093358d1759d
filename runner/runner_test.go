package runner

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"neosim/scenario"
	"neosim/sim"
)

func defaultFor(t *testing.T, horizon sim.Time) *scenario.Scenario {
	t.Helper()
	s := scenario.Default()
	s.Horizon = scenario.Duration(horizon)
	s.Failures = nil
	return s
}

// TestElasticity: raising the list price never raises the accepted
// on-demand demand (same seed, so the same customers), and the highest
// multiplier's acceptance rate is below the lowest's by more than 4
// standard errors of the difference of two binomial proportions.
func TestElasticity(t *testing.T) {
	prev := int64(math.MaxInt64)
	var rates []float64
	var n float64
	for _, m := range []float64{0.5, 0.8, 1, 1.25, 1.6, 2.5} {
		s := defaultFor(t, 3*sim.Day)
		s.PricerParams = map[string]any{"multiplier": m}
		res, err := Run(s, Options{Out: filepath.Join(t.TempDir(), "out"), NoCounterfactual: true})
		if err != nil {
			t.Fatal(err)
		}
		row := res.Stats.Jobs[sim.SegOnDemand]
		var arrived int64
		for _, k := range row {
			arrived += k
		}
		accepted := arrived - row[sim.Declined]
		t.Logf("price × %.2f: %d of %d on-demand requests accepted, external revenue $%.0f", m, accepted, arrived, res.Summary.Econ.ExternalRevenueUSD)
		if accepted > prev {
			t.Errorf("price × %.2f: %d accepted, more than %d at a lower price", m, accepted, prev)
		}
		prev = accepted
		rates = append(rates, float64(accepted)/float64(arrived))
		n = float64(arrived)
	}
	lo, hi := rates[0], rates[len(rates)-1]
	se := math.Sqrt(lo*(1-lo)/n + hi*(1-hi)/n)
	if !(lo-hi > 4*se) {
		t.Errorf("acceptance %.3f at × 0.5 and %.3f at × 2.5: a difference of %.3f, want more than 4 standard errors (%.3f)", lo, hi, lo-hi, 4*se)
	}
}

// TestRevenueAddsUp: on the default scenario, the ledger's revenue per
// segment equals Σ jobs.revenue_usd of that segment, costs add up to the
// total, and margins follow from them.
func TestRevenueAddsUp(t *testing.T) {
	s := defaultFor(t, 2*sim.Day)
	res, err := Run(s, Options{Out: filepath.Join(t.TempDir(), "out")})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Summary.Econ
	var ext float64
	for seg := sim.SegOnDemand; seg < sim.NumSegments; seg++ {
		ext += r.Segments[seg].RevenueUSD
	}
	if math.Abs(ext-r.ExternalRevenueUSD) > 1e-6 || math.Abs(r.ExternalRevenueUSD-res.Summary.ExternalRevenueUSD) > 1e-6*r.ExternalRevenueUSD {
		t.Errorf("segments sum to $%.6f; ledger says $%.6f; jobs.arrow says $%.6f", ext, r.ExternalRevenueUSD, res.Summary.ExternalRevenueUSD)
	}
	tot := r.Total
	if d := tot.Capex + tot.Datacenter + tot.Overhead + tot.Power - r.External.Direct() - r.Internal.Direct(); math.Abs(d) > 1e-6*tot.Direct() {
		t.Errorf("external + internal direct cost misses the total by $%v", d)
	}
	if want := (r.ExternalRevenueUSD - r.External.Direct()) / r.ExternalRevenueUSD; math.Abs(r.GrossMargin-want) > 1e-12 {
		t.Errorf("gross margin %v, want %v", r.GrossMargin, want)
	}
	if r.ExternalRevenueUSD <= 0 || r.Segments[sim.SegServing].RevenueUSD <= 0 || r.Segments[sim.SegSpot].RevenueUSD <= 0 {
		t.Errorf("the default scenario should earn from every external segment: %+v", r.Segments)
	}
}

func TestBadScenarioValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *scenario.Scenario)
		want string
	}{
		{"negative price multiplier", func(s *scenario.Scenario) { s.PricerParams = map[string]any{"multiplier": -1} }, "multiplier: must be > 0"},
		{"discount above 100%", func(s *scenario.Scenario) { s.PricerParams = map[string]any{"reserved_discount": 1.5} }, "reserved_discount"},
		{"negative electricity price", func(s *scenario.Scenario) { s.Cost.USDPerKWh = -0.1 }, "usd_per_kwh"},
		{"unknown allocator", func(s *scenario.Scenario) { s.Allocator = "magic" }, `unknown allocator "magic"`},
	} {
		s := defaultFor(t, sim.Day)
		tc.edit(s)
		out := filepath.Join(t.TempDir(), "out")
		if _, err := Run(s, Options{Out: out}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct{ yaml, want string }{
		{"external_demand: {segments: [{segment: moon}]}\n", "segment"},
		{"external_demand: {segments: [{segment: on-demand, list_usd_per_hour: -3}]}\n", "list_usd_per_hour"},
		{"external_demand: {segments: [{segment: reserved, discount: \"uniform:1.1:1.2\"}]}\n", "discount"},
	} {
		s, err := scenario.Parse("t.yaml", []byte("fleet: {spec: 8x8xH100}\nhorizon: 1d\n"+tc.yaml))
		if err == nil {
			err = s.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error about %q", tc.yaml, err, tc.want)
		}
	}
}
