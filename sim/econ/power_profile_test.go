package econ_test

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"neosim/sim"
	"neosim/sim/econ"
	"neosim/sim/fleet"
)

// TestHandJobsProfiled is TestHandJobs with a measured-style H100 profile:
// 66 W idle, 120 W with a context at 0%, 690 W full, exponent 2. The A100
// keeps the catalog's line.
func TestHandJobsProfiled(t *testing.T) {
	m := handModel()
	m.ServingUtilization = 0.5
	m.Power = econ.PowerProfiles{{Name: "H100", IdleW: 66, ContextIdleW: 120, FullW: 690, Exponent: 2}}
	f := mustFleet(t, "1x2xH100,1x1xA100")
	l, err := econ.NewLedger(m, f)
	if err != nil {
		t.Fatal(err)
	}
	a100, _ := fleet.LookupType("A100")
	h100, _ := fleet.LookupType("H100")
	l.JobEnded(&sim.Job{
		JobSpec: sim.JobSpec{ID: "s", GPUs: 1, Milli: 1000, Segment: sim.SegServing, Customer: "c"},
		State:   sim.Completed, Type: a100, FirstStart: 0, End: 2 * sim.Hour, RunTime: 2 * sim.Hour, PriceMicroUSD: 1_500_000,
	})
	l.JobEnded(&sim.Job{
		JobSpec: sim.JobSpec{ID: "i", GPUs: 1, Milli: 1000, Segment: sim.SegServing},
		State:   sim.Completed, Type: h100, FirstStart: sim.Hour, End: 4 * sim.Hour, RunTime: 3 * sim.Hour,
	})
	r := l.Report(4 * sim.Hour)
	// A100 serving at f = 0.5: 60 + 340 × 0.5 = 230 W. H100 serving at
	// f = 0.5: 120 + 570 × 0.25 = 262.5 W; idle H100s 66 W.
	kWh := (2*230 + 2*60 + 3*262.5 + 5*66) * 1.25 / 1000
	near(t, "energy MWh", r.EnergyMWh, kWh/1000)

	s := &sim.Sample{GPUsTotal: 3}
	s.BusyMilli[sim.SegServing] = 1000
	// Idle: 2 × 66 + 60 W; one serving GPU adds the capacity-weighted
	// mean of (262.5 − 66) (two H100s) and (230 − 60) (one A100).
	want := (2*66 + 60 + (2*(262.5-66)+(230-60))/3) * 1.25 / 1000
	near(t, "power kW", l.PowerKW(s), want)
}

func TestCostModelPowerValidate(t *testing.T) {
	m := econ.DefaultCostModel()
	m.Power = econ.PowerProfiles{{Name: "V100", IdleW: 30, FullW: 300, Exponent: 1}}
	if err := m.Validate(); err == nil || !strings.HasPrefix(err.Error(), "cost.power[0] (V100): not a catalog type") {
		t.Errorf("Validate() = %v", err)
	}
	// A scenario's cost block can list profiles inline.
	m = econ.DefaultCostModel()
	if err := yaml.Unmarshal([]byte("power:\n  - {name: B200, idle_w: 130, full_w: 980, exponent: 1.2}\n"), &m); err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(); err != nil || len(m.Power) != 1 || m.Power[0].Exponent != 1.2 {
		t.Errorf("decoded %+v, %v", m.Power, err)
	}
}
