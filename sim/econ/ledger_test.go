package econ_test

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"neosim/policies"
	"neosim/sim"
	"neosim/sim/econ"
	"neosim/sim/fleet"
)

// listSource returns fixed jobs in order.
type listSource struct{ jobs []sim.JobSpec }

func (s *listSource) Name() string { return "test jobs" }
func (s *listSource) Err() error   { return nil }
func (s *listSource) Next(spec *sim.JobSpec) bool {
	if len(s.jobs) == 0 {
		return false
	}
	*spec = s.jobs[0]
	s.jobs = s.jobs[1:]
	return true
}

// bills records what every ended job owes, computed independently with big
// integers: each run at the price of the type it ran on, summed exactly per
// job, each job's bill rounded to the micro-dollar (halves up) and those
// summed; and Σ price × GPU-hours in floating point.
type bills struct {
	rounded [sim.NumSegments]int64
	float   [sim.NumSegments]float64
	job     map[string]*big.Int // the runs so far of the jobs alive
}

func newBills() *bills {
	return &bills{job: map[string]*big.Int{}}
}

func (b *bills) JobStarted(*sim.Job) {}
func (b *bills) Sampled(*sim.Sample) {}

// JobEnded rounds the job's bill once.
func (b *bills) JobEnded(j *sim.Job) {
	if x, ok := b.job[j.ID]; ok {
		b.rounded[j.Segment] += microUSD(x)
		delete(b.job, j.ID)
	}
}

// RunEnded bills each run at the price of the type it ran on.
func (b *bills) RunEnded(j *sim.Job, ran, _ sim.Time) {
	if !j.Segment.External() {
		return
	}
	x := big.NewInt(j.RunPriceMicroUSD)
	x.Mul(x, big.NewInt(int64(j.GPUs)*int64(j.Milli)))
	x.Mul(x, big.NewInt(int64(ran)))
	if b.job[j.ID] == nil {
		b.job[j.ID] = new(big.Int)
	}
	b.job[j.ID].Add(b.job[j.ID], x)
	b.float[j.Segment] += float64(j.RunPriceMicroUSD) * float64(j.GPUs) * float64(j.Milli) / 1000 * ran.Hours()
}

// microUSD rounds an exact bill (µ$ × milli-GPU-µs per GPU-hour) to µ$,
// halves up.
func microUSD(x *big.Int) int64 {
	d := big.NewInt(int64(fleet.FullGPU) * int64(sim.Hour))
	q, r := new(big.Int).QuoRem(x, d, new(big.Int))
	if r.Lsh(r, 1).Cmp(d) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64()
}

// handModel has round numbers: an H100 costs 1 $/GPU-h of capex, a busy
// one draws its TDP, the facility 1.25× the IT power at 0.10 $/kWh.
func handModel() econ.CostModel {
	return econ.CostModel{
		CapexUSD:                   map[string]float64{"H100": 8760, "A100": 4380},
		LifeYears:                  1,
		OverheadFraction:           0.1,
		PUE:                        1.25,
		USDPerKWh:                  0.10,
		HostPowerFactor:            1,
		BusyUtilization:            1,
		ServingUtilization:         0.5,
		SupportUSDPerCustomerMonth: 73, // 0.1 $ per active hour
		DelayUSDPerGPUHour:         3,
	}
}

func mustFleet(t *testing.T, spec string) *fleet.Fleet {
	t.Helper()
	gs, err := fleet.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fleet.New(gs)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

// TestEngineRun drives a real engine on 4 H100s:
//
//	A on-demand "acme", 4 GPUs, 1 h, submitted at 0: runs 0–1 h
//	I internal, 2 GPUs, 2 h, submitted at 0: waits 1 h, runs 1–3 h
//	B spot "bob", half a GPU, 30 min, submitted at 0: waits (FIFO), runs 1–1.5 h
func TestEngineRun(t *testing.T) {
	f := mustFleet(t, "1x4xH100")
	ext := &listSource{jobs: []sim.JobSpec{
		{ID: "A", GPUs: 4, Milli: 1000, Segment: sim.SegOnDemand, Work: sim.Hour, Customer: "acme"},
		{ID: "B", GPUs: 1, Milli: 500, Segment: sim.SegSpot, Work: 30 * sim.Minute, Customer: "bob"},
	}}
	internal := &listSource{jobs: []sim.JobSpec{
		{ID: "I", GPUs: 2, Milli: 1000, Segment: sim.SegInternal, Work: 2 * sim.Hour},
	}}
	l, err := econ.NewLedger(handModel(), f)
	if err != nil {
		t.Fatal(err)
	}
	b := newBills()
	// CoreWeave H100 on-demand and spot, SOURCES.md §1b.
	pricer := &priced{sim.SegOnDemand: 6_155_000, sim.SegSpot: 2_460_000}
	e := sim.New(sim.Config{CheckInvariants: true}, f, &policies.FIFO{}, pricer, []sim.Source{ext, internal}, l, b)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	if end := e.Stats().End; end != 3*sim.Hour {
		t.Fatalf("run ended at %v, want 3h", end)
	}
	r := l.Report(e.Stats().End)

	// Revenue: exactly Σ price × GPU-hours, per segment.
	const list, spot = 6_155_000, 2_460_000
	wantRev := [sim.NumSegments]int64{sim.SegOnDemand: 4 * list, sim.SegSpot: spot / 4}
	for s := range sim.NumSegments {
		if got := r.Segments[s].RevenueMicroUSD; got != wantRev[s] || got != b.rounded[s] {
			t.Errorf("%v revenue = %d µ$, want %d (exact from the jobs: %d)", s, got, wantRev[s], b.rounded[s])
		}
		if math.Abs(float64(r.Segments[s].RevenueMicroUSD)-b.float[s]) > 1 {
			t.Errorf("%v revenue = %d µ$, Σ price × GPUHours() = %f", s, r.Segments[s].RevenueMicroUSD, b.float[s])
		}
	}
	if r.ExternalRevenueMicroUSD != 4*list+spot/4 {
		t.Errorf("external revenue = %d µ$, want %d", r.ExternalRevenueMicroUSD, 4*list+spot/4)
	}

	// GPU-hours and waiting.
	near(t, "capacity GPU-h", r.CapacityGPUHours, 12)
	near(t, "busy GPU-h", r.BusyGPUHours, 8.25)
	near(t, "idle GPU-h", r.IdleGPUHours, 3.75)
	near(t, "external share", r.ExternalShare, 4.25/8.25)
	near(t, "internal wait GPU-h", r.InternalWaitGPUHours, 2)
	near(t, "spot wait GPU-h", r.Segments[sim.SegSpot].WaitGPUHours, 0.5)

	// Energy: busy GPUs draw 700 W, idle ones 69 W, × PUE 1.25.
	kWh := (8.25*700 + 3.75*69) * 1.25 / 1000
	near(t, "energy MWh", r.EnergyMWh, kWh/1000)
	near(t, "IT energy MWh", r.ITEnergyMWh, kWh/1000/1.25)
	near(t, "average kW", r.AvgPowerKW, kWh/3)

	// Costs: 1 $/GPU-h capex, 0.1 overhead, power at 0.10 $/kWh.
	near(t, "fleet capex", r.Total.Capex, 12)
	near(t, "fleet overhead", r.Total.Overhead, 1.2)
	near(t, "fleet power", r.Total.Power, kWh*0.10)
	extPower := 4.25 * 0.875 * 0.10
	near(t, "external capex", r.External.Capex, 4.25)
	near(t, "external overhead", r.External.Overhead, 0.425)
	near(t, "external power", r.External.Power, extPower)
	near(t, "support", r.External.Support, 1.5*0.1) // acme 1 h + bob 0.5 h active
	if !math.IsNaN(r.NetValueUSD) || !math.IsNaN(r.DelayCausedGPUHours) {
		t.Errorf("value of selling before AddCounterfactual: %v, %v; want NaN", r.NetValueUSD, r.DelayCausedGPUHours)
	}
	r.AddCounterfactual(0.5) // internal jobs would have waited 0.5 GPU-h with nothing sold
	near(t, "caused delay", r.DelayCausedGPUHours, 2-0.5)
	near(t, "caused delay USD", r.DelayCausedUSD, 1.5*3)
	near(t, "net value", r.NetValueUSD, r.ExternalRevenueUSD-(4.25+0.425+extPower)-1.5*0.1-1.5*3)
	near(t, "idle capex", r.Idle.Capex, 3.75)
	near(t, "idle power", r.Idle.Power, 3.75*0.08625*0.10)
	near(t, "internal power", r.Internal.Power, 4*0.875*0.10+3.75*0.08625*0.10)

	// The parts add up to the whole.
	near(t, "external + internal", r.External.Total()+r.Internal.Total(), r.Total.Total())
	near(t, "fleet direct", r.Total.Direct(), 12+1.2+kWh*0.10)
	var segDirect float64
	for s := range sim.NumSegments {
		segDirect += r.Segments[s].Cost.Direct()
	}
	near(t, "Σ segments + idle", segDirect+r.Idle.Direct(), r.Total.Direct())

	rev := r.ExternalRevenueUSD
	near(t, "gross margin", r.GrossMargin, (rev-(4.25+0.425+extPower))/rev)
	near(t, "operating margin", r.OperatingMargin, (rev-(4.25+0.425+extPower+0.15))/rev) // cash only: no delay inside

	// Customers.
	if len(r.Customers) != 2 || r.Customers[0].Name != "acme" || r.Customers[1].Name != "bob" {
		t.Fatalf("customers = %+v, want acme and bob", r.Customers)
	}
	if c := r.Customers[0]; c.RevenueMicroUSD != 4*list || c.Jobs != 1 || c.ActiveHours != 1 {
		t.Errorf("acme = %+v", c)
	}
	if c := r.Customers[1]; c.RevenueMicroUSD != spot/4 || c.ActiveHours != 0.5 {
		t.Errorf("bob = %+v", c)
	}
	near(t, "customer-months", r.CustomerMonths, 1.5/730)
}

// TestFlatExact runs the shipped flat pricer over every external segment,
// with shares, several types and preemption-free FIFO, and checks revenue
// against the exact Σ price × GPU-hours of the jobs.
func TestFlatExact(t *testing.T) {
	f := mustFleet(t, "2x8xH100,1x4xB200")
	var jobs []sim.JobSpec
	for i := range 40 {
		seg := sim.Segment(1 + i%int(sim.NumSegments-1))
		jobs = append(jobs, sim.JobSpec{
			ID: fmt.Sprint(i), Submit: sim.Time(i) * 7 * sim.Minute, GPUs: int32(1 + i%5), Milli: uint16(1000 - 37*(i%3)),
			Segment: seg, Work: sim.Time(1+i%4)*sim.Hour + sim.Time(i)*1234567, Customer: fmt.Sprint("c", i%6),
		})
	}
	l, err := econ.NewLedger(econ.DefaultCostModel(), f)
	if err != nil {
		t.Fatal(err)
	}
	b := newBills()
	flat, _ := policies.Pricers.New("flat")
	e := sim.New(sim.Config{CheckInvariants: true}, f, &policies.FIFO{}, flat, []sim.Source{&listSource{jobs: jobs}}, l, b)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	r := l.Report(e.Stats().End)
	var total int64
	for s := range sim.NumSegments {
		total += b.rounded[s]
		if got, want := r.Segments[s].RevenueMicroUSD, b.rounded[s]; got != want {
			t.Errorf("%v revenue = %d µ$, want %d", s, got, want)
		}
		if s.External() && r.Segments[s].RevenueMicroUSD == 0 {
			t.Errorf("%v earned nothing: the test does not exercise it", s)
		}
	}
	if got, want := r.ExternalRevenueMicroUSD, total; got != want {
		t.Errorf("external revenue = %d µ$, want %d", got, want)
	}
	var byCustomer int64
	for _, c := range r.Customers {
		byCustomer += c.RevenueMicroUSD
	}
	if d := byCustomer - r.ExternalRevenueMicroUSD; d < -6 || d > 6 {
		t.Errorf("Σ customers = %d µ$, external revenue %d: more than rounding apart", byCustomer, r.ExternalRevenueMicroUSD)
	}
	near(t, "busy + idle", r.BusyGPUHours+r.IdleGPUHours, r.CapacityGPUHours)
	near(t, "external + internal", r.External.Total()+r.Internal.Total(), r.Total.Total())
}

// priced quotes a fixed price per segment.
type priced [sim.NumSegments]int64

func (p *priced) Name() string                        { return "fixed" }
func (p *priced) Quote(_ *sim.View, j *sim.Job) int64 { return p[j.Segment] }

// TestRevenueRounding: two jobs each owe 7 µ$/GPU-h × 0.333 GPU-h =
// 2.331 µ$, billed 2 µ$ each (a bill is rounded once, per job); the segment
// is the exact sum of the bills, 4 µ$, as jobs.arrow's revenue_usd adds up.
func TestRevenueRounding(t *testing.T) {
	f := mustFleet(t, "1x1xH100")
	src := &listSource{jobs: []sim.JobSpec{
		{ID: "x", GPUs: 1, Milli: 333, Segment: sim.SegSpot, Work: sim.Hour, Customer: "x"},
		{ID: "y", GPUs: 1, Milli: 333, Segment: sim.SegSpot, Work: sim.Hour, Customer: "y"},
	}}
	l, err := econ.NewLedger(econ.DefaultCostModel(), f)
	if err != nil {
		t.Fatal(err)
	}
	b := newBills()
	e := sim.New(sim.Config{}, f, &policies.FIFO{}, &priced{sim.SegSpot: 7}, []sim.Source{src}, l, b)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	r := l.Report(e.Stats().End)
	if got := r.Segments[sim.SegSpot].RevenueMicroUSD; got != 4 || got != b.rounded[sim.SegSpot] {
		t.Errorf("spot revenue = %d µ$, want 4", got)
	}
	for _, c := range r.Customers {
		if c.RevenueMicroUSD != 2 {
			t.Errorf("customer %s revenue = %d µ$, want 2", c.Name, c.RevenueMicroUSD)
		}
	}
}

// TestHorizon: a job cut by the horizon is billed for the GPU-hours it held.
func TestHorizon(t *testing.T) {
	f := mustFleet(t, "1x2xH100")
	src := &listSource{jobs: []sim.JobSpec{
		{ID: "long", GPUs: 2, Milli: 1000, Segment: sim.SegReserved, Work: 10 * sim.Hour, Customer: "c"},
	}}
	l, _ := econ.NewLedger(econ.DefaultCostModel(), f)
	e := sim.New(sim.Config{Horizon: 90 * sim.Minute}, f, &policies.FIFO{}, &priced{sim.SegReserved: 2_000_000}, []sim.Source{src}, l)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	r := l.Report(e.Stats().End)
	if got := r.Segments[sim.SegReserved].RevenueMicroUSD; got != 6_000_000 { // 2 GPUs × 1.5 h × $2
		t.Errorf("revenue = %d µ$, want 6,000,000", got)
	}
	near(t, "idle GPU-h", r.IdleGPUHours, 0)
}

// TestHandJobs drives the ledger directly on a mixed fleet (2 H100, 1
// A100): a serving job on the A100 and an internal job on one H100.
func TestHandJobs(t *testing.T) {
	f := mustFleet(t, "1x2xH100,1x1xA100")
	l, err := econ.NewLedger(handModel(), f)
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
		JobSpec: sim.JobSpec{ID: "i", Submit: 0, GPUs: 1, Milli: 1000, Segment: sim.SegInternal},
		State:   sim.Completed, Type: h100, FirstStart: sim.Hour, End: 4 * sim.Hour, RunTime: 3 * sim.Hour,
	})
	l.JobEnded(&sim.Job{ // declined at arrival: counted, not billed, no customer
		JobSpec: sim.JobSpec{ID: "d", Submit: sim.Hour, GPUs: 1, Segment: sim.SegOnDemand, Customer: "gone"},
		State:   sim.Declined, Type: -1, FirstStart: -1, End: sim.Hour, PriceMicroUSD: 9_000_000,
	})
	r := l.Report(4 * sim.Hour)

	if r.Segments[sim.SegServing].RevenueMicroUSD != 3_000_000 || r.ExternalRevenueMicroUSD != 3_000_000 {
		t.Errorf("revenue = %d / %d µ$, want 3,000,000", r.Segments[sim.SegServing].RevenueMicroUSD, r.ExternalRevenueMicroUSD)
	}
	if len(r.Customers) != 1 || r.Customers[0].Name != "c" {
		t.Errorf("customers = %+v, want only c", r.Customers)
	}
	if r.Segments[sim.SegOnDemand].Jobs != 1 {
		t.Errorf("on-demand jobs = %d, want 1", r.Segments[sim.SegOnDemand].Jobs)
	}
	// A100: 60 W idle, 400 W TDP; serving at f = 0.5 draws 230 W.
	// H100: 69 W idle, busy 700 W. 12 GPU-h of capacity over 4 h.
	servingKW := (60 + 340*0.5) * 1.25 / 1000
	kWh := 2*servingKW + 2*0.06*1.25 + // A100: 2 h serving, 2 h idle
		3*0.875 + 5*0.08625 // H100: 3 h busy, 5 h idle
	near(t, "energy MWh", r.EnergyMWh, kWh/1000)
	near(t, "serving power", r.Segments[sim.SegServing].Cost.Power, 2*servingKW*0.1)
	near(t, "serving capex", r.External.Capex, 2*0.5) // A100 4,380 $ over a year: 0.5 $/h
	near(t, "fleet capex", r.Total.Capex, 4*0.5+8*1)
	near(t, "internal wait", r.InternalWaitGPUHours, 1)
	near(t, "support", r.External.Support, 2*0.1)
	rev := 3.0
	near(t, "gross margin", r.GrossMargin, (rev-r.External.Direct())/rev)
	near(t, "operating margin", r.OperatingMargin, (rev-r.External.Direct()-0.2)/rev)
}

func TestNoRevenueNaN(t *testing.T) {
	f := mustFleet(t, "1x1xH100")
	l, _ := econ.NewLedger(econ.DefaultCostModel(), f)
	r := l.Report(sim.Hour)
	if !math.IsNaN(r.GrossMargin) || !math.IsNaN(r.OperatingMargin) || !math.IsNaN(r.ExternalShare) {
		t.Errorf("margins %v %v, share %v: want NaN without revenue", r.GrossMargin, r.OperatingMargin, r.ExternalShare)
	}
	// The default H100-hour: 50,000 / (5.5 × 8760) = 1.0378 $ of capex.
	near(t, "idle capex", r.Idle.Capex, 50000/(5.5*8760))
	near(t, "idle overhead", r.Idle.Overhead, 0.2*50000/(5.5*8760))
}

func TestPowerKW(t *testing.T) {
	l, _ := econ.NewLedger(handModel(), mustFleet(t, "1x4xH100"))
	s := &sim.Sample{GPUsTotal: 4}
	s.BusyMilli[sim.SegInternal] = 2000
	s.BusyMilli[sim.SegServing] = 1000
	// 4 × 69 W idle + 2 × 631 W + 1 × 631 × 0.5, × PUE 1.25.
	near(t, "power kW", l.PowerKW(s), (4*69+2*631+631*0.5)*1.25/1000)
}

func TestJobEndedAllocs(t *testing.T) {
	l, _ := econ.NewLedger(econ.DefaultCostModel(), mustFleet(t, "1x8xH100"))
	j := &sim.Job{
		JobSpec: sim.JobSpec{ID: "j", GPUs: 8, Milli: 1000, Segment: sim.SegOnDemand, Customer: "c"},
		State:   sim.Completed, Type: 1, End: sim.Hour, RunTime: sim.Hour, PriceMicroUSD: 1,
	}
	l.JobEnded(j)
	if n := testing.AllocsPerRun(100, func() { l.JobEnded(j) }); n != 0 {
		t.Errorf("JobEnded allocates %v times per call", n)
	}
}

func TestNewLedgerErrors(t *testing.T) {
	if _, err := econ.NewLedger(econ.DefaultCostModel(), nil); err == nil {
		t.Error("no fleet: no error")
	}
	m := econ.DefaultCostModel()
	m.PUE = 0.5
	if _, err := econ.NewLedger(m, mustFleet(t, "1x1xH100")); err == nil {
		t.Error("PUE 0.5: no error")
	}
}

// perCustomer sums what a customer's jobs ran and paid, from the jobs
// themselves (an observer beside the ledger).
type perCustomer map[string]*struct{ jobs, rev int64 }

func (p perCustomer) JobStarted(*sim.Job) {}
func (p perCustomer) Sampled(*sim.Sample) {}
func (p perCustomer) JobEnded(j *sim.Job) {
	if !j.Segment.External() || j.FirstStart < 0 {
		return
	}
	c := p[j.Customer]
	if c == nil {
		c = &struct{ jobs, rev int64 }{}
		p[j.Customer] = c
	}
	c.jobs++
	c.rev += j.WindowRevenueMicroUSD()
}

// TestCustomersInterleaved: many customers' jobs, started, preempted and
// ended in an order of their own (some names sharing their bytes, some
// equal names in bytes of their own), are each booked to their own
// customer: the ledger's per-customer jobs and revenue equal the sums over
// the jobs.
func TestCustomersInterleaved(t *testing.T) {
	f := mustFleet(t, "4x8xH100")
	shared := []string{"acme", "bob", "carol", "dave", "erin", "frank", "grace"}
	var ext []sim.JobSpec
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 3000 {
		k := r.IntN(len(shared))
		name := shared[k]
		if r.IntN(2) == 0 {
			name = strings.Clone(shared[k]) // the same name in bytes of its own
		}
		seg := sim.SegOnDemand
		if r.IntN(3) == 0 {
			seg = sim.SegSpot
		}
		ext = append(ext, sim.JobSpec{ID: fmt.Sprintf("e%d", i), Submit: sim.Time(i) * sim.Minute, GPUs: int32(1 + r.IntN(8)), Milli: 1000,
			Segment: seg, Work: sim.Time(1+r.IntN(90)) * sim.Minute, Customer: name})
	}
	l, err := econ.NewLedger(handModel(), f)
	if err != nil {
		t.Fatal(err)
	}
	want := perCustomer{}
	pricer := &priced{sim.SegOnDemand: 6_155_000, sim.SegSpot: 2_460_000}
	prio := &policies.Priority{}
	prio.EnsureDefaults()
	e := sim.New(sim.Config{CheckInvariants: true}, f, prio, pricer, []sim.Source{&listSource{jobs: ext}}, l, want)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	rep := l.Report(e.Stats().End)
	if len(rep.Customers) != len(shared) {
		t.Fatalf("%d customers, want %d: %+v", len(rep.Customers), len(shared), rep.Customers)
	}
	for _, c := range rep.Customers {
		w := want[c.Name]
		if w == nil || c.Jobs != w.jobs || c.RevenueMicroUSD != w.rev {
			t.Errorf("customer %s: %d jobs, %d µ$; its jobs: %+v", c.Name, c.Jobs, c.RevenueMicroUSD, w)
		}
	}
}
