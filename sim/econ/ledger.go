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

	// gpuTime[p][t][s] is segment s's GPU-time on catalog type t in pool
	// p (spare, dedicated), in milli-GPU-µs, booked run by run
	// (RunEnded) on the nodes each run held: exact per type and pool.
	gpuTime [numPools][][sim.NumSegments]u128
	// capacity[p][t] is the GPUs of type t in pool p.
	capacity [numPools][]int64
	// pool[n] is node n's pool; if every node is in one pool, onlyPool is
	// it (and RunEnded need not look at a run's nodes), else -1.
	pool     []uint8
	onlyPool int
	seg      [sim.NumSegments]segAcc

	customers []customer
	byName    map[string]int32
	// last is the customer that customer found last: a job's run and its end
	// are booked one after the other, and names from one source share
	// their bytes, so most look-ups compare a string, not hash it.
	last struct {
		name string
		i    int32
	}

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

// Pools: spare capacity (the company's fleet) and dedicated capacity
// (bought for the cloud, CostModel.DedicatedDatacenters).
const (
	poolSpare = iota
	poolDedicated
	numPools
)

var (
	_ sim.Observer    = (*Ledger)(nil)
	_ sim.RunObserver = (*Ledger)(nil)
)

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
		model:  m,
		fleet:  f,
		rates:  make([]rates, len(fleet.Catalog)),
		pool:   make([]uint8, f.Nodes()),
		byName: map[string]int32{},
	}
	dedicated := map[string]bool{}
	for _, dc := range m.DedicatedDatacenters {
		dedicated[dc] = false
	}
	for p := range numPools {
		l.gpuTime[p] = make([][sim.NumSegments]u128, len(fleet.Catalog))
		l.capacity[p] = make([]int64, len(fleet.Catalog))
	}
	for n := range f.Nodes() {
		id := fleet.NodeID(n)
		dc, _ := f.Datacenter(id)
		if _, ok := dedicated[dc]; ok {
			dedicated[dc] = true
			l.pool[n] = poolDedicated
		}
		l.capacity[l.pool[n]][f.NodeType(id)] += int64(f.NodeGPUs(id))
	}
	l.onlyPool = poolSpare
	if len(l.pool) > 0 {
		l.onlyPool = int(l.pool[0])
	}
	for _, p := range l.pool {
		if int(p) != l.onlyPool {
			l.onlyPool = -1
			break
		}
	}
	for _, dc := range m.DedicatedDatacenters {
		if !dedicated[dc] {
			return nil, fmt.Errorf("cost.dedicated_datacenters: the fleet has no data centre %q", dc)
		}
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
	milli := uint64(j.GPUs) * milliOf(j)
	a := &l.seg[s]
	if j.Submit >= l.window {
		a.jobs++
		a.lost += j.LostGPUHours()
		if wait := j.End - j.Submit - j.RunTime; wait > 0 {
			a.wait.add(mul64(milli, uint64(wait)))
		}
	}
	if j.Runs == 0 && j.RunTime > 0 && j.Type >= 0 && int(j.Type) < len(fleet.Catalog) {
		// A job built outside the engine (no RunEnded): one run on its
		// Type, on spare capacity, at its quote.
		gt := mul64(milli, uint64(j.WindowRunTime()))
		l.book(j, poolSpare, gt)
	}
	if !s.External() || j.FirstStart < 0 || j.End < l.window {
		return // never ran (in the window): no bill, no support
	}
	c := l.customer(j)
	// Every bill, GPU-hour or token priced, from the one place money is
	// computed (sim/money.go): each job's rounded once, summed exactly.
	rev := j.WindowRevenueMicroUSD()
	a.revenue += rev
	c.revenue += rev
	c.jobs++
	c.first = min(c.first, max(j.FirstStart, l.window))
	c.last = max(c.last, j.End)
}

// RunEnded books one run of a job (sim.RunObserver): the GPU-time it held
// in the window, on each node's pool and on the type it ran on. (The run's
// bill, at the price of the type it ran on, accumulates on the job: see
// sim/money.go.)
func (l *Ledger) RunEnded(j *sim.Job, ran, before sim.Time) {
	if j.Segment >= sim.NumSegments || j.Type < 0 || int(j.Type) >= len(fleet.Catalog) {
		return
	}
	if j.RunPriceMicroUSD < 0 || ran < 0 || j.GPUs < 0 {
		panic(fmt.Sprintf("econ: job %q has a negative price, run time or GPU count (%d µ$/GPU-h, %v, %d GPUs)", j.ID, j.RunPriceMicroUSD, ran, j.GPUs))
	}
	in := uint64(ran - before)
	if in == 0 {
		return
	}
	share := milliOf(j)
	if len(j.Shares) == 0 { // no placement recorded: its GPUs on spare capacity
		l.book(j, poolSpare, mul64(uint64(j.GPUs)*share, in))
		return
	}
	if l.onlyPool >= 0 { // the run's shares hold j.GPUs GPUs (fleet.Validate)
		l.book(j, l.onlyPool, mul64(uint64(j.GPUs)*share, in))
		return
	}
	// Sum the GPUs per pool, then book each pool once: the products are
	// exact, so this is the sum per share (a gang has thousands).
	var gpus [numPools]uint64
	for _, sh := range j.Shares {
		p := poolSpare
		if int(sh.Node) < len(l.pool) {
			p = int(l.pool[sh.Node])
		}
		gpus[p] += uint64(sh.GPUs())
	}
	for p, g := range gpus {
		if g > 0 {
			l.book(j, p, mul64(g*share, in))
		}
	}
}

// book adds gt of j's GPU-time in pool p (revenue is booked per job, in
// JobEnded).
func (l *Ledger) book(j *sim.Job, p int, gt u128) {
	l.gpuTime[p][j.Type][j.Segment].add(gt)
	if j.Segment.External() {
		l.customer(j).gpuTime.add(gt)
	}
}

// milliOf is a job's share of each GPU, as the engine reads a zero Milli.
func milliOf(j *sim.Job) uint64 {
	if j.Milli == 0 {
		return fleet.FullGPU
	}
	return uint64(j.Milli)
}

// customer returns j's customer entry (JobSpec.Customer, else Tenant),
// adding it on its first job.
func (l *Ledger) customer(j *sim.Job) *customer {
	name := j.Customer
	if name == "" {
		name = j.Tenant
	}
	if len(l.customers) > 0 && name == l.last.name {
		return &l.customers[l.last.i]
	}
	i, ok := l.byName[name]
	if !ok {
		i = int32(len(l.customers))
		l.customers = append(l.customers, customer{name: name, first: math.MaxInt64, last: -1})
		l.byName[name] = i
	}
	l.last.name, l.last.i = name, i
	return &l.customers[i]
}

// Costs is a cost split by kind, in dollars.
type Costs struct {
	Capex      float64 // straight-line depreciation
	Capital    float64 // cost of capital on the undepreciated capex (economic, not cash)
	Datacenter float64 // data-centre space and plant, per MW-year of IT power
	Overhead   float64 // network and operations
	Power      float64 // facility energy × electricity price
	Support    float64 // external customers' support
	SalesGA    float64 // sales, general and administrative (a share of external revenue)
}

// Direct returns the cost of running GPUs, the cost of revenue:
// depreciation, data centre, network and operations, and power.
func (c Costs) Direct() float64 { return c.Capex + c.Datacenter + c.Overhead + c.Power }

// Total returns the operating (cash and depreciation) cost: Direct,
// support, and sales and G&A. The cost of capital is not in it.
func (c Costs) Total() float64 { return c.Direct() + c.Support + c.SalesGA }

func (c Costs) plus(d Costs) Costs {
	return Costs{c.Capex + d.Capex, c.Capital + d.Capital, c.Datacenter + d.Datacenter, c.Overhead + d.Overhead,
		c.Power + d.Power, c.Support + d.Support, c.SalesGA + d.SalesGA}
}

func (c Costs) times(f float64) Costs {
	return Costs{c.Capex * f, c.Capital * f, c.Datacenter * f, c.Overhead * f, c.Power * f, c.Support * f, c.SalesGA * f}
}

// Company is the company around the cloud: its core business, for the
// margin with and without the cloud (Report.AddCompany). The defaults are
// Meta's Family of Apps, FY2025 (docs/economics.md).
type Company struct {
	// AnnualRevenueUSD is the core business's revenue over a year.
	AnnualRevenueUSD float64 `yaml:"annual_revenue_usd" json:"annual_revenue_usd"`
	// OperatingMargin is the core business's operating margin, in [−1, 1].
	OperatingMargin float64 `yaml:"operating_margin" json:"operating_margin"`
}

// DefaultCompany returns Meta's Family of Apps in FY2025: operating margin
// 51.6% (SOURCES.md §2) [V]; revenue $198.8B [U] (Meta's FY2025 revenue
// less Reality Labs, not in SOURCES.md: check the 10-K segment table).
func DefaultCompany() Company {
	return Company{AnnualRevenueUSD: 198.8e9, OperatingMargin: 0.516}
}

// Validate checks the company block, naming the field.
func (c *Company) Validate() error {
	if err := bound("company.annual_revenue_usd", c.AnnualRevenueUSD, 0, math.Inf(1), false); err != nil {
		return err
	}
	return bound("company.operating_margin", c.OperatingMargin, -1, 1, false)
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
	// OperatingMargin = (revenue − External.Total()) / revenue: accounting
	// margins (depreciation in, cost of capital and the caused delay out:
	// both are reported beside them, never folded in).
	GrossMargin     float64
	OperatingMargin float64

	// The value of selling, measured against the counterfactual (the same
	// scenario and seed without external demand); all NaN until
	// AddCounterfactual. DelayCausedGPUHours = InternalWaitGPUHours −
	// CounterfactualWaitGPUHours (negative in a run where selling happened
	// to help); DelayCausedUSD prices it at DelayUSDPerGPUHour;
	// NetValueUSD = external revenue − External.Total() − DelayCausedUSD:
	// what selling added to the company in the run.
	CounterfactualWaitGPUHours float64
	DelayCausedGPUHours        float64
	DelayCausedUSD             float64
	NetValueUSD                float64

	// EnergyMWh is the facility energy (IT × PUE); ITEnergyMWh the servers'.
	EnergyMWh   float64
	ITEnergyMWh float64
	// AvgPowerKW is EnergyMWh over the run's duration, in kW (0 if End is 0).
	AvgPowerKW float64

	// IdleExternal is the part of Idle the external business pays: the idle
	// capacity of dedicated data centres, and with idle_cost "shared" its
	// GPU-hour share of idle spare capacity. It is in External, not in
	// Internal.
	IdleExternal Costs
	// DedicatedGPUs is the GPUs of the data centres bought for the cloud.
	DedicatedGPUs int64

	// The cloud's return and the company view. CapitalUSD is the capital
	// the cloud uses: the mean undepreciated capex (capex / 2) of dedicated
	// GPUs, and of spare GPUs in proportion to its GPU-hours on them.
	// ReturnOnCapital is its annualized operating profit (revenue −
	// External.Total()) over CapitalUSD (NaN if no capital).
	// EconomicMargin = (revenue − External.Total() − External.Capital) /
	// revenue: after the cost of capital.
	CapitalUSD      float64
	ReturnOnCapital float64
	EconomicMargin  float64
	// Annualized: × 8760 / the window's hours.
	CloudAnnualRevenueUSD float64
	// CloudIncrementalCostUSD is what the company spends because the cloud
	// exists, in the run: External.Total() less the costs of spare capacity
	// that the company bears anyway (depreciation, data centre, overhead
	// and idle power of the GPUs the cloud borrows, and shared idle).
	CloudIncrementalCostUSD float64
	// Company operating margins (AddCompany; NaN before): without the cloud
	// (the core business alone), with it (core + the cloud's annualized
	// revenue and incremental profit), and the difference in points.
	CompanyMarginWithout  float64
	CompanyMarginWith     float64
	CompanyMarginDeltaPts float64

	delayPrice float64 // the model's DelayUSDPerGPUHour
	annual     float64 // 8760 / the window's hours (0 if empty)
}

// AddCompany sets the company view from the core business c.
func (r *Report) AddCompany(c Company) {
	r.CompanyMarginWithout = c.OperatingMargin
	coreOI := c.AnnualRevenueUSD * c.OperatingMargin
	rev := c.AnnualRevenueUSD + r.CloudAnnualRevenueUSD
	oi := coreOI + (r.ExternalRevenueUSD-r.CloudIncrementalCostUSD)*r.annual
	r.CompanyMarginWith = math.NaN()
	if rev > 0 {
		r.CompanyMarginWith = oi / rev
	}
	r.CompanyMarginDeltaPts = 100 * (r.CompanyMarginWith - r.CompanyMarginWithout)
}

// AddCounterfactual sets the value-of-selling fields from the internal
// waiting of the counterfactual run, in GPU-hours (Report doc). A run with
// no external job has itself as its counterfactual: its caused delay and
// net value are then exactly 0.
func (r *Report) AddCounterfactual(waitGPUHours float64) {
	r.CounterfactualWaitGPUHours = waitGPUHours
	r.DelayCausedGPUHours = r.InternalWaitGPUHours - waitGPUHours
	r.DelayCausedUSD = r.DelayCausedGPUHours * r.delayPrice
	r.NetValueUSD = r.ExternalRevenueUSD - r.External.Total() - r.DelayCausedUSD
}

// Report computes the economics of the run from time 0 to end (the engine's
// Stats().End). Call it after Engine.Run; it does not change the ledger.
func (l *Ledger) Report(end sim.Time) Report {
	m := &l.model
	hours := max(0, end-l.window).Hours()
	r := Report{End: end, GPUs: int64(l.fleet.GPUs())}
	r.CapacityGPUHours = float64(r.GPUs) * hours

	var kWh float64 // facility energy: the rates hold host × PUE
	var ext, intern, idleInt, idleExt, transfer Costs
	var extHours float64
	for p := range numPools {
		for _, t := range l.fleet.Types() {
			rt := l.rates[t]
			capacity := float64(l.capacity[p][t]) * hours
			if p == poolDedicated {
				r.DedicatedGPUs += l.capacity[p][t]
			}
			busy, extBusy := 0.0, 0.0
			for s := range sim.NumSegments {
				gh := l.gpuTime[p][t][s].float() / float64(gpuHour)
				busy += gh
				kw := rt.idleKW + rt.addKW(l.util[s])
				c := Costs{Capex: gh * rt.capex, Capital: gh * rt.capital, Datacenter: gh * rt.dc,
					Overhead: gh * rt.overhead, Power: gh * kw * m.USDPerKWh}
				kWh += gh * kw
				sr := &r.Segments[s]
				sr.GPUHours += gh
				sr.Cost = sr.Cost.plus(c)
				if sim.Segment(s).External() {
					ext = ext.plus(c)
					extHours += gh
					extBusy += gh
					if p == poolSpare { // the company's fleet: only the power above idle is new
						transfer = transfer.plus(Costs{Capex: c.Capex, Datacenter: c.Datacenter, Overhead: c.Overhead,
							Power: gh * rt.idleKW * m.USDPerKWh})
					}
					if hours > 0 {
						r.CapitalUSD += gh / hours * rt.book
					}
				} else {
					intern = intern.plus(c)
				}
			}
			ih := max(0, capacity-busy)
			idle := Costs{Capex: ih * rt.capex, Capital: ih * rt.capital, Datacenter: ih * rt.dc,
				Overhead: ih * rt.overhead, Power: ih * rt.idleKW * m.USDPerKWh}
			kWh += ih * rt.idleKW
			r.BusyGPUHours += busy
			r.IdleGPUHours += ih
			switch {
			case p == poolDedicated:
				idleExt = idleExt.plus(idle)
				r.CapitalUSD += ih / max(hours, 1e-300) * rt.book
			case m.IdleCost == IdleShared && busy > 0:
				share := extBusy / busy
				idleExt = idleExt.plus(idle.times(share))
				idleInt = idleInt.plus(idle.times(1 - share))
				transfer = transfer.plus(idle.times(share))
				r.CapitalUSD += ih * share / max(hours, 1e-300) * rt.book
			default:
				idleInt = idleInt.plus(idle)
			}
		}
	}
	r.ExternalShare = math.NaN()
	if r.BusyGPUHours > 0 {
		r.ExternalShare = extHours / r.BusyGPUHours
	}
	r.EnergyMWh = kWh / 1000
	r.ITEnergyMWh = r.EnergyMWh / m.PUE
	if hours > 0 {
		r.AvgPowerKW = kWh / hours
		r.annual = HoursPerYear / hours
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

	r.Customers = make([]CustomerReport, 0, len(l.customers))
	for i := range l.customers {
		c := &l.customers[i]
		active := 0.0
		if c.last >= c.first {
			active = (c.last - c.first).Hours()
		}
		rev := c.revenue
		r.Customers = append(r.Customers, CustomerReport{
			Name: c.name, Jobs: c.jobs, GPUHours: c.gpuTime.float() / float64(gpuHour),
			RevenueMicroUSD: rev, RevenueUSD: float64(rev) / 1e6,
			ActiveHours: active, SupportUSD: active / HoursPerMonth * m.SupportUSDPerCustomerMonth,
		})
		r.CustomerMonths += active / HoursPerMonth
	}
	sort.Slice(r.Customers, func(i, j int) bool { return r.Customers[i].Name < r.Customers[j].Name })

	r.InternalWaitGPUHours = r.Segments[sim.SegInternal].WaitGPUHours
	ext.Support = r.CustomerMonths * m.SupportUSDPerCustomerMonth
	ext.SalesGA = r.ExternalRevenueUSD * m.SalesGAFraction
	r.External = ext.plus(idleExt)
	r.IdleExternal = idleExt
	r.Idle = idleInt.plus(idleExt)
	r.Internal = intern.plus(idleInt)
	r.Total = r.External.plus(r.Internal)
	r.CloudIncrementalCostUSD = r.External.Total() - transfer.Total()
	r.CloudAnnualRevenueUSD = r.ExternalRevenueUSD * r.annual

	r.delayPrice = m.DelayUSDPerGPUHour
	nan := math.NaN()
	r.CounterfactualWaitGPUHours, r.DelayCausedGPUHours, r.DelayCausedUSD, r.NetValueUSD = nan, nan, nan, nan
	r.CompanyMarginWithout, r.CompanyMarginWith, r.CompanyMarginDeltaPts = nan, nan, nan
	r.GrossMargin, r.OperatingMargin, r.EconomicMargin, r.ReturnOnCapital = nan, nan, nan, nan
	if rev := r.ExternalRevenueUSD; r.ExternalRevenueMicroUSD != 0 {
		r.GrossMargin = (rev - r.External.Direct()) / rev
		r.OperatingMargin = (rev - r.External.Total()) / rev
		r.EconomicMargin = (rev - r.External.Total() - r.External.Capital) / rev
	}
	if r.CapitalUSD > 0 {
		r.ReturnOnCapital = (r.ExternalRevenueUSD - r.External.Total()) * r.annual / r.CapitalUSD
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
// per hour: depreciation, data centre and overhead of every GPU, and the power of the
// sample (PowerKW) at the electricity price.
func (l *Ledger) CostUSDPerHour(s *sim.Sample) float64 {
	var fixed float64
	for _, t := range l.fleet.Types() {
		rt := &l.rates[t]
		fixed += float64(l.fleet.TypeGPUs(t)) * (rt.capex + rt.dc + rt.overhead)
	}
	return fixed + l.PowerKW(s)*l.model.USDPerKWh
}
