package workloads

import (
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"neosim/sim"
)

// ksP returns the asymptotic p-value of a one-sample KS statistic d for n
// samples (Kolmogorov's distribution, with Stephens' small-n correction).
func ksP(d float64, n int) float64 {
	sn := math.Sqrt(float64(n))
	l := (sn + 0.12 + 0.11/sn) * d
	var p float64
	for k := 1; k <= 100; k++ {
		term := 2 * math.Exp(-2*float64(k*k)*l*l)
		if k%2 == 0 {
			term = -term
		}
		p += term
	}
	return min(1, max(0, p))
}

type servedJob struct {
	sim.JobSpec
	tokens int64
}

// drainExt pulls every job of a source, checking the invariants every
// source keeps: submit times non-decreasing, GPUs ≥ 1, unique IDs.
func drainExt(t *testing.T, src sim.Source) []servedJob {
	t.Helper()
	var out []servedJob
	var j sim.JobSpec
	ids := map[string]bool{}
	for src.Next(&j) {
		if n := len(out); n > 0 && j.Submit < out[n-1].Submit {
			t.Fatalf("%s: submit %v after %v", j.ID, j.Submit, out[n-1].Submit)
		}
		if j.GPUs < 1 || j.Work <= 0 || ids[j.ID] {
			t.Fatalf("bad job %+v (duplicate: %v)", j, ids[j.ID])
		}
		ids[j.ID] = true
		out = append(out, servedJob{JobSpec: j, tokens: j.Tokens})
	}
	if err := src.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func extJobs(t *testing.T, e *External, seed uint64, until sim.Time) []servedJob {
	t.Helper()
	src, err := e.Source(seed, until)
	if err != nil {
		t.Fatal(err)
	}
	return drainExt(t, src)
}

func bySegment(jobs []servedJob) map[sim.Segment][]servedJob {
	m := map[sim.Segment][]servedJob{}
	for _, j := range jobs {
		m[j.Segment] = append(m[j.Segment], j)
	}
	return m
}

// TestExternalDefaults: the default mix produces every segment with the
// documented fields.
func TestExternalDefaults(t *testing.T) {
	jobs := bySegment(extJobs(t, &External{}, 1, 7*sim.Day))
	for _, seg := range []sim.Segment{sim.SegOnDemand, sim.SegSpot, sim.SegServing} {
		if len(jobs[seg]) == 0 {
			t.Fatalf("no %s jobs in a week", seg)
		}
	}
	od := jobs[sim.SegOnDemand][0]
	if !strings.HasPrefix(od.ID, "od-") || !strings.HasPrefix(od.Customer, "od-cust-") || od.WTPMicroUSD <= 0 || od.Patience <= 0 || od.Priority != 200 {
		t.Errorf("on-demand job %+v", od.JobSpec)
	}
	sp := jobs[sim.SegSpot][0]
	if sp.Notice != 120*sim.Second || sp.Priority != 1 || float64(sp.WTPMicroUSD) > 0.8*6.155e6 {
		t.Errorf("spot job %+v", sp.JobSpec)
	}
	for _, j := range jobs[sim.SegServing] {
		if j.GPUs != 8 || j.Work%(5*sim.Minute) != 0 || j.Submit%(5*sim.Minute) != 0 || j.Customer != "srv" {
			t.Fatalf("serving job %+v", j.JobSpec)
		}
	}
	// Reserved: two a month; draw a year of them.
	noBook := false // the contracts signed in the year, not the book at 0 (TestInitialBook)
	rsv := bySegment(extJobs(t, &External{Segments: []ExternalSegment{{Segment: "reserved", InitialBook: &noBook}}}, 1, 365*sim.Day))[sim.SegReserved]
	if len(rsv) < 10 || len(rsv) > 45 {
		t.Fatalf("%d reserved contracts in a year, want ≈24", len(rsv))
	}
	for _, j := range rsv {
		r := float64(j.WTPMicroUSD) / 3.99e6 // any type: H100 list
		if j.GPUs < 64 || j.GPUs > 1024 || j.Work < 14*sim.Day || j.Work > 182*sim.Day || r < 1-0.5739-1e-6 || r > 1-0.2857+1e-6 || j.Priority != 1000 {
			t.Fatalf("reserved job %+v (price ratio %.3f)", j.JobSpec, r)
		}
	}
}

// TestExternalDeterminism: the same seed gives the same jobs; another seed
// does not.
func TestExternalDeterminism(t *testing.T) {
	a := extJobs(t, &External{}, 5, 3*sim.Day)
	b := extJobs(t, &External{}, 5, 3*sim.Day)
	c := extJobs(t, &External{}, 6, 3*sim.Day)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("seed 5 twice: different jobs")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("seeds 5 and 6: same jobs")
	}
}

// TestExternalCommonRandomNumbers: changing only the rates and cycles
// moves the jobs in time but keeps each segment's k-th job's shape.
func TestExternalCommonRandomNumbers(t *testing.T) {
	noBook := false // the book at 0 depends on the rate by design (TestInitialBook)
	base := &External{Segments: []ExternalSegment{{Segment: "on-demand", MaxJobs: 300}, {Segment: "spot", MaxJobs: 300}, {Segment: "reserved", MaxJobs: 30, InitialBook: &noBook}}}
	fast := &External{Segments: []ExternalSegment{
		{Segment: "on-demand", MaxJobs: 300, RatePerHour: 40, Cycle: &Cycle{DiurnalAmplitude: 0.9, WeekendFactor: 0.2}},
		{Segment: "spot", MaxJobs: 300, RatePerHour: 1, Cycle: &Cycle{BurstsPerDay: 3, BurstFactor: 4, BurstDurationS: 3600}},
		{Segment: "reserved", MaxJobs: 30, RatePerHour: 0.5, InitialBook: &noBook},
	}}
	a, b := bySegment(extJobs(t, base, 3, 0)), bySegment(extJobs(t, fast, 3, 0))
	for seg, x := range a {
		y := b[seg]
		if len(x) != len(y) {
			t.Fatalf("%s: %d vs %d jobs", seg, len(x), len(y))
		}
		moved := false
		for i := range x {
			p, q := x[i].JobSpec, y[i].JobSpec
			moved = moved || p.Submit != q.Submit
			p.Submit = q.Submit
			if p != q {
				t.Fatalf("%s job %d: shape changed with the rate:\n%+v\n%+v", seg, i, x[i].JobSpec, y[i].JobSpec)
			}
		}
		if !moved {
			t.Errorf("%s: the rate change moved no job", seg)
		}
	}
}

// TestAcceptProbabilityMonotone: the demand curves are non-increasing in
// the quote, 1 at 0, ½ at the median WTP, and vanish far above list.
func TestAcceptProbabilityMonotone(t *testing.T) {
	const list = 3.99 // the H100 list (fleet.Catalog)
	prev := 1.0
	for q := 0.0; q <= 10*list; q += 0.01 {
		p := AcceptProbability(q, list)
		if p > prev || p < 0 || p > 1 {
			t.Fatalf("AcceptProbability(%v) = %v after %v", q, p, prev)
		}
		prev = p
	}
	if p := AcceptProbability(0, list); p != 1 {
		t.Errorf("AcceptProbability(0) = %v", p)
	}
	if p := AcceptProbability(WTPMedianRatio*list, list); math.Abs(p-0.5) > 1e-12 {
		t.Errorf("AcceptProbability(median) = %v, want 0.5", p)
	}
	if p := AcceptProbability(10*list, list); p > 1e-4 {
		t.Errorf("AcceptProbability(10 × list) = %v", p)
	}
	if p := AcceptProbability(1, 0); p != 0 {
		t.Errorf("AcceptProbability with no list = %v", p)
	}
	var e External
	e.EnsureDefaults()
	for i := range e.Segments {
		s := &e.Segments[i]
		prev := 1.0
		for q := 0.0; q <= 2*list; q += 0.005 {
			p := s.AcceptProbability(q)
			if p > prev+1e-15 || p < 0 || p > 1 {
				t.Fatalf("%s: AcceptProbability(%v) = %v after %v", s.Segment, q, p, prev)
			}
			prev = p
		}
	}
	if od := &e.Segments[0]; od.AcceptProbability(3) != AcceptProbability(3, od.ListUSDPerHour) {
		t.Errorf("on-demand curve differs from the documented one")
	}
	// Reserved: the discount is uniform on [0.2857, 0.5739] (contract
	// prices 1.70–2.85 against the 3.99 list), so 40% off list is accepted
	// with probability P(discount ≤ 0.4) = 0.1143 / 0.2882.
	if p, want := e.Segments[2].AcceptProbability(0.6*list), (0.4-0.2857)/(0.5739-0.2857); math.Abs(p-want) > 1e-9 {
		t.Errorf("reserved AcceptProbability(0.6 list) = %v, want %v", p, want)
	}
}

// TestWTPCurve: drawn WTPs follow the documented curve (KS, α = 0.001),
// and the fraction of customers at or above a quote is AcceptProbability.
func TestWTPCurve(t *testing.T) {
	for _, seg := range []string{"on-demand", "spot", "reserved"} {
		e := &External{Segments: []ExternalSegment{{Segment: seg, MaxJobs: 4000}}}
		if seg == "reserved" {
			noBook := false // contracts signed in the run: the book takes any price
			e.Segments[0].InitialBook = &noBook
		}
		e.EnsureDefaults()
		s := &e.Segments[0]
		jobs := extJobs(t, e, 11, 0)
		x := make([]float64, len(jobs))
		for i, j := range jobs {
			x[i] = float64(j.WTPMicroUSD) / 1e6 / s.ListUSDPerHour
			if seg == "reserved" {
				x[i] = 1 - x[i] // the discount
			}
		}
		ref := &s.WTPRatio
		if seg == "reserved" {
			ref = &s.Discount
		}
		d := ksStat(t, x, ref)
		p := ksP(d, len(x))
		t.Logf("%s: WTP vs %s: KS D = %.4f, n = %d, p = %.3f", seg, ref, d, len(x), p)
		if p < 0.001 {
			t.Errorf("%s: WTP does not follow %s: D = %.4f, p = %.2g", seg, ref, d, p)
		}
		for _, q := range []float64{0.3, 0.5, 0.6, 0.88, 1, 1.5} {
			quote := q * s.ListUSDPerHour
			var n float64
			for _, j := range jobs {
				if float64(j.WTPMicroUSD)/1e6 >= quote {
					n++
				}
			}
			want := s.AcceptProbability(quote)
			if got := n / float64(len(jobs)); math.Abs(got-want) > 4*math.Sqrt(want*(1-want)/float64(len(jobs)))+1e-3 {
				t.Errorf("%s: accepted %.3f of quotes at %.2f × list, curve says %.3f", seg, got, q, want)
			}
		}
	}
}

// TestCustomers: customer IDs come from the finite population with Zipf
// weights: customer 1 is the most frequent, about 1/H(N, s) of jobs.
func TestCustomers(t *testing.T) {
	e := &External{Segments: []ExternalSegment{{Segment: "on-demand", MaxJobs: 5000, Customers: 50, ZipfS: ptrTo(1.0)}}}
	count := map[string]float64{}
	for _, j := range extJobs(t, e, 2, 0) {
		count[j.Customer]++
	}
	var h float64
	for i := 1; i <= 50; i++ {
		h += 1 / float64(i)
	}
	if len(count) > 50 {
		t.Fatalf("%d customers, population 50", len(count))
	}
	want := 5000 / h
	if got := count["od-cust-1"]; math.Abs(got-want) > 4*math.Sqrt(want) || count["od-cust-1"] < count["od-cust-2"] {
		t.Errorf("customer 1 has %v jobs, want ≈%.0f (customer 2: %v)", got, want, count["od-cust-2"])
	}
}

// servingJobs returns the replica jobs of a serving segment and its source.
func servingJobs(t *testing.T, s ExternalSegment, seed uint64, until sim.Time) ([]servedJob, *ServingSource) {
	t.Helper()
	src, err := s.Source(seed, "test", until)
	if err != nil {
		t.Fatal(err)
	}
	return drainExt(t, src), src.(*ServingSource)
}

// TestServingTracksRate: the autoscaler's replicas cover the token rate.
// Without noise, replica-hours × per-replica throughput at the target ≈
// ∫ rate dt; with it, ≈ the noisy tokens of the intervals (Σ T_k), whose
// mean is ∫ rate dt. The tokens of the jobs add up to Σ T_k, and every
// interval has the replicas it needs (exactly, with a one-interval hold).
func TestServingTracksRate(t *testing.T) {
	const days = 14
	until := days * sim.Day
	for _, tc := range []struct {
		name  string
		seg   ExternalSegment
		slack float64 // allowed excess of replica-hours over the exact need
	}{
		// No noise, hold one interval: only ⌈·⌉ rounding (≈ ½ replica of ≈38).
		{"exact", ExternalSegment{Segment: "serving", NoiseSigma: ptrTo(0.0)}, 0.03},
		// Defaults: noise (mean one) and bursts.
		{"defaults", ExternalSegment{Segment: "serving"}, 0.03},
		// A 30-minute minimum hold keeps replicas after the demand falls.
		{"hold", ExternalSegment{Segment: "serving", NoiseSigma: ptrTo(0.0), MinHoldS: 1800}, 0.08},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jobs, src := servingJobs(t, tc.seg, 4, until)
			// A fresh source of the same seed replays the intervals from 0
			// (Next forgets the past).
			_, fresh := servingJobs(t, tc.seg, 4, sim.Microsecond)
			s := src.seg
			perReplica := s.ReplicaTokensPerS * s.TargetUtilization
			var replicaS, tokens float64
			live := make([]int, days*288)
			for _, j := range jobs {
				end := min(j.Submit+j.Work, until)
				replicaS += (end - j.Submit).Seconds()
				tokens += float64(j.tokens)
				for k := j.Submit / src.interval; k < end/src.interval; k++ {
					live[k]++
				}
			}
			integral := fresh.rate.Integral(0, until)
			var intervalTokens float64
			for k := range live {
				iv := fresh.info(int64(k))
				intervalTokens += iv.tokens
				if live[k] < iv.need || (s.MinHoldS == s.IntervalS && live[k] != iv.need) {
					t.Fatalf("interval %d: %d live replicas, needs %d", k, live[k], iv.need)
				}
			}
			ratio := replicaS * perReplica / intervalTokens
			t.Logf("%d jobs, replica-hours %.0f, ∫rate/throughput %.0f h, Σ T_k/throughput %.0f h, ratio %.4f",
				len(jobs), replicaS/3600, integral/perReplica/3600, intervalTokens/perReplica/3600, ratio)
			if ratio < 1 || ratio > 1+tc.slack {
				t.Errorf("replica-hours / (Σ T_k / throughput) = %.4f, want within [1, %.2f]", ratio, 1+tc.slack)
			}
			if *s.NoiseSigma == 0 && math.Abs(intervalTokens/integral-1) > 1e-9 {
				t.Errorf("no noise: Σ T_k = %.6g, ∫ rate = %.6g", intervalTokens, integral)
			}
			// The noise has mean one: over 14 days (≈200 correlation times)
			// Σ T_k is within ±10% of ∫ rate (±5 standard errors).
			if r := intervalTokens / integral; r < 0.9 || r > 1.1 {
				t.Errorf("Σ T_k / ∫ rate = %.4f", r)
			}
			// Tokens of jobs still running at the horizon extend past it.
			if tokens < intervalTokens*(1-1e-6) || tokens > intervalTokens*1.01 {
				t.Errorf("jobs carry %.4g tokens, intervals %.4g", tokens, intervalTokens)
			}
		})
	}
}

// TestServingDeterminism: same seed, same replicas and tokens; the rate
// shape comes from the cycle.
func TestServingDeterminism(t *testing.T) {
	seg := ExternalSegment{Segment: "serving"}
	a, _ := servingJobs(t, seg, 9, 2*sim.Day)
	b, _ := servingJobs(t, seg, 9, 2*sim.Day)
	c, _ := servingJobs(t, seg, 10, 2*sim.Day)
	if !reflect.DeepEqual(a, b) || reflect.DeepEqual(a, c) {
		t.Fatal("serving jobs: not a function of the seed")
	}
	// Without noise the peak hour needs more replicas than the trough.
	_, src := servingJobs(t, ExternalSegment{Segment: "serving", NoiseSigma: ptrTo(0.0), Cycle: &Cycle{DiurnalAmplitude: 0.5, PeakHour: 19}}, 9, sim.Day)
	if peak, trough := src.info(19*12).need, src.info(7*12).need; peak < 2*trough {
		t.Errorf("replicas at 19:00 %d, at 07:00 %d: want the 3:1 cycle", peak, trough)
	}
}

// TestExternalValidate: errors name the field.
func TestExternalValidate(t *testing.T) {
	for _, tc := range []struct {
		seg  ExternalSegment
		want string
	}{
		{ExternalSegment{Segment: "preemptible"}, "segments[0].segment:"},
		{ExternalSegment{Segment: "internal"}, "segments[0].segment:"},
		{ExternalSegment{Segment: "on-demand", ListUSDPerHour: -2}, "segments[0].list_usd_per_hour:"},
		{ExternalSegment{Segment: "reserved", Discount: mustDist("uniform:0.5:1.5")}, "segments[0].discount:"},
		{ExternalSegment{Segment: "reserved", Discount: mustDist("lognormal:0.3:0.1")}, "segments[0].discount:"},
		{ExternalSegment{Segment: "reserved", WTPRatio: mustDist("const:1")}, "segments[0].wtp_ratio:"},
		{ExternalSegment{Segment: "on-demand", TokensPerS: 5}, "segments[0].tokens_per_s:"},
		{ExternalSegment{Segment: "serving", GPUs: mustDist("const:8")}, "segments[0].gpus:"},
		{ExternalSegment{Segment: "serving", PricePerMTokUSD: -1}, "segments[0].price_per_mtok_usd:"},
		{ExternalSegment{Segment: "serving", TargetUtilization: 1.5}, "segments[0].target_utilization:"},
		{ExternalSegment{Segment: "serving", MinHoldS: 7200, MaxHoldS: 3600}, "segments[0].max_hold_s:"},
		{ExternalSegment{Segment: "spot", NoticeS: ptrTo(-30.0)}, "segments[0].notice_s:"},
		{ExternalSegment{Segment: "spot", GPUType: "K80"}, "segments[0].gpu_type:"},
		{ExternalSegment{Segment: "spot", Cycle: &Cycle{DiurnalAmplitude: 1.2}}, "segments[0].cycle.diurnal_amplitude:"},
		{ExternalSegment{Segment: "spot", Cycle: &Cycle{Bursts: []Burst{{AtS: 1, DurationS: 1, Factor: 0.5}}}}, "segments[0].cycle.bursts[0].factor:"},
		{ExternalSegment{Segment: "on-demand", Customers: -1}, "segments[0].customers:"},
	} {
		e := External{Segments: []ExternalSegment{tc.seg}}
		e.EnsureDefaults()
		err := e.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %s…", tc.seg, err, tc.want)
		}
		if _, err := e.Source(1, sim.Day); err == nil {
			t.Errorf("%+v: Source accepted it", tc.seg)
		}
	}
	dup := External{Segments: []ExternalSegment{{Segment: "spot"}, {Segment: "spot"}}}
	dup.EnsureDefaults()
	if err := dup.Validate(); err == nil || !strings.HasPrefix(err.Error(), "segments[1].name:") {
		t.Errorf("duplicate names: %v", err)
	}
	if _, err := (&External{}).Source(1, 0); err == nil {
		t.Errorf("no horizon and no max_jobs: accepted")
	}
}

// TestExternalYAML: the example in docs/external-demand.md decodes (no
// unknown fields) to exactly the defaults.
func TestExternalYAML(t *testing.T) {
	b, err := os.ReadFile("../docs/external-demand.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- defaults -->\n```yaml\n")
	doc, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/external-demand.md: no yaml block after <!-- defaults -->")
	}
	var wrap struct {
		External External `yaml:"external_demand"`
	}
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&wrap); err != nil {
		t.Fatal(err)
	}
	got := wrap.External
	got.EnsureDefaults()
	var def External
	def.EnsureDefaults()
	if len(got.Segments) != len(def.Segments) {
		t.Fatalf("%d segments in the docs, %d by default", len(got.Segments), len(def.Segments))
	}
	for i := range def.Segments {
		g, d := got.Segments[i], def.Segments[i]
		g.PricePerMTokUSD, d.PricePerMTokUSD = math.Round(g.PricePerMTokUSD*1000), math.Round(d.PricePerMTokUSD*1000)
		gy, _ := yaml.Marshal(g)
		dy, _ := yaml.Marshal(d)
		if string(gy) != string(dy) {
			t.Errorf("segment %d: docs\n%s\ndefaults\n%s", i, gy, dy)
		}
	}
}

// FuzzExternal: no YAML panics EnsureDefaults, Validate or the sources; an
// accepted configuration yields valid jobs.
func FuzzExternal(f *testing.F) {
	f.Add("segments: [{segment: on-demand}]")
	f.Add("segments: [{segment: serving, tokens_per_s: 1e6, min_hold_s: 900}]")
	f.Add("segments: [{segment: reserved, discount: 'const:1'}, {segment: spot, cycle: {bursts: [{at_s: 0, duration_s: 60, factor: 9}]}}]")
	f.Fuzz(func(t *testing.T, text string) {
		var e External
		dec := yaml.NewDecoder(strings.NewReader(text))
		dec.KnownFields(true)
		if dec.Decode(&e) != nil {
			return
		}
		e.EnsureDefaults()
		if e.Validate() != nil {
			return
		}
		src, err := e.Source(1, sim.Day)
		if err != nil {
			t.Fatalf("valid but Source fails: %v", err)
		}
		var j sim.JobSpec
		var last sim.Time
		for n := 0; n < 200 && src.Next(&j); n++ {
			if j.Submit < last || j.GPUs < 1 || j.Work <= 0 {
				t.Fatalf("bad job %+v after %v", j, last)
			}
			last = j.Submit
		}
	})
}
