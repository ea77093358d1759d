package advise

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"neosim/scenario"
	"neosim/sim/fleet"
)

// priceYAML: ample capacity (800 H100s for at most about 100 busy), no
// internal load, one on-demand segment of one-GPU, one-hour jobs whose
// willingness to pay is list × Uniform(0, 2), support and delay free. The
// net value per GPU-hour sold at multiplier m is (m·L − c)·P(WTP ≥ m·L) =
// (m·L − c)(1 − m/2), maximized at m* = 1 + c/(2L).
const priceYAML = `
name: price-closed-form
horizon: 7d
allocator: fifo
pricer: flat
fleet: {groups: [{nodes: 100, gpus_per_node: 8, type: H100}]}
cost: {support_usd_per_customer_month: 0, delay_usd_per_gpu_hour: 0, sales_ga_fraction: 0}
external_demand:
  segments:
    - {segment: on-demand, rate_per_hour: 100, gpus: "const:1", duration_s: "const:3600", wtp_ratio: "uniform:0:2", patience_s: "const:3600", cycle: {}}
`

// erlangYAML: an M/M/c internal load (Poisson arrivals at 40/h of one-GPU
// jobs lasting Exp(1 h): 40 Erlangs) on 100 one-GPU nodes, and reserved
// contracts of one GPU each, longer than the run, that fill the partition
// allocator's external cap within minutes and hold it: internal work has
// c = 100 − cap GPUs, an M/M/c queue (FIFO, no preemption). Contracts are
// worth more than they cost and delay is free, so the more sold the
// better, up to the delay budget.
const erlangYAML = `
name: erlang
horizon: 30d
warmup: 2d
allocator: partition
pricer: flat
fleet: {groups: [{nodes: 100, gpus_per_node: 1, type: H100}]}
cost: {support_usd_per_customer_month: 0, delay_usd_per_gpu_hour: 0}
workloads:
  - {name: train, segment: internal, rate_per_hour: 40, gpus: "const:1", duration_s: "exp:3600"}
external_demand:
  segments:
    - {segment: reserved, rate_per_hour: 1000, max_jobs: 100, gpus: "const:1", duration_s: "const:5184000", discount: "const:0.3", patience_s: "const:36000", cycle: {}, initial_book: false}
`

func loader(t *testing.T, yaml string) func() (*scenario.Scenario, error) {
	t.Helper()
	if _, err := scenario.Parse("test", []byte(yaml)); err != nil {
		t.Fatal(err)
	}
	return func() (*scenario.Scenario, error) { return scenario.Parse("test", []byte(yaml)) }
}

func mustRange(t *testing.T, spec string) []float64 {
	t.Helper()
	xs, err := ParseRange(spec)
	if err != nil {
		t.Fatal(err)
	}
	return xs
}

func TestParseRange(t *testing.T) {
	for spec, want := range map[string][]float64{
		"0.5:1:0.1":   {0.5, 0.6, 0.7, 0.8, 0.9, 1},
		"0.8:1.4:0.2": {0.8, 1, 1.2, 1.4},
		"1,0.9,0.7":   {1, 0.9, 0.7},
		"2:2:1":       {2},
	} {
		got := mustRange(t, spec)
		if len(got) != len(want) {
			t.Fatalf("%s: %v, want %v", spec, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %v, want %v", spec, got, want)
			}
		}
	}
	for _, bad := range []string{"", "1:0:0.1", "0:1:0", "0:1", "a,b", "1,1"} {
		if _, err := ParseRange(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestKNConstant: h² for k = 2 systems, n0 = 10, α = 0.05 is
// 2(n0−1)·η with η = ½(0.1^(−2/9) − 1) ≈ 0.3339 (KN's Table: h² ≈ 6.01).
func TestKNConstant(t *testing.T) {
	want := 2 * 9 * 0.5 * (math.Pow(0.1, -2.0/9) - 1)
	if got := knH2(0.05, 2, 10); math.Abs(got-want) > 1e-12 || math.Abs(got-6.01) > 0.01 {
		t.Errorf("h² = %v, want %v ≈ 6.01", got, want)
	}
}

// TestClosedFormPrice: advise finds the profit-maximizing multiplier
// m* = 1 + c/(2L) within one grid step.
func TestClosedFormPrice(t *testing.T) {
	step := 0.05
	opt := Options{Load: loader(t, priceYAML), Jobs: 2, BudgetRuns: 300,
		MaxDelayGPUHoursPerMonth: math.NaN(), MaxSlowdownIncrease: math.NaN(),
		Space: Space{Allocators: []string{"fifo"}, Pricers: []string{"flat"}, Multipliers: mustRange(t, "0.8:1.5:0.05")}}
	res, err := Search(opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Recommended < 0 {
		t.Fatalf("no recommendation: %s", res.Stop)
	}
	rec := res.Candidates[res.Recommended]
	// c, the direct cost of a GPU-hour sold, from the runs themselves:
	// every accepted job pays m·L per GPU-hour, so GPU-hours =
	// revenue/(m·L) and direct cost = revenue − net value.
	h100, _ := fleet.LookupType("H100")
	L := fleet.Catalog[h100].ListUSDPerHour
	o := rec.Obs[0]
	c := rec.Multiplier * L * (1 - o.NetValue/o.ExternalRevenue)
	mstar := 1 + c/(2*L)
	t.Logf("c = %.4f $/GPU-h, m* = %.4f; recommended ×%v after %d runs (%s); %s", c, mstar, rec.Multiplier, res.Runs, res.Stop, res.Sentence())
	if !(c > 0.5 && c < 3) {
		t.Fatalf("direct cost %v $/GPU-h: not an H100's", c)
	}
	if math.Abs(rec.Multiplier-mstar) > step+1e-9 {
		t.Errorf("recommended ×%v, more than one grid step (%v) from m* = %.4f", rec.Multiplier, step, mstar)
	}
}

// erlangC is the probability that an arrival waits in an M/M/c queue
// with offered load a Erlangs (Erlang's C formula, by the stable
// recursion on Erlang B).
func erlangC(c int, a float64) float64 {
	if a >= float64(c) {
		return 1
	}
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	rho := a / float64(c)
	return b / (1 - rho*(1-b))
}

// TestErlangShare: with a budget of 1,000 GPU-hours of caused delay a
// month, the smallest internal share advise keeps (the most sold) is within
// one grid step of the Erlang-C answer: the smallest share s whose c =
// 100 − floor((1−s)·100) servers give λ·720 h·E[Wq] ≤ the budget, E[Wq] =
// C(c, a)/(cμ − λ).
func TestErlangShare(t *testing.T) {
	const lambda, mu, budget, gpus = 40.0, 1.0, 1000.0, 100
	step := 0.02
	shares := mustRange(t, "0.42:0.6:0.02")
	delay := func(s float64) float64 {
		c := gpus - int(math.Floor((1-s)*gpus+1e-6))
		return lambda * 720 * erlangC(c, lambda/mu) / (float64(c)*mu - lambda)
	}
	want := math.NaN()
	for i := len(shares) - 1; i >= 0; i-- {
		if delay(shares[i]) <= budget {
			want = shares[i]
		}
	}
	opt := Options{Load: loader(t, erlangYAML), Jobs: 2, BudgetRuns: 250,
		MaxDelayGPUHoursPerMonth: budget, MaxSlowdownIncrease: math.NaN(),
		Space: Space{Allocators: []string{PartitionAllocator}, Pricers: []string{"flat"}, Shares: shares, Multipliers: []float64{1}}}
	res, err := Search(opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range shares {
		t.Logf("share %.2f: Erlang-C delay %.0f GPU-h/month", s, delay(s))
	}
	for i := range res.Candidates {
		c := &res.Candidates[i]
		st := statOf(c.Obs, delayCaused)
		t.Logf("share %.2f: simulated %.0f ± %.0f GPU-h/month over %d seeds (%s, delay %s)", c.Share, st.Mean, st.CI95, len(c.Obs), res.status(i), c.Delay)
	}
	if res.Recommended < 0 {
		t.Fatalf("no recommendation: %s", res.Stop)
	}
	got := res.Candidates[res.Recommended].Share
	t.Logf("Erlang-C: share %.2f; advise: %.2f after %d runs (%s)", want, got, res.Runs, res.Stop)
	if math.IsNaN(want) || math.Abs(got-want) > step+1e-9 {
		t.Errorf("advise keeps share %v, Erlang-C says %v (grid step %v)", got, want, step)
	}
}

// TestStableAcrossSeeds: two searches on disjoint seed sets (1… and
// 1001…) recommend the same or an adjacent grid point, on the Erlang
// scenario (share × price: the budget decides) and on the price scenario
// (the demand curve decides).
func TestStableAcrossSeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("four searches")
	}
	for _, tc := range []struct {
		name, yaml          string
		space               Space
		maxDelay            float64
		shareStep, multStep float64
	}{
		{"erlang", erlangYAML, Space{Allocators: []string{PartitionAllocator}, Pricers: []string{"flat"},
			Shares: mustRange(t, "0.44:0.56:0.04"), Multipliers: mustRange(t, "0.9,1")}, 1000, 0.04, 0.1},
		{"price", priceYAML, Space{Allocators: []string{"fifo"}, Pricers: []string{"flat"},
			Multipliers: mustRange(t, "0.8:1.5:0.05")}, math.NaN(), 0, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(base uint64) Candidate {
				opt := Options{Load: loader(t, tc.yaml), Jobs: 2, BudgetRuns: 200, SeedBase: base,
					MaxDelayGPUHoursPerMonth: tc.maxDelay, MaxSlowdownIncrease: math.NaN(), Space: tc.space}
				res, err := Search(opt)
				if err != nil {
					t.Fatal(err)
				}
				if res.Recommended < 0 {
					t.Fatalf("seed base %d: no recommendation (%s)", base, res.Stop)
				}
				t.Logf("seed base %d: %s (%d runs)", base, res.Sentence(), res.Runs)
				return res.Candidates[res.Recommended].Candidate
			}
			a, b := run(1), run(1001)
			if a.Allocator != b.Allocator || math.Abs(a.Multiplier-b.Multiplier) > tc.multStep+1e-9 ||
				(tc.shareStep > 0 && math.Abs(a.Share-b.Share) > tc.shareStep+1e-9) {
				t.Errorf("seeds 1… recommend %s, seeds 1001… %s: not the same or adjacent", a.Label(), b.Label())
			}
		})
	}
}

// TestOutputs: the files exist, advice.json has the keys scripts rely on.
func TestOutputs(t *testing.T) {
	opt := Options{Load: loader(t, erlangYAML), Jobs: 2, BudgetRuns: 40, FirstStage: 2,
		MaxDelayGPUHoursPerMonth: 1000, MaxSlowdownIncrease: 0.05,
		Space: Space{Allocators: []string{PartitionAllocator}, Pricers: []string{"flat"}, Shares: []float64{0.5, 0.6}, Multipliers: []float64{1}}}
	res, err := Search(opt)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files, err := res.Write(dir, "neosim advise --test")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{AdviceJSON, AdviceArrow, ReportHTML, "net_value.svg", "delay_caused.png", "slowdown_increase.svg"} {
		if !containsStr(files, filepath.Join(dir, name)) {
			t.Errorf("%s not written (%v)", name, files)
		}
	}
	checkAdviceJSON(t, filepath.Join(dir, AdviceJSON))
}

func containsStr(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// checkAdviceJSON checks the keys of advice.json that scripts depend on
// (docs/output-schema.md, "advise").
func checkAdviceJSON(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var a map[string]any
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if a["advice_schema_version"] != SchemaVersion {
		t.Errorf("advice_schema_version %v", a["advice_schema_version"])
	}
	rec, ok := a["recommended"].(map[string]any)
	if !ok {
		t.Fatalf("recommended: %v", a["recommended"])
	}
	for _, k := range []string{"internal_share", "price_multiplier", "allocator", "pricer"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("recommended.%s missing", k)
		}
	}
	for _, k := range []string{"net_value_usd_per_month", "internal_delay_caused_gpu_hours_per_month", "gross_margin", "operating_margin"} {
		s, ok := a[k].(map[string]any)
		if !ok {
			t.Errorf("%s: %v", k, a[k])
			continue
		}
		if _, ok := s["mean"].(float64); !ok {
			t.Errorf("%s.mean: %v", k, s["mean"])
		}
		if _, ok := s["ci95"]; !ok {
			t.Errorf("%s.ci95 missing", k)
		}
	}
	if _, ok := a["separated"].(bool); !ok {
		t.Errorf("separated: %v", a["separated"])
	}
	if _, ok := a["tied"].([]any); !ok {
		t.Errorf("tied: %v", a["tied"])
	}
	for _, k := range []string{"company_margin_with_cloud", "company_margin_without_cloud", "method", "budget", "seeds_per_candidate", "command"} {
		if _, ok := a[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
}
