package econ

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"neosim/sim"
	"neosim/sim/fleet"
)

// gpuHour is one GPU-hour in the ledger's unit of GPU-time,
// milli-GPU-microseconds: 1000 × 3.6e9 = 3.6e12.
const gpuHour = fleet.FullGPU * uint64(sim.Hour)

// Ledger is the economics of one run, kept as an engine observer: revenue by
// segment and by customer, the GPU-time each segment held on each GPU type,
// and internal waiting. Costs are computed from these totals by Report.
//
// Everything is counted when a job ends (JobEnded), from the job's exported
// fields: GPU-time = GPUs × Milli × RunTime (exactly the engine's held
// GPU-time, all runs together), revenue = sim.Job.RevenueMicroUSD, wait =
// End − Submit − RunTime (every stretch in the queue, re-queues after
// preemptions and failures included). The engine ends every job, running or
// queued, when the run ends, so after Run the totals are complete and
// exact; a Report taken in the middle of a run misses the jobs still alive.
//
// GPU-time accumulators are 128-bit integers (see u128), so no total
// overflows or loses precision however large the fleet or long the run;
// revenue is the exact int64 sum of the jobs' micro-dollars
// (sim.Job.RevenueMicroUSD, the one place money is computed). JobEnded does
// not allocate (a customer's first job adds its entry).
type Ledger struct {
	model CostModel
	fleet *fleet.Fleet
	rates []rates                  // per catalog type
	util  [sim.NumSegments]float64 // power utilization f per segment
	// curved is true when some type's power is not the catalog's linear
	// model (CostModel.Power): PowerKW then averages per type.
	curved bool

	// gpuTime[t][s] is segment s's GPU-time on catalog type t, in
	// milli-GPU-µs, attributed to the type of the job's last run (see
	// docs/economics.md: a job that ran on several types is counted on its
	// last one until the engine reports every run).
	gpuTime [][sim.NumSegments]u128
	seg     [sim.NumSegments]segAcc

	customers []customer
	byName    map[string]int32

	window sim.Time // the measurement window's start (SetWindow)
}

// SetWindow leaves the warm-up [0, start) out of the report: GPU-time,
// revenue and costs count only what jobs held from start on (the engine's
// Job.RunTimeBeforeWindow, with sim.Config.Warmup = start), and the
// per-job measures (jobs, waits, lost GPU-hours) only the jobs submitted
// at or after start. Call it before the run.
func (l *Ledger) SetWindow(start sim.Time) { l.window = max(0, start) }

// segAcc accumulates one segment.
type segAcc struct {
	jobs    int64
	revenue int64 // Σ jobs' revenue, µ$ (each rounded once: sim.Job.RevenueMicroUSD)
	wait    u128  // milli-GPU-µs queued
	lost    float64
}

// customer accumulates one external customer's billing.
type customer struct {
	name        string
	jobs        int64
	gpuTime     u128
	revenue     int64    // µ$
	first, last sim.Time // first start and last end of its jobs that started
}

var _ sim.Observer = (*Ledger)(nil)

// NewLedger returns a ledger for a run on fleet f under model m, or the
// error of m.Validate.
func NewLedger(m CostModel, f *fleet.Fleet) (*Ledger, error) {
	if f == nil {
		return nil, errors.New("econ: no fleet")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	l := &Ledger{
		model:   m,
		fleet:   f,
		rates:   make([]rates, len(fleet.Catalog)),
		gpuTime: make([][sim.NumSegments]u128, len(fleet.Catalog)),
		byName:  map[string]int32{},
	}
	for t := range fleet.Catalog {
		l.rates[t] = m.rates(fleet.TypeID(t))
		l.curved = l.curved || !l.rates[t].linear()
	}
	for s := range sim.NumSegments {
		l.util[s] = m.BusyUtilization
	}
	l.util[sim.SegServing] = m.ServingUtilization
	return l, nil
}

// JobStarted does nothing: the ledger counts a job when it ends.
func (l *Ledger) JobStarted(*sim.Job) {}

// Sampled does nothing: GPU-time comes exactly from the jobs (see
// PowerKW for the power at a sample).
func (l *Ledger) Sampled(*sim.Sample) {}

// JobEnded books a job that reached its terminal state. It panics on a
// negative price or negative times, which only a broken engine or pricer
// produces.
func (l *Ledger) JobEnded(j *sim.Job) {
	s := j.Segment
	if s >= sim.NumSegments {
		return // not a segment: nothing to bill or cost
	}
	if j.PriceMicroUSD < 0 || j.RunTime < 0 || j.GPUs < 0 {
		panic(fmt.Sprintf("econ: job %q has a negative price, run time or GPU count (%d µ$/GPU-h, %v, %d GPUs)", j.ID, j.PriceMicroUSD, j.RunTime, j.GPUs))
	}
	share := uint64(j.Milli)
	if share == 0 {
		share = fleet.FullGPU // as the engine reads a zero Milli
	}
	milli := uint64(j.GPUs) * share
	gt := mul64(milli, uint64(j.WindowRunTime()))
	a := &l.seg[s]
	if j.Submit >= l.window {
		a.jobs++
		a.lost += j.LostGPUHours()
		if wait := j.End - j.Submit - j.RunTime; wait > 0 {
			a.wait.add(mul64(milli, uint64(wait)))
		}
	}
	if j.Type >= 0 && int(j.Type) < len(l.gpuTime) {
		l.gpuTime[j.Type][s].add(gt)
	}
	if !s.External() {
		return
	}
	rev := j.WindowRevenueMicroUSD() // sim/money.go: the one place money is computed
	a.revenue += rev
	if j.FirstStart < 0 || j.End < l.window {
		return // never ran (in the window): no bill, no support
	}
	name := j.Customer
	if name == "" {
		name = j.Tenant
	}
	i, ok := l.byName[name]
	if !ok {
		i = int32(len(l.customers))
		l.customers = append(l.customers, customer{name: name, first: max(j.FirstStart, l.window), last: j.End})
		l.byName[name] = i
	}
	c := &l.customers[i]
	c.jobs++
	c.gpuTime.add(gt)
	c.revenue += rev
	c.first = min(c.first, max(j.FirstStart, l.window))
	c.last = max(c.last, j.End)
}

// Costs is a cost split by kind, in dollars.
type Costs struct {
	Capex    float64 // straight-line depreciation
	Overhead float64 // network and operations
	Power    float64 // facility energy × electricity price
	Support  float64 // external customers' support
}

// Direct returns the cost of running GPUs: capex, overhead and power.
func (c Costs) Direct() float64 { return c.Capex + c.Overhead + c.Power }

// Total returns the sum of every kind: the cash cost.
func (c Costs) Total() float64 { return c.Direct() + c.Support }

func (c Costs) plus(d Costs) Costs {
	return Costs{c.Capex + d.Capex, c.Overhead + d.Overhead, c.Power + d.Power, c.Support + d.Support}
}

// SegmentReport is one segment's part of a Report.
type SegmentReport struct {
	Jobs         int64   // jobs ended
	GPUHours     float64 // GPU-hours held
	LostGPUHours float64 // held without progress
	WaitGPUHours float64 // GPUs × time queued
	// RevenueMicroUSD is Σ its jobs' revenue, each rounded once to the
	// micro-dollar (sim.Job.RevenueMicroUSD; 0 for internal work).
	RevenueMicroUSD int64
	RevenueUSD      float64
	// Cost is the direct cost of its GPU-hours (capex, overhead and power;
	// no support or delay).
	Cost Costs
}

// CustomerReport is one external customer's part of a Report.
type CustomerReport struct {
	Name            string // JobSpec.Customer, else Tenant
	Jobs            int64  // jobs that ran
	GPUHours        float64
	RevenueMicroUSD int64
	RevenueUSD      float64
	// ActiveHours spans its first start to its last end.
	ActiveHours float64
	SupportUSD  float64
}

// Report is the economics of a run from the start of its measurement
// window (0 unless SetWindow) to End. Dollars are float64;
// revenue is also given exactly in micro-dollars. A margin is NaN when the
// external revenue is 0.
type Report struct {
	End  sim.Time
	GPUs int64
	// CapacityGPUHours = GPUs × End in hours = BusyGPUHours + IdleGPUHours.
	CapacityGPUHours float64
	BusyGPUHours     float64
	IdleGPUHours     float64
	// ExternalShare is the external segments' part of BusyGPUHours (NaN if
	// no GPU was busy).
	ExternalShare float64

	Segments  [sim.NumSegments]SegmentReport
	Customers []CustomerReport // sorted by name
	// CustomerMonths is Σ customers' active hours / 730: what support is
	// charged on.
	CustomerMonths float64

	ExternalRevenueMicroUSD int64
	ExternalRevenueUSD      float64

	// External is the external business's cash cost: the direct cost of
	// its GPU-hours and support. Internal is the direct cost of
	// internal GPU-hours plus idle capacity (Idle, a part of Internal): the
	// fleet is built for internal training, so what nobody uses stays with
	// it. Total = External + Internal, kind by kind: its Direct() is the
	// whole fleet's cost.
	External Costs
	Internal Costs
	Idle     Costs
	Total    Costs

	// InternalWaitGPUHours is Σ internal jobs' GPUs × time queued. Internal
	// jobs also wait for each other, so it is not what selling costs them:
	// that is the difference from the counterfactual (AddCounterfactual).
	InternalWaitGPUHours float64

	// GrossMargin = (revenue − External.Direct()) / revenue;
	// OperatingMargin = (revenue − External.Total()) / revenue: cash
	// margins, with no opportunity cost inside (the caused delay is
	// reported beside them, never folded in).
	GrossMargin     float64
	OperatingMargin float64

	// The value of selling, measured against the counterfactual (the same
	// scenario and seed without external demand); all NaN until
	// AddCounterfactual. DelayCausedGPUHours = InternalWaitGPUHours −
	// CounterfactualWaitGPUHours (negative in a run where selling happened
	// to help); DelayCausedUSD prices it at DelayUSDPerGPUHour;
	// NetValueUSD = external revenue − External.Direct() − External.Support
	// − DelayCausedUSD: what selling added to the company in the run.
	CounterfactualWaitGPUHours float64
	DelayCausedGPUHours        float64
	DelayCausedUSD             float64
	NetValueUSD                float64

	// EnergyMWh is the facility energy (IT × PUE); ITEnergyMWh the servers'.
	EnergyMWh   float64
	ITEnergyMWh float64
	// AvgPowerKW is EnergyMWh over the run's duration, in kW (0 if End is 0).
	AvgPowerKW float64

	delayPrice float64 // the model's DelayUSDPerGPUHour
}

// AddCounterfactual sets the value-of-selling fields from the internal
// waiting of the counterfactual run, in GPU-hours (Report doc). A run with
// no external job has itself as its counterfactual: its caused delay and
// net value are then exactly 0.
func (r *Report) AddCounterfactual(waitGPUHours float64) {
	r.CounterfactualWaitGPUHours = waitGPUHours
	r.DelayCausedGPUHours = r.InternalWaitGPUHours - waitGPUHours
	r.DelayCausedUSD = r.DelayCausedGPUHours * r.delayPrice
	r.NetValueUSD = r.ExternalRevenueUSD - r.External.Direct() - r.External.Support - r.DelayCausedUSD
}

// Report computes the economics of the run from time 0 to end (the engine's
// Stats().End). Call it after Engine.Run; it does not change the ledger.
func (l *Ledger) Report(end sim.Time) Report {
	m := &l.model
	hours := max(0, end-l.window).Hours()
	r := Report{End: end, GPUs: int64(l.fleet.GPUs())}
	r.CapacityGPUHours = float64(r.GPUs) * hours

	var kWh float64 // facility energy: the rates hold host × PUE
	var ext, intern, idle Costs
	var extHours float64
	for _, t := range l.fleet.Types() {
		rt := l.rates[t]
		capacity := float64(l.fleet.TypeGPUs(t)) * hours
		busy := 0.0
		for s := range sim.NumSegments {
			gh := l.gpuTime[t][s].float() / float64(gpuHour)
			busy += gh
			kw := rt.idleKW + rt.addKW(l.util[s])
			c := Costs{Capex: gh * rt.capex, Overhead: gh * rt.overhead, Power: gh * kw * m.USDPerKWh}
			kWh += gh * kw
			sr := &r.Segments[s]
			sr.GPUHours += gh
			sr.Cost = sr.Cost.plus(c)
			if sim.Segment(s).External() {
				ext = ext.plus(c)
				extHours += gh
			} else {
				intern = intern.plus(c)
			}
		}
		ih := capacity - busy
		idle = idle.plus(Costs{Capex: ih * rt.capex, Overhead: ih * rt.overhead, Power: ih * rt.idleKW * m.USDPerKWh})
		kWh += ih * rt.idleKW
		r.BusyGPUHours += busy
		r.IdleGPUHours += ih
	}
	r.ExternalShare = math.NaN()
	if r.BusyGPUHours > 0 {
		r.ExternalShare = extHours / r.BusyGPUHours
	}
	r.EnergyMWh = kWh / 1000
	r.ITEnergyMWh = r.EnergyMWh / m.PUE
	if hours > 0 {
		r.AvgPowerKW = kWh / hours
	}

	var extRev int64
	for s := range sim.NumSegments {
		a := &l.seg[s]
		sr := &r.Segments[s]
		sr.Jobs = a.jobs
		sr.LostGPUHours = a.lost
		sr.WaitGPUHours = a.wait.float() / float64(gpuHour)
		sr.RevenueMicroUSD = a.revenue
		sr.RevenueUSD = float64(sr.RevenueMicroUSD) / 1e6
		if sim.Segment(s).External() {
			extRev += a.revenue
		}
	}
	r.ExternalRevenueMicroUSD = extRev
	r.ExternalRevenueUSD = float64(r.ExternalRevenueMicroUSD) / 1e6

	r.Customers = make([]CustomerReport, len(l.customers))
	for i := range l.customers {
		c := &l.customers[i]
		active := (c.last - c.first).Hours()
		rev := c.revenue
		r.Customers[i] = CustomerReport{
			Name: c.name, Jobs: c.jobs, GPUHours: c.gpuTime.float() / float64(gpuHour),
			RevenueMicroUSD: rev, RevenueUSD: float64(rev) / 1e6,
			ActiveHours: active, SupportUSD: active / HoursPerMonth * m.SupportUSDPerCustomerMonth,
		}
		r.CustomerMonths += active / HoursPerMonth
	}
	sort.Slice(r.Customers, func(i, j int) bool { return r.Customers[i].Name < r.Customers[j].Name })

	r.InternalWaitGPUHours = r.Segments[sim.SegInternal].WaitGPUHours
	ext.Support = r.CustomerMonths * m.SupportUSDPerCustomerMonth
	r.External = ext
	r.Idle = idle
	r.Internal = intern.plus(idle)
	r.Total = r.External.plus(r.Internal)

	r.delayPrice = m.DelayUSDPerGPUHour
	nan := math.NaN()
	r.CounterfactualWaitGPUHours, r.DelayCausedGPUHours, r.DelayCausedUSD, r.NetValueUSD = nan, nan, nan, nan
	r.GrossMargin, r.OperatingMargin = nan, nan
	if rev := r.ExternalRevenueUSD; r.ExternalRevenueMicroUSD != 0 {
		r.GrossMargin = (rev - r.External.Direct()) / rev
		r.OperatingMargin = (rev - r.External.Total()) / rev
	}
	return r
}

// PowerKW returns the facility power at a sample, in kW: every GPU's idle
// power plus what its busy GPUs add. A Sample gives busy GPUs per segment,
// not per type, so in a fleet of several types a busy GPU adds the fleet's
// capacity-weighted mean of what one adds at the segment's utilization:
// exact for one type, an estimate otherwise (exact once Sample carries
// busy GPUs per type).
func (l *Ledger) PowerKW(s *sim.Sample) float64 {
	var base, dyn, gpus float64
	var add [sim.NumSegments]float64 // curved: Σ GPUs × addKW(f) per segment
	for _, t := range l.fleet.Types() {
		n := float64(l.fleet.TypeGPUs(t))
		rt := &l.rates[t]
		base += n * rt.idleKW
		dyn += n * rt.dynKW
		gpus += n
		if l.curved {
			for seg := range add {
				add[seg] += n * rt.addKW(l.util[seg])
			}
		}
	}
	if gpus == 0 {
		return base
	}
	dyn /= gpus
	for seg, milli := range s.BusyMilli {
		if l.curved {
			base += float64(milli) / fleet.FullGPU * (add[seg] / gpus)
		} else {
			// The linear model's arithmetic, unchanged bit for bit.
			base += float64(milli) / fleet.FullGPU * dyn * l.util[seg]
		}
	}
	return base
}

// CostUSDPerHour returns the whole fleet's cost rate at a sample, dollars
// per hour: depreciation and overhead of every GPU, and the power of the
// sample (PowerKW) at the electricity price.
func (l *Ledger) CostUSDPerHour(s *sim.Sample) float64 {
	var fixed float64
	for _, t := range l.fleet.Types() {
		fixed += float64(l.fleet.TypeGPUs(t)) * (l.rates[t].capex + l.rates[t].overhead)
	}
	return fixed + l.PowerKW(s)*l.model.USDPerKWh
}
