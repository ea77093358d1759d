package scenario

import (
	"strings"
	"testing"

	"neosim/sim"
)

func TestDefaultIsValid(t *testing.T) {
	s := Default()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Name != "default" || sim.Time(s.Horizon) != 30*sim.Day || s.Frontier == nil || s.ExternalDemand == nil || s.Failures == nil || !s.Failures.Enabled {
		t.Errorf("unexpected default: %+v", s)
	}
	gpus := 0
	for _, g := range s.Fleet.Groups {
		gpus += g.Nodes * g.GPUsPerNode
	}
	if gpus != 10_000 {
		t.Errorf("default fleet has %d GPUs, want 10,000", gpus)
	}
}

func TestRoundTrip(t *testing.T) {
	s := Default()
	b, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Parse("round trip", b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := s2.Marshal()
	if string(b) != string(b2) {
		t.Errorf("marshal → parse → marshal changed the scenario:\n%s\n---\n%s", b, b2)
	}
}

func TestBadScenarios(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"nmae: x\n", "field nmae not found"},
		{"horizon: 3 parsecs\n", "unknown unit"},
		{"fleet: {spec: 8x8xH100}\nworkloads: [{name: a, segment: internal, rate_per_hour: 0, gpus: 'const:1', duration_s: 'exp:60'}]\nhorizon: 1d\n", "workloads[0]: rate_per_hour"},
		{"fleet: {spec: 8x8xH100}\nworkloads: [{name: a, segment: moon, rate_per_hour: 1, gpus: 'const:1', duration_s: 'exp:60'}]\nhorizon: 1d\n", "workloads[0]: segment"},
		{"fleet: {spec: 8x8xH100}\nworkloads: [{name: a, segment: internal, rate_per_hour: 1, gpus: 'zipf:1', duration_s: 'exp:60'}]\nhorizon: 1d\n", "unknown kind \"zipf\""},
		{"fleet: {spec: 8x8xH100, file: nodes.csv}\n", "exactly one of spec, file or groups"},
	} {
		s, err := Parse("t.yaml", []byte(tc.yaml))
		if err == nil {
			err = s.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got error %v, want one containing %q", tc.yaml, err, tc.want)
		}
	}
}

func TestReplayDefaults(t *testing.T) {
	def := Default()
	for _, tc := range []struct {
		trace                              string
		horizonSet, failuresSet, warmupSet bool
		wantHorizon, wantWarmup            Duration
		wantFailures                       bool
	}{
		{"", false, false, false, Duration(30 * sim.Day), def.Warmup, true}, // no trace: nothing changes
		{"jobs.csv", false, false, false, 0, 0, false},                      // replay: whole trace, no injected failures, no warm-up
		{"jobs.csv", true, false, false, Duration(30 * sim.Day), 0, false},  // the user's horizon stands
		{"jobs.csv", false, true, false, 0, 0, true},                        // the user's failures stand
		{"jobs.csv", false, false, true, 0, def.Warmup, false},              // the user's warm-up stands
	} {
		s := Default()
		s.Trace = tc.trace
		s.ReplayDefaults(tc.horizonSet, tc.failuresSet, tc.warmupSet)
		if s.Horizon != tc.wantHorizon || s.Failures.Enabled != tc.wantFailures || s.Warmup != tc.wantWarmup {
			t.Errorf("%+v: horizon %v, failures %v, warm-up %v; want %v, %v, %v", tc, sim.Time(s.Horizon), s.Failures.Enabled, sim.Time(s.Warmup),
				sim.Time(tc.wantHorizon), tc.wantFailures, sim.Time(tc.wantWarmup))
		}
	}
	if def.Warmup == 0 {
		t.Error("the default scenario has no warm-up: the test above cannot tell")
	}
}

func TestFailureModel(t *testing.T) {
	s := Default()
	s.EnsureDefaults()
	if got, want := s.FailureModel(), "failures 1.97e-05 per GPU-hour, repair lognormal:7200:1 s"; got != want {
		t.Errorf("default: %q, want %q", got, want)
	}
	s.SetFailures(false)
	if got := s.FailureModel(); got != "failures off" {
		t.Errorf("off: %q", got)
	}
	s = &Scenario{}
	s.SetFailures(true)
	s.EnsureDefaults()
	if s.Failures.PerGPUHour != DefaultFailuresPerGPUHour || s.Failures.Repair == nil {
		t.Errorf("SetFailures(true) on a scenario without a model: %+v", s.Failures)
	}
}
