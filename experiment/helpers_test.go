package experiment

import (
	"testing"

	"neosim/scenario"
	"neosim/sim"
)

// defaultFor is the embedded default scenario cut to horizon, without node
// failures (so short runs compare policies, not failure draws).
func defaultFor(t *testing.T, horizon sim.Time) *scenario.Scenario {
	t.Helper()
	s := scenario.Default()
	s.Horizon, s.Failures = scenario.Duration(horizon), nil
	return s
}
