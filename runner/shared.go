package runner

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"math"
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
// Runs that write a jobs file share too: their counterfactual keeps every
// internal job's wait in a waitTable for all of them to read (16 bytes a
// job, as long as the cache lives: 5.8 MB for 30 days of the default
// scenario, 23 MB for 30 days of meta), where a run of its own passes them
// through a waitBoard of bounded size. Once the tables hold tableBudget
// jobs in all, a run that needs per-job waits simulates its own again. The
// zero value is not ready: use NewCounterfactuals. It is safe for
// concurrent use.
type Counterfactuals struct {
	mu      sync.Mutex
	runs    map[sharedKey]*counterfactualRun
	tables  []*waitTable
	budget  int // tableBudget (smaller in tests)
	started int // counterfactuals simulated (for tests)
}

// tableBudget is the most internal jobs the waitTables of one cache keep
// before runs stop sharing per-job waits (16 bytes each: 256 MiB; the
// tables in use may still grow past it).
const tableBudget = 1 << 24

// NewCounterfactuals returns an empty cache.
func NewCounterfactuals() *Counterfactuals {
	return &Counterfactuals{runs: map[sharedKey]*counterfactualRun{}, budget: tableBudget}
}

// sharedKey names a shared counterfactual: its counterfactualKey, and
// whether it keeps its per-job waits.
type sharedKey struct {
	scenario [sha256.Size]byte
	perJob   bool
}

// start returns the counterfactual of s, with its per-job waits (in
// r.waits) if perJob, starting it unless a run with the same
// counterfactual already has (over the tables' budget, a run that needs
// per-job waits gets one of its own, with a waitBoard).
func (c *Counterfactuals) start(s *scenario.Scenario, cfg sim.Config, opt Options, perJob bool) (*counterfactualRun, error) {
	sum, err := counterfactualKey(s, opt)
	if err != nil {
		return nil, err
	}
	key := sharedKey{sum, perJob}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.runs[key]; ok {
		return r, nil
	}
	var waits waitSink
	if perJob {
		kept := 0
		for _, t := range c.tables {
			kept += t.len()
		}
		if kept >= c.budget {
			c.started++
			return startCounterfactual(s, cfg, opt, newWaitBoard()), nil
		}
		t := newWaitTable()
		c.tables = append(c.tables, t)
		waits = t
	}
	r := startCounterfactual(s, cfg, opt, waits)
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

// waitTable keeps every internal job's counterfactual wait, for any number
// of runs to read, each at its own pace (a shared counterfactual's; one
// run's own goes through a waitBoard, which forgets what was read). Jobs
// are indexed by their internal arrival number, as on the board, and each
// slot keeps a hash of the job's ID, checked on every read.
type waitTable struct {
	mu    sync.Mutex
	cond  sync.Cond
	seed  maphash.Seed
	slots []tableSlot // by internal arrival number
	done  bool        // the counterfactual has ended (or failed)
}

// tableSlot is an internal job's wait (-1: it never started; noWait: not
// given yet) and the low half of its ID's hash.
type tableSlot struct {
	wait sim.Time
	id   uint32
}

const noWait = sim.Time(math.MinInt64)

func newWaitTable() *waitTable {
	t := &waitTable{seed: maphash.MakeSeed()}
	t.cond.L = &t.mu
	return t
}

func (t *waitTable) put(n int64, id string, wait sim.Time) {
	h := uint32(maphash.String(t.seed, id))
	t.mu.Lock()
	for int64(len(t.slots)) <= n {
		t.slots = append(t.slots, tableSlot{wait: noWait})
	}
	t.slots[n] = tableSlot{wait: wait, id: h}
	t.mu.Unlock()
	t.cond.Broadcast()
}

// close does nothing: other runs may still read the table.
func (t *waitTable) close() {}

func (t *waitTable) finish() {
	t.mu.Lock()
	t.done = true
	t.mu.Unlock()
	t.cond.Broadcast()
}

// len returns the number of jobs the table spans.
func (t *waitTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.slots)
}

// take returns internal job j's counterfactual wait, waiting for the
// counterfactual to end it; ok is false if it ended without it.
func (t *waitTable) take(j *sim.Job) (wait sim.Time, ok bool) {
	h := uint32(maphash.String(t.seed, j.ID))
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		if j.Arrival < int64(len(t.slots)) {
			if s := t.slots[j.Arrival]; s.wait != noWait {
				if s.id != h {
					panic(fmt.Sprintf("runner: internal job %d is %q in the run and another job in its counterfactual: their internal arrivals differ", j.Arrival, j.ID))
				}
				return s.wait, true
			}
		}
		if t.done {
			return 0, false
		}
		t.cond.Wait()
	}
}
