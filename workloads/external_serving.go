package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"

	"neosim/sim"
	"neosim/sim/fleet"
)

// ServingSource turns a serving segment's token rate into replica jobs.
//
// Autoscaler rule. Time is cut into intervals of IntervalS from 0. Interval
// k carries T_k = ∫ rate dt over it × a mean-one log-normal AR(1) noise
// factor, and needs
//
//	n_k = max(MinReplicas, ⌈T_k / IntervalS / (ReplicaTokensPerS × TargetUtilization)⌉)
//
// replicas. Replicas are numbered by level 1, 2, …; at the start of
// interval k every level L ≤ n_k that has no live job gets one, submitted
// at k·IntervalS (levels in increasing order, so submit times never
// decrease). A job at level L ends at the first interval k' ≥ k + h_min
// with n_k' < L, or at k + h_max (h_min, h_max: MinHoldS, MaxHoldS in whole
// intervals, h_min ≥ 1), and Work is its length. So every interval has at
// least n_k live replicas, exactly n_k when h_min is one interval, and the
// source looks at most h_max intervals ahead. A job serves T_k'/n_k' tokens
// in each interval k' it spans with n_k' ≥ L (the load balancer fills the
// lowest levels; replicas above n_k', kept by the minimum hold, idle), so
// the jobs' tokens sum to Σ T_k.
//
// Request trace. With a trace (ExternalSegment.Trace, read by an
// OpenRequestLog) T_k is the trace's tokens (input + output) of the
// requests that fall in interval k, instead of the rate and noise. Request
// i lands at TraceShiftS + its time from the trace's first request;
// requests before 0 are dropped. TraceRateScale k multiplies the token
// rate, as if each request came k times: with C_k the trace's tokens up to
// the end of interval k, T_k = round(k·C_k) − round(k·C_{k−1}), so the
// tokens demanded are round(k × the trace's) exactly. TraceTile repeats the
// trace every P = ⌊span / interval⌋ + 1 intervals (span: first to last
// request) until the horizon; without it the source ends with the interval
// of the last request, and the replicas with it (no min_replicas after
// it). Replica jobs end by the horizon (rounded up to a whole interval), so
// the demand is the trace's up to it. T_k is then a whole number, and an interval's tokens are split among
// its n_k replicas as whole numbers (the first T_k mod n_k levels one
// more), so the jobs' tokens sum to Σ T_k exactly.
type ServingSource struct {
	name, customer   string
	seg              *ExternalSegment
	types            fleet.TypeSet
	rate             *Rate
	noise, shapes    *rand.Rand
	patience         Dist
	sigma, rho       float64
	x                float64 // AR(1) state of the log noise
	interval         sim.Time
	perReplica       float64 // tokens/s one replica takes at the target
	minRep           int
	holdMin, holdMax int64 // intervals
	ahead            []servingInterval
	base             int64   // interval index of ahead[0]
	levelEnd         []int64 // per level (from 1): interval at which its job ends
	k                int64   // current interval
	level            int     // next level to look at in interval k
	until            sim.Time
	maxJobs, n       int64
	tokens           int64
	ids              jobIDs
	scan             servingScan
	trace            *servingTrace // nil: the synthetic rate
}

type servingInterval struct {
	need   int
	tokens float64 // a whole number with a trace
}

// servingScan holds what the jobs that start in interval k share, so that
// a level's job costs a binary search rather than two scans of its hold.
// Its slices grow as far as a level needs: the first level that gets a job
// in k holds longest (a job's end never grows with its level).
type servingScan struct {
	k    int64     // the interval cached; −1: none
	low  int       // the least need over k … k+holdMin−1
	mins []int     // mins[j]: the least need over k+holdMin … k+holdMin+j
	sums []float64 // sums[i]: Σ tokens/need over k … k+i−1, added in order from 0
}

// RequestLog is a serving request log in memory, sorted by time: traces
// reads the files (traces.Requests), this package only bins them.
type RequestLog interface {
	Len() int
	// Request returns request i's time from the first request (so
	// non-decreasing from 0) and its tokens, input + output.
	Request(i int) (at sim.Time, tokens int64)
}

// OpenRequestLog reads the request log at path (the runner passes the
// traces reader).
type OpenRequestLog func(path string) (RequestLog, error)

// servingTrace is a request log binned by autoscaling interval.
type servingTrace struct {
	bins   []int64 // tokens of tile 0's intervals first, first+1, …
	first  int64   // interval index of bins[0] (negative: before time 0)
	period int64   // tile period in intervals; 0: no tiling
	scale  float64
	cum    int64 // tokens of the log up to the last interval computed
}

// maxTraceBins bounds a trace's span in autoscaling intervals.
const maxTraceBins = 10_000_000

func newServingTrace(s *ExternalSegment, log RequestLog, interval sim.Time) (*servingTrace, error) {
	n := log.Len()
	if n == 0 {
		return nil, fmt.Errorf("trace %s: no requests", s.Trace)
	}
	shift := sim.FromSeconds(s.TraceShiftS)
	span, _ := log.Request(n - 1)
	floorDiv := func(t sim.Time) int64 {
		q := int64(t / interval)
		if t%interval < 0 {
			q--
		}
		return q
	}
	t := &servingTrace{first: floorDiv(shift), scale: s.TraceRateScale}
	if t.scale == 0 {
		t.scale = 1
	}
	if last := floorDiv(shift + span); last-t.first >= maxTraceBins {
		return nil, fmt.Errorf("trace %s: spans %d autoscaling intervals, more than %d", s.Trace, last-t.first+1, maxTraceBins)
	} else {
		t.bins = make([]int64, last-t.first+1)
	}
	if s.TraceTile {
		t.period = int64(span/interval) + 1
	}
	for i := range n {
		at, tokens := log.Request(i)
		if at < 0 || at > span || tokens < 0 {
			return nil, fmt.Errorf("trace %s: request %d at %v with %d tokens: not sorted from 0, or negative", s.Trace, i, at, tokens)
		}
		t.bins[floorDiv(shift+at)-t.first] += tokens
	}
	return t, nil
}

// end returns the interval after the trace's last (math.MaxInt64 when
// tiled).
func (t *servingTrace) end() int64 {
	if t.period > 0 {
		return math.MaxInt64
	}
	return t.first + int64(len(t.bins))
}

// tokens returns interval k's scaled tokens; k must grow by one each call
// from 0.
func (t *servingTrace) tokens(k int64) int64 {
	var raw int64
	if d := k - t.first; d >= 0 {
		i := int64(0)
		if t.period > 0 {
			i = d / t.period
		}
		for ; i >= 0 && d-i*t.period < int64(len(t.bins)); i-- {
			raw += t.bins[d-i*t.period]
			if t.period == 0 {
				break
			}
		}
	}
	if t.scale == 1 {
		t.cum += raw
		return raw
	}
	before := math.Round(t.scale * float64(t.cum))
	t.cum += raw
	return int64(math.Round(t.scale*float64(t.cum)) - before)
}

func newServingSource(s *ExternalSegment, types fleet.TypeSet, seed uint64, comp string, until sim.Time, open OpenRequestLog) (*ServingSource, error) {
	iv := s.IntervalS
	sigma := *s.NoiseSigma
	src := &ServingSource{
		name: "external " + s.Name, ids: newJobIDs(s.Name + "-"), customer: s.Name, seg: s, types: types,
		rate:   NewRate(s.TokensPerS, *s.Cycle, sim.Stream(seed, comp, 2)),
		noise:  sim.Stream(seed, comp, 3),
		shapes: sim.Stream(seed, comp, 0), patience: *s.Patience,
		sigma: sigma, rho: math.Exp(-iv / s.NoiseCorrS),
		interval:   sim.FromSeconds(iv),
		perReplica: s.ReplicaTokensPerS * s.TargetUtilization,
		minRep:     *s.MinReplicas,
		holdMin:    max(1, int64(math.Ceil(s.MinHoldS/iv-1e-9))),
		until:      until, maxJobs: s.MaxJobs, scan: servingScan{k: -1},
	}
	src.holdMax = max(src.holdMin, int64(math.Ceil(s.MaxHoldS/iv-1e-9)))
	if s.Trace != "" {
		if open == nil {
			return nil, fmt.Errorf("trace %s: no request-log reader (the runner reads traces)", s.Trace)
		}
		log, err := open(s.Trace)
		if err != nil {
			return nil, err
		}
		if src.trace, err = newServingTrace(s, log, src.interval); err != nil {
			return nil, err
		}
		if end := src.trace.end(); end < math.MaxInt64 {
			src.until = min(src.until, sim.Time(end)*src.interval)
		}
	}
	return src, nil
}

func (s *ServingSource) Name() string { return s.name }
func (s *ServingSource) Err() error   { return nil }

// Rate returns the token-rate function (tokens per second, before noise).
func (s *ServingSource) Rate() *Rate { return s.rate }

// info returns interval k's need and tokens, computing intervals in order.
func (s *ServingSource) info(k int64) servingInterval {
	if d := k - s.base; d < int64(len(s.ahead)) {
		return s.ahead[d]
	}
	return s.compute(k)
}

// compute computes the intervals up to k and returns k's.
func (s *ServingSource) compute(k int64) servingInterval {
	for s.base+int64(len(s.ahead)) <= k {
		j := s.base + int64(len(s.ahead))
		if s.trace != nil {
			s.ahead = append(s.ahead, s.traceInterval(j))
			continue
		}
		from := sim.Time(j) * s.interval
		tokens := s.rate.Integral(from, from+s.interval)
		if s.sigma > 0 {
			// Stationary AR(1) in log space, one draw per interval; the
			// factor exp(x − σ²/2) has mean one.
			e := s.noise.NormFloat64()
			if j == 0 {
				s.x = s.sigma * e
			} else {
				s.x = s.rho*s.x + math.Sqrt(1-s.rho*s.rho)*s.sigma*e
			}
			tokens *= math.Exp(s.x - s.sigma*s.sigma/2)
		}
		need := int(min(math.Ceil(tokens/s.interval.Seconds()/s.perReplica-1e-9), maxReplicas))
		s.ahead = append(s.ahead, servingInterval{need: max(need, s.minRep), tokens: tokens})
	}
	return s.ahead[k-s.base]
}

// traceInterval is interval k's need and tokens from the trace: no
// replica after the end of an untiled trace.
func (s *ServingSource) traceInterval(k int64) servingInterval {
	tokens := s.trace.tokens(k)
	if k >= s.trace.end() {
		return servingInterval{}
	}
	need := int(min(math.Ceil(float64(tokens)/s.interval.Seconds()/s.perReplica-1e-9), maxReplicas))
	return servingInterval{need: max(need, s.minRep), tokens: float64(tokens)}
}

func (s *ServingSource) Next(j *sim.JobSpec) bool {
	for {
		if s.maxJobs > 0 && s.n >= s.maxJobs {
			return false
		}
		at := sim.Time(s.k) * s.interval
		if at >= s.until || at < 0 {
			return false
		}
		need := s.info(s.k).need
		for len(s.levelEnd) < need {
			s.levelEnd = append(s.levelEnd, 0)
		}
		L, ends, k := s.level, s.levelEnd[:need], s.k
		for L < need && ends[L] > k {
			L++ // level L+1's job is still live
		}
		if L < need {
			L++
			s.level = L
			end := s.holdEnd(L)
			if s.trace != nil {
				// No demand past the horizon: the replicas end by it.
				end = min(end, int64(s.until/s.interval)+min(1, int64(s.until%s.interval)))
			}
			s.levelEnd[L-1] = end
			var tokens float64
			if s.trace == nil && L <= s.scan.low {
				tokens = s.holdSum(end)
			} else {
				tokens = s.levelTokens(L, s.k, end)
			}
			s.emit(j, at, end, tokens)
			return true
		}
		s.k++
		s.level = 0
		if d := s.k - s.base; d > 1024 && d > int64(len(s.ahead))/2 {
			s.ahead = s.ahead[:copy(s.ahead, s.ahead[d:])]
			s.base = s.k
		}
	}
}

// holdEnd returns the end of level L's job starting in interval s.k: the
// first interval from s.k+holdMin with a need below L, at most
// s.k+holdMax.
func (s *ServingSource) holdEnd(L int) int64 {
	sc := &s.scan
	if sc.k != s.k {
		sc.k, sc.mins, sc.sums = s.k, sc.mins[:0], sc.sums[:0]
		sc.low = s.info(s.k).need
		for k := s.k + 1; k < s.k+s.holdMin; k++ {
			sc.low = min(sc.low, s.info(k).need)
		}
	}
	from, span := s.k+s.holdMin, int(s.holdMax-s.holdMin)
	for n := len(sc.mins); n < span && (n == 0 || sc.mins[n-1] >= L); n++ {
		m := s.info(from + int64(n)).need
		if n > 0 {
			m = min(m, sc.mins[n-1])
		}
		sc.mins = append(sc.mins, m)
	}
	// mins does not increase: the first below L.
	i, j := 0, len(sc.mins)
	for i < j {
		if h := int(uint(i+j) >> 1); sc.mins[h] >= L {
			i = h + 1
		} else {
			j = h
		}
	}
	return from + int64(i)
}

// holdSum returns the tokens of a job from s.k to end that serves in every
// interval of it (its level at most scan.low): the sum in the order of
// the intervals, the same bits as adding them one by one.
func (s *ServingSource) holdSum(end int64) float64 {
	sc := &s.scan
	if len(sc.sums) == 0 {
		sc.sums = append(sc.sums, 0)
	}
	for i := len(sc.sums) - 1; s.k+int64(i) < end; i++ {
		iv := s.info(s.k + int64(i))
		sc.sums = append(sc.sums, sc.sums[i]+iv.tokens/float64(iv.need))
	}
	return sc.sums[end-s.k]
}

// levelTokens returns the tokens that level L's job from interval k to
// end serves, interval by interval.
func (s *ServingSource) levelTokens(L int, k, end int64) float64 {
	var tokens float64
	var whole int64 // with a trace
	for ; k < end; k++ {
		if iv := s.info(k); iv.need >= L && s.trace != nil {
			t, n := int64(iv.tokens), int64(iv.need)
			whole += t / n
			if int64(L) <= t%n {
				whole++
			}
		} else if iv.need >= L {
			tokens += iv.tokens / float64(iv.need)
		}
	}
	if s.trace != nil {
		tokens = float64(whole)
	}
	return tokens
}

func (s *ServingSource) emit(j *sim.JobSpec, at sim.Time, end int64, tokens float64) {
	patience := s.patience.Sample(s.shapes) // the one draw per job
	s.n++
	s.tokens = int64(math.Round(tokens))
	*j = sim.JobSpec{
		ID:       s.ids.next(),
		Submit:   at,
		GPUs:     int32(s.seg.ReplicaGPUs),
		Milli:    fleet.FullGPU,
		GPUTypes: s.types,
		Tenant:   s.customer,
		Segment:  sim.SegServing,
		Priority: *s.seg.Priority,
		Work:     sim.Time(end)*s.interval - at,
		Patience: sim.FromSeconds(patience),
		Notice:   sim.FromSeconds(*s.seg.NoticeS),
		Customer: s.customer,
		Hold:     true,
		Tokens:   s.tokens,
		// Billed per million tokens served, not per GPU-hour.
		TokenPriceMicroUSD: int64(math.Round(s.seg.PricePerMTokUSD * 1e6)),
	}
	if patience > 0 && j.Patience == 0 {
		j.Patience = sim.Microsecond
	}
}

// validateTrace checks the trace fields of a serving segment.
func (s *ExternalSegment) validateTrace(bad func(float64) bool) error {
	if s.Trace == "" {
		for _, f := range []struct {
			name string
			set  bool
		}{{"trace_rate_scale", s.TraceRateScale != 0}, {"trace_shift_s", s.TraceShiftS != 0}, {"trace_tile", s.TraceTile}} {
			if f.set {
				return fmt.Errorf("%s: needs trace (a request log)", f.name)
			}
		}
		return nil
	}
	switch {
	case !(s.TraceRateScale >= 0 && s.TraceRateScale <= 1e6):
		return fmt.Errorf("trace_rate_scale: must be in (0, 1e6] (absent: 1), got %v", s.TraceRateScale)
	case bad(s.TraceShiftS) || math.Abs(s.TraceShiftS) > 1e10:
		return fmt.Errorf("trace_shift_s: must be a number of seconds within ±1e10, got %v", s.TraceShiftS)
	}
	return nil
}
