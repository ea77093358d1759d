package runner

import (
	"fmt"
	"path/filepath"
	"testing"

	"neosim/policies"
	"neosim/results"
	"neosim/scenario"
	"neosim/sim"
)

// withFailures is the default scenario cut to horizon with its node
// failures on: the counterfactual's failures are the engine's own stream,
// which a pricer must not touch either.
func withFailures(t *testing.T, horizon sim.Time) *scenario.Scenario {
	t.Helper()
	s := defaultFor(t, horizon)
	s.Failures = &scenario.Failures{Enabled: true}
	return s
}

// TestCounterfactualIgnoresThePricer is the premise of Counterfactuals:
// every registered pricer, at two price levels, gives a run whose
// counterfactual measures are exactly the flat pricer's.
func TestCounterfactualIgnoresThePricer(t *testing.T) {
	var want *results.Counterfactual
	for _, p := range policies.Pricers.Names() {
		for _, m := range []float64{1, 1.4} {
			s := withFailures(t, 3*sim.Day)
			s.Pricer, s.PricerParams = p, map[string]any{"multiplier": m}
			res, err := Run(s, Options{Out: filepath.Join(t.TempDir(), "out"), Outputs: results.OutSummary})
			if err != nil {
				t.Fatalf("%s ×%v: %v", p, m, err)
			}
			c := res.Summary.Counterfactual
			if c == nil || c.Self {
				t.Fatalf("%s ×%v: no counterfactual of its own (%+v)", p, m, c)
			}
			if res.Summary.NodeFailures == 0 {
				t.Fatalf("%s ×%v: no node failed; the test needs failures", p, m)
			}
			if want == nil {
				want = c
				continue
			}
			if *c != *want {
				t.Errorf("%s ×%v: counterfactual %+v; the first pricer's %+v", p, m, *c, *want)
			}
		}
	}
}

// TestSharedCounterfactuals: runs given one Counterfactuals simulate one
// counterfactual per seed and allocator, and their summaries are those of
// runs that simulate their own; a run writing a jobs file still simulates
// its own (it needs the per-job waits).
func TestSharedCounterfactuals(t *testing.T) {
	cache := NewCounterfactuals()
	dir := t.TempDir()
	n := 0
	run := func(alloc, pricer string, m float64, seed uint64, shared bool, out results.Outputs) results.Summary {
		t.Helper()
		s := withFailures(t, 2*sim.Day)
		s.Allocator, s.Pricer, s.Seed = alloc, pricer, seed
		s.AllocatorParams, s.PricerParams = nil, map[string]any{"multiplier": m}
		opt := Options{Out: filepath.Join(dir, fmt.Sprint(n)), Outputs: out}
		n++
		if shared {
			opt.Counterfactuals = cache
		}
		res, err := Run(s, opt)
		if err != nil {
			t.Fatal(err)
		}
		return res.Summary
	}
	for _, seed := range []uint64{1, 2} {
		for _, p := range []string{"flat", "utilization"} {
			for _, m := range []float64{0.8, 1.2} {
				got := run("priority", p, m, seed, true, results.OutSummary)
				want := run("priority", p, m, seed, false, results.OutSummary)
				if a, b := printed(got), printed(want); a != b {
					t.Errorf("seed %d %s ×%v: shared counterfactual\n%s\nits own\n%s", seed, p, m, a, b)
				}
			}
		}
	}
	if cache.started != 2 {
		t.Errorf("%d counterfactuals simulated for 2 seeds of one allocator, want 2", cache.started)
	}
	run("fifo", "flat", 1, 1, true, results.OutSummary)
	if cache.started != 3 {
		t.Errorf("another allocator: %d counterfactuals in all, want 3", cache.started)
	}
	run("fifo", "flat", 1, 3, true, results.AllOutputs)
	if cache.started != 3 {
		t.Errorf("a run with a jobs file shared its counterfactual (%d in the cache, want 3)", cache.started)
	}
}
