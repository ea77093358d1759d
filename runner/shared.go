package runner

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"

	"neosim/scenario"
	"neosim/sim"
)

// Counterfactuals shares counterfactual runs between the runs of one
// experiment (a comparison, a sweep, advise's candidates).
//
// A counterfactual has no external demand, so no job in it is ever quoted
// a price, and pricers draw no random numbers and are read by no
// allocator; and every internal source draws from a stream of its own,
// whatever external demand there is. So runs that differ only in their
// pricer, its parameters or their external demand (the price levels
// advise tries, a comparison of pricers, a sweep of demand levels) have
// one and the same counterfactual, bit for bit
// (TestCounterfactualIgnoresPricerAndDemand). The first run to need it
// simulates it, the others wait for its answer, so such an experiment
// simulates each seed's counterfactual once per allocator instead of once
// per run.
//
// Only summary measures are shared: a run that writes a jobs file needs
// its counterfactual's per-job waits, and simulates its own. The zero
// value is not ready: use NewCounterfactuals. It is safe for concurrent
// use.
type Counterfactuals struct {
	mu      sync.Mutex
	runs    map[[sha256.Size]byte]*counterfactualRun
	started int // counterfactuals simulated (for tests)
}

// NewCounterfactuals returns an empty cache.
func NewCounterfactuals() *Counterfactuals {
	return &Counterfactuals{runs: map[[sha256.Size]byte]*counterfactualRun{}}
}

// start returns the counterfactual of s (summary measures only), starting
// it unless a run with the same counterfactual already has.
func (c *Counterfactuals) start(s *scenario.Scenario, cfg sim.Config, opt Options) (*counterfactualRun, error) {
	key, err := counterfactualKey(s, opt)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.runs[key]; ok {
		return r, nil
	}
	r := startCounterfactual(s, cfg, opt, false)
	c.runs[key] = r
	c.started++
	return r, nil
}

// counterfactualKey names everything a counterfactual's summary measures
// depend on: the scenario without external demand (its external_demand
// and external workloads are never read once external demand is off;
// the internal sources keep their order) and without its pricer (the
// run's sim.Config is made from the scenario alone), and whether
// invariants are checked.
func counterfactualKey(s *scenario.Scenario, opt Options) ([sha256.Size]byte, error) {
	cf := counterfactualScenario(s)
	cf.Pricer, cf.PricerParams, cf.ExternalDemand, cf.Workloads = "", nil, nil, nil
	for _, w := range s.Workloads {
		if seg, err := sim.ParseSegment(w.Segment); err != nil || !seg.External() {
			cf.Workloads = append(cf.Workloads, w)
		}
	}
	b, err := json.Marshal(struct {
		Scenario        *scenario.Scenario
		CheckInvariants bool
	}{cf, opt.CheckInvariants})
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("scenario %s: counterfactual: %w", s.Name, err)
	}
	return sha256.Sum256(b), nil
}
