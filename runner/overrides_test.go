package runner

import (
	"strings"
	"testing"

	"neosim/scenario"
	"neosim/sim"
)

// TestOverridesReplay: a trace given over the embedded default scenario
// replays the whole trace without injected failures unless the user sets a
// horizon or failures; the user's own scenario file keeps its settings.
func TestOverridesReplay(t *testing.T) {
	trace, week, on := "jobs.csv", 7*sim.Day, true
	for _, tc := range []struct {
		name         string
		o            Overrides
		own          bool
		wantHorizon  sim.Time
		wantFailures bool
	}{
		{"no trace", Overrides{}, false, 30 * sim.Day, true},
		{"trace", Overrides{Trace: &trace}, false, 0, false},
		{"trace, horizon", Overrides{Trace: &trace, Horizon: &week}, false, week, false},
		{"trace, failures", Overrides{Trace: &trace, Failures: &on}, false, 0, true},
		{"trace, own file", Overrides{Trace: &trace}, true, 30 * sim.Day, true},
	} {
		s := scenario.Default()
		if err := tc.o.Apply(s, tc.own); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if sim.Time(s.Horizon) != tc.wantHorizon || s.Failures.Enabled != tc.wantFailures {
			t.Errorf("%s: horizon %v, failures %v; want %v, %v", tc.name, sim.Time(s.Horizon), s.Failures.Enabled, tc.wantHorizon, tc.wantFailures)
		}
	}
}

func TestOverridesErrors(t *testing.T) {
	bad, zero := "nope", uint64(0)
	for _, tc := range []struct {
		o    Overrides
		want string
	}{
		{Overrides{Allocator: &bad}, "--allocator: "},
		{Overrides{Pricer: &bad}, "--pricer: "},
		{Overrides{Seed: &zero}, "--seed: must be ≥ 1"},
		{Overrides{Fleet: &bad}, "--fleet nope: "},
	} {
		if err := tc.o.Apply(scenario.Default(), false); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q…", tc.o, err, tc.want)
		}
	}
}
