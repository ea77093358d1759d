package policies

import (
	"errors"
	"strings"
	"testing"

	"neosim/sim"
)

// lifecycle is a policy that records its lifecycle calls.
type lifecycle struct {
	Limit int `yaml:"limit"`
	calls []string
}

func (*lifecycle) Name() string                  { return "lifecycle" }
func (*lifecycle) Schedule(*sim.View, *sim.Plan) {}
func (l *lifecycle) EnsureDefaults() {
	l.calls = append(l.calls, "defaults")
	l.Limit = max(l.Limit, 1)
}
func (l *lifecycle) Validate() error {
	l.calls = append(l.calls, "validate")
	if l.Limit > 10 {
		return errors.New("limit: must be ≤ 10")
	}
	return nil
}

// TestRegistryLifecycle: with or without parameters, the registry runs
// EnsureDefaults then Validate, once each, and returns Validate's error.
func TestRegistryLifecycle(t *testing.T) {
	r := newRegistry[Allocator]("allocator")
	r.Register("lifecycle", "test", func() Allocator { return &lifecycle{} })
	for _, params := range []map[string]any{nil, {"limit": 5}} {
		a, err := r.NewWith("lifecycle", params)
		if err != nil {
			t.Fatal(err)
		}
		l := a.(*lifecycle)
		if strings.Join(l.calls, ",") != "defaults,validate" {
			t.Errorf("params %v: lifecycle calls %v, want defaults then validate", params, l.calls)
		}
		if want := max(1, len(params)*5); l.Limit != want {
			t.Errorf("params %v: limit %d, want %d", params, l.Limit, want)
		}
	}
	if _, err := r.NewWith("lifecycle", map[string]any{"limit": 11}); err == nil || !strings.Contains(err.Error(), "allocator lifecycle: limit") {
		t.Errorf("invalid parameter: %v", err)
	}
}

// TestRegisteredPoliciesAreReady: every registered policy made without
// parameters is valid, and every pricer reports its spot price for the
// time series (a pricer without SpotPrice would leave spot_price null).
func TestRegisteredPoliciesAreReady(t *testing.T) {
	for _, name := range Allocators.Names() {
		if _, err := Allocators.New(name); err != nil {
			t.Errorf("allocator %s with its defaults: %v", name, err)
		}
	}
	for _, name := range Pricers.Names() {
		p, err := Pricers.New(name)
		if err != nil {
			t.Errorf("pricer %s with its defaults: %v", name, err)
			continue
		}
		if _, ok := p.(sim.SpotQuoter); !ok {
			t.Errorf("pricer %s has no SpotPrice (sim.SpotQuoter): its spot_price column would be null", name)
		}
		if u, ok := p.(sim.Updater); ok && u.UpdateInterval() <= 0 {
			t.Errorf("pricer %s: update interval %v", name, u.UpdateInterval())
		}
	}
}
