package workloads

import (
	"math"
	"math/rand/v2"
	"strconv"

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
type ServingSource struct {
	name, prefix, customer string
	seg                    *ExternalSegment
	types                  fleet.TypeSet
	rate                   *Rate
	noise, shapes          *rand.Rand
	patience               Dist
	sigma, rho             float64
	x                      float64 // AR(1) state of the log noise
	interval               sim.Time
	perReplica             float64 // tokens/s one replica takes at the target
	minRep                 int
	holdMin, holdMax       int64 // intervals
	ahead                  []servingInterval
	base                   int64   // interval index of ahead[0]
	levelEnd               []int64 // per level (from 1): interval at which its job ends
	k                      int64   // current interval
	level                  int     // next level to look at in interval k
	until                  sim.Time
	maxJobs, n             int64
	tokens                 int64
	idBuf                  []byte
}

type servingInterval struct {
	need   int
	tokens float64
}

func newServingSource(s *ExternalSegment, types fleet.TypeSet, seed uint64, comp string, until sim.Time) *ServingSource {
	iv := s.IntervalS
	sigma := *s.NoiseSigma
	src := &ServingSource{
		name: "external " + s.Name, prefix: s.Name + "-", customer: s.Name, seg: s, types: types,
		rate:   NewRate(s.TokensPerS, *s.Cycle, sim.Stream(seed, comp, 2)),
		noise:  sim.Stream(seed, comp, 3),
		shapes: sim.Stream(seed, comp, 0), patience: *s.Patience,
		sigma: sigma, rho: math.Exp(-iv / s.NoiseCorrS),
		interval:   sim.FromSeconds(iv),
		perReplica: s.ReplicaTokensPerS * s.TargetUtilization,
		minRep:     *s.MinReplicas,
		holdMin:    max(1, int64(math.Ceil(s.MinHoldS/iv-1e-9))),
		until:      until, maxJobs: s.MaxJobs,
	}
	src.holdMax = max(src.holdMin, int64(math.Ceil(s.MaxHoldS/iv-1e-9)))
	return src
}

func (s *ServingSource) Name() string { return s.name }
func (s *ServingSource) Err() error   { return nil }

// Rate returns the token-rate function (tokens per second, before noise).
func (s *ServingSource) Rate() *Rate { return s.rate }

// info returns interval k's need and tokens, computing intervals in order.
func (s *ServingSource) info(k int64) servingInterval {
	for s.base+int64(len(s.ahead)) <= k {
		j := s.base + int64(len(s.ahead))
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
		for s.level < need {
			s.level++
			L := s.level
			for len(s.levelEnd) < L {
				s.levelEnd = append(s.levelEnd, 0)
			}
			if s.levelEnd[L-1] > s.k {
				continue // its job is still live
			}
			end := s.k + s.holdMin
			for end < s.k+s.holdMax && s.info(end).need >= L {
				end++
			}
			s.levelEnd[L-1] = end
			var tokens float64
			for k := s.k; k < end; k++ {
				if iv := s.info(k); iv.need >= L {
					tokens += iv.tokens / float64(iv.need)
				}
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

func (s *ServingSource) emit(j *sim.JobSpec, at sim.Time, end int64, tokens float64) {
	patience := s.patience.Sample(s.shapes) // the one draw per job
	s.n++
	s.tokens = int64(math.Round(tokens))
	s.idBuf = strconv.AppendInt(append(s.idBuf[:0], s.prefix...), s.n, 10)
	*j = sim.JobSpec{
		ID:       string(s.idBuf),
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
