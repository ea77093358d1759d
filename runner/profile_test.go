package runner

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"neosim/scenario"
	"neosim/sim"
	"neosim/sim/econ"
)

// TestPowerProfileOutsideCatalog: a run whose power profile holds a model
// outside the catalog (an L4) uses the others and names the L4 on one
// warning line.
func TestPowerProfileOutsideCatalog(t *testing.T) {
	dir := t.TempDir()
	p := &econ.CalibrationProfile{Schema: econ.CalibrationSchema, Measured: true, Source: "test", Date: "2026-01-01",
		Devices: []econ.CalibrationDevice{{Index: 0, Name: "NVIDIA L4"}, {Index: 1, Name: "NVIDIA H100 80GB HBM3", Model: "H100-SXM"}},
		Models: []econ.CalibrationModel{
			{PowerProfile: econ.PowerProfile{Name: "L4", IdleW: 16, FullW: 72, Exponent: 1}},
			{PowerProfile: econ.PowerProfile{Name: "H100-SXM", IdleW: 66, FullW: 690, Exponent: 1.2}},
		}}
	path := filepath.Join(dir, "profile.json")
	if err := p.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	s := scenario.Default()
	s.Fleet = scenario.Fleet{Spec: "4x8xH100"}
	s.Horizon = scenario.Duration(sim.Hour)
	s.PowerProfile = path
	var warn bytes.Buffer
	if _, err := Run(s, Options{Out: filepath.Join(dir, "out"), Warn: &warn}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn.String(), "L4 not in the GPU catalog, ignored") {
		t.Errorf("warnings %q: want the L4 named", warn.String())
	}
	if len(s.Cost.Power) != 1 || s.Cost.Power[0].Name != "H100-SXM" {
		t.Errorf("cost model power %+v, want the H100 profile only", s.Cost.Power)
	}
}
