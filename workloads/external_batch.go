package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"

	"neosim/sim"
	"neosim/sim/fleet"
)

// source builds the stream of a segment whose defaults are applied: a
// ServingSource for serving, a jobSource for the other kinds.
func (s *ExternalSegment) source(seed uint64, prefix string, until sim.Time, open OpenRequestLog) (sim.Source, error) {
	if until <= 0 && s.MaxJobs == 0 && (s.Trace == "" || s.TraceTile) {
		return nil, fmt.Errorf("segment %q: needs a horizon or max_jobs, or it never ends", s.Name)
	}
	if until <= 0 {
		until = sim.Forever
	}
	kind, _ := sim.ParseSegment(s.Segment)
	types, _ := fleet.ParseTypeSet(s.GPUType)
	comp := prefix + "/" + s.Name
	if kind == sim.SegServing {
		return newServingSource(s, types, seed, comp, until, open)
	}
	a := Arrivals{RatePerHour: s.RatePerHour, Cycle: *s.Cycle}
	proc, err := a.Process(seed, comp)
	if err != nil {
		return nil, err
	}
	j := &jobSource{
		name: "external " + s.Name, seg: kind, proc: proc, shapes: sim.Stream(seed, comp, 0),
		gpus: s.GPUs, dur: s.Duration, patience: *s.Patience, wtp: s.WTPRatio,
		reserved: kind == sim.SegReserved, types: types, tenant: s.Name,
		prefix: s.Name + "-", ids: newJobIDs(s.Name + "-"), custPrefix: s.Name + "-cust-", list: s.ListUSDPerHour,
		prio: *s.Priority, ckpt: sim.FromSeconds(*s.CheckpointS), notice: sim.FromSeconds(*s.NoticeS),
		until: until, maxJobs: s.MaxJobs,
	}
	if j.reserved {
		j.wtp = s.Discount
	}

	// Zipf-like customer weights i^−s, cumulated for inversion.
	j.cust = make([]float64, s.Customers)
	var total float64
	for i := range j.cust {
		total += math.Pow(float64(i+1), -*s.ZipfS)
		j.cust[i] = total
	}
	for i := range j.cust {
		j.cust[i] /= total
	}
	j.cust[len(j.cust)-1] = 1
	j.custNames = make([]string, len(j.cust))
	if j.reserved && (s.InitialBook == nil || *s.InitialBook) {
		return newBookSource(j, s, seed, comp), nil
	}
	return j, nil
}

// jobSource generates an on-demand, spot or reserved segment.
type jobSource struct {
	name                     string
	seg                      sim.Segment
	proc                     *ArrivalProcess
	shapes                   *rand.Rand
	gpus, dur, patience, wtp Dist // wtp: the discount when reserved
	reserved                 bool
	types                    fleet.TypeSet
	tenant, prefix           string
	custPrefix               string
	cust                     []float64 // cumulative customer weights
	custNames                []string  // custNames[i]: customer i+1's name, made on its first job
	list                     float64   // $/GPU-h
	prio                     int32
	ckpt, notice, until      sim.Time
	maxJobs, n               int64
	ids                      jobIDs
}

func (s *jobSource) Name() string { return s.name }
func (s *jobSource) Err() error   { return nil }

func (s *jobSource) Next(j *sim.JobSpec) bool {
	if s.maxJobs > 0 && s.n >= s.maxJobs {
		return false
	}
	at, ok := s.proc.Next(s.until)
	if !ok {
		return false
	}
	// Five draws per job from the shape stream, in this order.
	gpus := s.gpus.Sample(s.shapes)
	dur := s.dur.Sample(s.shapes)
	patience := s.patience.Sample(s.shapes)
	cust := sort.SearchFloat64s(s.cust, s.shapes.Float64()) + 1
	ratio := s.wtp.Sample(s.shapes)
	if s.reserved {
		ratio = 1 - ratio
	}
	s.n++
	id := s.ids.next()
	name := &s.custNames[cust-1]
	if *name == "" { // one string per customer: no allocation per job
		*name = s.custPrefix + strconv.Itoa(cust)
	}
	*j = sim.JobSpec{
		ID:       id,
		Submit:   at,
		GPUs:     int32(min(max(1, math.Round(gpus)), math.MaxInt32)),
		Milli:    fleet.FullGPU,
		GPUTypes: s.types,
		Tenant:   s.tenant,
		Segment:  s.seg,
		Priority: s.prio,
		Work:     max(sim.Microsecond, sim.FromSeconds(dur)),
		Patience: sim.FromSeconds(patience),
		Notice:   s.notice,
		Customer: *name,
		Hold:     s.reserved, // a contract's term is wall-clock time
		// At least one micro-dollar: 0 would mean "any price".
		WTPMicroUSD: max(1, int64(math.Round(s.list*ratio*1e6))),
	}
	if patience > 0 && j.Patience == 0 {
		j.Patience = sim.Microsecond
	}
	if s.ckpt > 0 && s.ckpt < j.Work {
		j.Checkpoint = s.ckpt
	}
	return true
}
