package scenario_test

import (
	"math"
	"path/filepath"
	"testing"

	"neosim/runner"
	"neosim/scenario"
	"neosim/sim"
)

// TestEconomicsExamples parses the two economics examples and runs each
// for a day: the neocloud's fleet is all dedicated, so with no core
// business the company's margin is the cloud's; selling Meta's spare
// capacity leaves the idle capacity with the internal business.
func TestEconomicsExamples(t *testing.T) {
	for _, name := range []string{"neocloud-dedicated", "meta-spare"} {
		s, err := scenario.Load(filepath.Join("..", "examples", name+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		s.Horizon, s.Warmup = scenario.Duration(sim.Day), 0
		res, err := runner.Run(s, runner.Options{Out: filepath.Join(t.TempDir(), name), NoCounterfactual: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r := res.Summary.Econ
		if !(r.ExternalRevenueUSD > 0) || math.IsNaN(r.ReturnOnCapital) || math.IsNaN(r.CompanyMarginWith) {
			t.Fatalf("%s: revenue %v, return on capital %v, company margin %v", name, r.ExternalRevenueUSD, r.ReturnOnCapital, r.CompanyMarginWith)
		}
		switch name {
		case "neocloud-dedicated":
			if r.DedicatedGPUs != r.GPUs || r.Internal.Total() != 0 {
				t.Errorf("%s: %d of %d GPUs dedicated, internal cost %v: every cost should be the cloud's", name, r.DedicatedGPUs, r.GPUs, r.Internal.Total())
			}
			if math.Abs(r.CompanyMarginWith-r.OperatingMargin) > 1e-9 {
				t.Errorf("%s: company margin %v, want the cloud's operating margin %v", name, r.CompanyMarginWith, r.OperatingMargin)
			}
		case "meta-spare":
			if r.DedicatedGPUs != 0 || r.IdleExternal.Total() != 0 || r.CompanyMarginWithout != 0.516 {
				t.Errorf("%s: dedicated %d, idle paid by external %v, core margin %v", name, r.DedicatedGPUs, r.IdleExternal.Total(), r.CompanyMarginWithout)
			}
		}
	}
}
