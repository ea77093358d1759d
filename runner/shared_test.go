package runner

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"neosim/policies"
	"neosim/results"
	"neosim/scenario"
	"neosim/sim"
	"neosim/workloads"
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

func mustDist(t *testing.T, spec string) workloads.Dist {
	t.Helper()
	d, err := workloads.ParseDist(spec)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCounterfactualIgnoresPricerAndDemand is the premise of
// Counterfactuals: every registered pricer, at two price levels, and
// other external demand (one segment instead of the default four, with an
// external Poisson workload listed before an internal one) give runs
// whose counterfactual measures are exactly the first's.
func TestCounterfactualIgnoresPricerAndDemand(t *testing.T) {
	var want *results.Counterfactual
	type variant struct {
		pricer string
		m      float64
		demand bool // other external demand
	}
	var vs []variant
	for _, p := range policies.Pricers.Names() {
		vs = append(vs, variant{p, 1, false}, variant{p, 1.4, false})
	}
	vs = append(vs, variant{"flat", 1, true})
	for _, v := range vs {
		s := withFailures(t, 3*sim.Day)
		s.Pricer, s.PricerParams = v.pricer, map[string]any{"multiplier": v.m}
		s.Workloads = []workloads.Poisson{{Name: "research", Segment: "internal", RatePerHour: 20, GPUs: mustDist(t, "const:2"), Duration: mustDist(t, "const:3600")}}
		if v.demand {
			s.ExternalDemand = &workloads.External{Segments: []workloads.ExternalSegment{{Segment: "spot", RatePerHour: 300}}}
			s.Workloads = append([]workloads.Poisson{{Name: "burst", Segment: "on-demand", RatePerHour: 50, GPUs: mustDist(t, "const:8"), Duration: mustDist(t, "const:7200")}}, s.Workloads...)
		}
		res, err := Run(s, Options{Out: filepath.Join(t.TempDir(), "out"), Outputs: results.OutSummary})
		if err != nil {
			t.Fatalf("%+v: %v", v, err)
		}
		c := res.Summary.Counterfactual
		if c == nil || c.Self {
			t.Fatalf("%+v: no counterfactual of its own (%+v)", v, c)
		}
		if res.Summary.NodeFailures == 0 {
			t.Fatalf("%+v: no node failed; the test needs failures", v)
		}
		if want == nil {
			want = c
			continue
		}
		if *c != *want {
			t.Errorf("%+v: counterfactual %+v; the first run's %+v", v, *c, *want)
		}
	}
}

// TestSharedCounterfactuals: runs given one Counterfactuals simulate one
// counterfactual per seed and allocator, whatever their pricer, price
// level and external demand, and their summaries are those of runs that
// simulate their own. Runs that write a jobs file share one that keeps its
// per-job waits, and their files are byte-identical to those of runs with
// their own.
func TestSharedCounterfactuals(t *testing.T) {
	cache := NewCounterfactuals()
	dir := t.TempDir()
	n := 0
	// spot > 0: external demand of one spot segment at that rate per hour
	// instead of the default segments.
	var lastOut string
	run := func(alloc, pricer string, m, spot float64, seed uint64, shared bool, out results.Outputs) results.Summary {
		t.Helper()
		s := withFailures(t, 2*sim.Day)
		s.Allocator, s.Pricer, s.Seed = alloc, pricer, seed
		s.AllocatorParams, s.PricerParams = nil, map[string]any{"multiplier": m}
		if spot > 0 {
			s.ExternalDemand = &workloads.External{Segments: []workloads.ExternalSegment{{Segment: "spot", RatePerHour: spot}}}
		}
		lastOut = filepath.Join(dir, fmt.Sprint(n))
		opt := Options{Out: lastOut, Outputs: out}
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
				for _, spot := range []float64{0, 300} {
					got := run("priority", p, m, spot, seed, true, results.OutSummary)
					want := run("priority", p, m, spot, seed, false, results.OutSummary)
					if a, b := printed(got), printed(want); a != b {
						t.Errorf("seed %d %s ×%v spot %v/h: shared counterfactual\n%s\nits own\n%s", seed, p, m, spot, a, b)
					}
				}
			}
		}
	}
	if cache.started != 2 {
		t.Errorf("%d counterfactuals simulated for 2 seeds of one allocator, want 2", cache.started)
	}
	run("fifo", "flat", 1, 0, 1, true, results.OutSummary)
	if cache.started != 3 {
		t.Errorf("another allocator: %d counterfactuals in all, want 3", cache.started)
	}
	for _, p := range []string{"flat", "utilization"} {
		run("priority", p, 1, 0, 1, true, results.AllOutputs)
		got := readOutput(t, filepath.Join(lastOut, "jobs.arrow"))
		run("priority", p, 1, 0, 1, false, results.AllOutputs)
		if want := readOutput(t, filepath.Join(lastOut, "jobs.arrow")); !bytes.Equal(got, want) {
			t.Errorf("%s: jobs.arrow with a shared counterfactual differs from the run's own", p)
		}
	}
	if cache.started != 4 {
		t.Errorf("runs with jobs files, two pricers: %d counterfactuals in all, want 4 (one more, which keeps its waits)", cache.started)
	}
	// Over the tables' budget, a run with a jobs file simulates its own,
	// and its file is the same.
	cache.budget = 0
	run("priority", "flat", 1, 0, 2, true, results.AllOutputs)
	got := readOutput(t, filepath.Join(lastOut, "jobs.arrow"))
	run("priority", "flat", 1, 0, 2, true, results.AllOutputs)
	if want := readOutput(t, filepath.Join(lastOut, "jobs.arrow")); !bytes.Equal(got, want) {
		t.Errorf("over budget: the two runs' jobs.arrow differ")
	}
	if cache.started != 6 {
		t.Errorf("over budget: %d counterfactuals in all, want 6 (one per run)", cache.started)
	}
}

// TestCounterfactualKey: the key ignores what a counterfactual never reads
// (the pricer, its parameters, external demand and external workloads) and
// changes with what it does.
func TestCounterfactualKey(t *testing.T) {
	internal := workloads.Poisson{Name: "research", Segment: "internal", RatePerHour: 20, GPUs: mustDist(t, "const:2"), Duration: mustDist(t, "const:3600")}
	external := workloads.Poisson{Name: "burst", Segment: "on-demand", RatePerHour: 50, GPUs: mustDist(t, "const:8"), Duration: mustDist(t, "const:7200")}
	base := func() *scenario.Scenario {
		s := withFailures(t, 2*sim.Day)
		s.Workloads = []workloads.Poisson{internal}
		s.EnsureDefaults()
		return s
	}
	key := func(s *scenario.Scenario) [32]byte {
		t.Helper()
		k, err := counterfactualKey(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	want := key(base())
	for name, change := range map[string]func(*scenario.Scenario){
		"pricer":          func(s *scenario.Scenario) { s.Pricer = "utilization" },
		"price level":     func(s *scenario.Scenario) { s.PricerParams = map[string]any{"multiplier": 1.4} },
		"external demand": func(s *scenario.Scenario) { s.ExternalDemand = &workloads.External{Name: "other"} },
		"external workload": func(s *scenario.Scenario) {
			s.Workloads = append([]workloads.Poisson{external}, s.Workloads...)
		},
	} {
		s := base()
		change(s)
		if key(s) != want {
			t.Errorf("%s changes the key", name)
		}
	}
	for name, change := range map[string]func(*scenario.Scenario){
		"seed":              func(s *scenario.Scenario) { s.Seed++ },
		"allocator":         func(s *scenario.Scenario) { s.Allocator = "fifo" },
		"allocator params":  func(s *scenario.Scenario) { s.AllocatorParams = map[string]any{"order": []string{"spot"}} },
		"horizon":           func(s *scenario.Scenario) { s.Horizon++ },
		"failures":          func(s *scenario.Scenario) { s.Failures = nil },
		"internal workload": func(s *scenario.Scenario) { s.Workloads[0].RatePerHour++ },
		"fleet":             func(s *scenario.Scenario) { s.Fleet = scenario.Fleet{Spec: "2x8xH100"} },
	} {
		s := base()
		change(s)
		if key(s) == want {
			t.Errorf("%s leaves the key as it was", name)
		}
	}
	if k, _ := counterfactualKey(base(), Options{CheckInvariants: true}); k == want {
		t.Error("checking invariants leaves the key as it was")
	}
}
