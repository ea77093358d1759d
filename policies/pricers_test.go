package policies_test

import (
	"strings"
	"testing"

	"neosim/policies"
	"neosim/sim"
	"neosim/sim/fleet"
)

type fixed struct {
	jobs []sim.JobSpec
	i    int
}

func (s *fixed) Name() string { return "fixed" }
func (s *fixed) Err() error   { return nil }
func (s *fixed) Next(j *sim.JobSpec) bool {
	if s.i >= len(s.jobs) {
		return false
	}
	*j = s.jobs[s.i]
	s.i++
	return true
}

type prices map[string]int64

func (p prices) JobStarted(*sim.Job) {}
func (p prices) JobEnded(j *sim.Job) { p[j.ID] = j.PriceMicroUSD }
func (p prices) Sampled(*sim.Sample) {}

// quotes runs jobs through fifo on fleet spec with pricer name/params and
// returns each job's quoted price.
func quotes(t *testing.T, spec, name string, params map[string]any, jobs ...sim.JobSpec) prices {
	t.Helper()
	g, _ := fleet.ParseSpec(spec)
	f, err := fleet.New(g)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := policies.Pricers.NewWith(name, params)
	if err != nil {
		t.Fatal(err)
	}
	for i := range jobs {
		if jobs[i].Milli == 0 {
			jobs[i].Milli = fleet.FullGPU
		}
	}
	got := prices{}
	if err := sim.New(sim.Config{}, f, &policies.FIFO{}, pr, []sim.Source{&fixed{jobs: jobs}}, got).Run(); err != nil {
		t.Fatal(err)
	}
	return got
}

func job(id string, seg sim.Segment, at, work sim.Time, gpus int32) sim.JobSpec {
	return sim.JobSpec{ID: id, Segment: seg, Submit: at, Work: work, GPUs: gpus}
}

func TestFlatBySegment(t *testing.T) {
	got := quotes(t, "2x8xH100", "flat", nil,
		job("od", sim.SegOnDemand, 0, sim.Hour, 1), job("spot", sim.SegSpot, 0, sim.Hour, 1),
		job("res", sim.SegReserved, 0, sim.Hour, 1), job("in", sim.SegInternal, 0, sim.Hour, 1))
	want := prices{"od": 3_990_000, "spot": 1_795_500, "res": 2_354_100, "in": 0}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %d µ$/GPU-h, want %d", id, got[id], w)
		}
	}
	got = quotes(t, "2x8xH100", "flat", map[string]any{"multiplier": 2, "spot_ratio": 0.5}, job("od", sim.SegOnDemand, 0, sim.Hour, 1), job("spot", sim.SegSpot, 0, sim.Hour, 1))
	if got["od"] != 7_980_000 || got["spot"] != 3_990_000 {
		t.Errorf("with multiplier 2 and spot_ratio 0.5: %v", got)
	}
	// Zero is a value: no reserved discount means reserved pays list.
	got = quotes(t, "2x8xH100", "flat", map[string]any{"reserved_discount": 0}, job("res", sim.SegReserved, 0, sim.Hour, 1))
	if got["res"] != 3_990_000 {
		t.Errorf("reserved_discount 0: reserved quoted %d, want the list 3990000", got["res"])
	}
	for _, k := range []string{"spot_ratio", "multiplier"} {
		if _, err := policies.Pricers.NewWith("flat", map[string]any{k: 0}); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s: 0: error %v, want one naming it", k, err)
		}
	}
}

func TestReservedDiscountByTerm(t *testing.T) {
	got := quotes(t, "2x8xH100", "reserved-discount", nil,
		job("10d", sim.SegReserved, 0, 10*sim.Day, 1), job("100d", sim.SegReserved, 0, 100*sim.Day, 1),
		job("400d", sim.SegReserved, 0, 400*sim.Day, 1), job("od", sim.SegOnDemand, 0, sim.Hour, 1))
	want := prices{"10d": 3_990_000, "100d": 3_192_000, "400d": 2_354_100, "od": 3_990_000}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %d µ$/GPU-h, want %d", id, got[id], w)
		}
	}
}

func TestTimeOfDay(t *testing.T) {
	got := quotes(t, "2x8xH100", "time-of-day", nil,
		job("night", sim.SegOnDemand, 3*sim.Hour, sim.Hour, 1), job("day", sim.SegOnDemand, 10*sim.Hour, sim.Hour, 1),
		job("next-night", sim.SegOnDemand, 46*sim.Hour, sim.Hour, 1))
	if got["night"] != 3_192_000 || got["day"] != 4_788_000 || got["next-night"] != 3_192_000 {
		t.Errorf("time-of-day quotes %v", got)
	}
}

// TestUtilizationRises: the spot price is the floor on an idle fleet and
// rises once the fleet is busy.
func TestUtilizationRises(t *testing.T) {
	got := quotes(t, "2x8xH100", "utilization", map[string]any{"interval_s": 1},
		job("spot-idle", sim.SegSpot, 0, sim.Hour, 1),
		job("filler", sim.SegInternal, 10*sim.Second, sim.Day, 8),
		job("filler2", sim.SegInternal, 10*sim.Second, sim.Day, 7),
		job("spot-busy", sim.SegSpot, 20*sim.Second, sim.Hour, 1))
	idle, busy := got["spot-idle"], got["spot-busy"]
	if idle != 399_000 { // floor 0.10 × 3.99
		t.Errorf("idle fleet: spot %d, want the floor 399000", idle)
	}
	if want := int64(3_990_000 * (0.10 + 0.50*1.0)); busy != want { // every GPU busy: the cap
		t.Errorf("full fleet: spot %d, want the cap %d", busy, want)
	}
}

// TestAuctionClears: with 8 free GPUs and waiting spot bids of 0.5, 0.4
// (4 GPUs each) and 0.3 (the first that no longer fits), the price is 0.3.
func TestAuctionClears(t *testing.T) {
	list := int64(3_990_000)
	bidJob := func(id string, at sim.Time, ratio float64, gpus int32) sim.JobSpec {
		j := job(id, sim.SegSpot, at, sim.Hour, gpus)
		j.WTPMicroUSD = int64(float64(list) * ratio)
		return j
	}
	got := quotes(t, "2x8xH100", "auction", map[string]any{"interval_s": 1},
		job("block", sim.SegInternal, 0, sim.Day, 8),     // half the fleet busy
		job("block2", sim.SegInternal, 0, sim.Day, 8),    // all of it
		bidJob("a", sim.Second, 0.5, 4),                  // waits
		bidJob("b", sim.Second, 0.4, 4),                  // waits
		bidJob("c", sim.Second, 0.3, 4),                  // waits
		job("free", sim.SegInternal, 2*sim.Second, 1, 1), // nothing frees: supply 0
		bidJob("probe", 3*sim.Second, 1, 1))
	// Supply is 0 when the probe arrives, so the best bid (0.5) sets the price.
	if want := int64(float64(list) * 0.5); got["probe"] < want-1 || got["probe"] > want+1 {
		t.Errorf("probe quoted %d, want %d", got["probe"], want)
	}
	if got["a"] != int64(float64(list)*0.10) {
		t.Errorf("first bid, empty queue: quoted %d, want the reserve", got["a"])
	}
}

func TestPricerParams(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"flat", map[string]any{"spot_ratoi": 0.5}, "field spot_ratoi not found"},
		{"flat", map[string]any{"reserved_discount": 1.2}, "reserved_discount: must be in [0, 1)"},
		{"flat", map[string]any{"multiplier": -1}, "multiplier: must be > 0"},
		{"utilization", map[string]any{"floor": 0.9, "cap": 0.5}, "floor: must be in (0, cap]"},
		{"reserved-discount", map[string]any{"terms": []map[string]any{{"min_days": 30, "discount": 1.5}}}, "terms[0].discount"},
		{"auction", map[string]any{"interval_s": "soon"}, "cannot unmarshal !!str `soon` into float64"},
	} {
		if _, err := policies.Pricers.NewWith(tc.name, tc.params); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: %v, want %q", tc.name, tc.params, err, tc.want)
		}
	}
}
