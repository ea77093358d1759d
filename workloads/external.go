package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"

	"neosim/sim"
	"neosim/sim/fleet"
)

// External is the neocloud's outside demand: a list of customer segments,
// each its own generator. docs/external-demand.md lists every parameter,
// its default and its source.
//
//   - on-demand: instance requests that arrive by an Arrivals process, wait
//     up to a drawn patience, and accept a quote at or below a drawn
//     willingness to pay (WTP = list × a draw from WTPRatio).
//   - spot: the same shape, preemptible with a notice, checkpointing, and
//     a WTP around the spot/on-demand ratio.
//   - reserved: contracts of many GPUs held for a term of weeks to months
//     (Work = the term), at list × (1 − discount). The engine must never
//     preempt them.
//   - serving: a token rate (Cycle plus correlated noise) turned into
//     replica jobs by an autoscaler (see ExternalSegment and
//     ServingSource).
//
// Random numbers: a segment named N in an External named E draws its job
// shapes from the stream (seed, E/N, 0), a fixed number per job (five for
// on-demand, spot and reserved: GPUs, duration, patience, customer, WTP or
// discount; one for serving: patience), its arrival times from (E/N, 1),
// its random bursts from (E/N, 2) and the serving noise from (E/N, 3). So a
// segment's k-th job has the same shape whatever the rates, cycles, other
// segments or policy (common random numbers).
type External struct {
	// Name prefixes the segments' random streams (default "external").
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Segments are the generators; empty means DefaultExternalSegments.
	Segments []ExternalSegment `yaml:"segments,omitempty" json:"segments,omitempty"`
}

// ExternalSegment is one external demand generator. Segment picks the
// kind; a field left at zero (or absent, for pointers) takes the kind's
// default (DefaultExternalSegment), and a field that does not apply to the
// kind is an error. A written cycle is used as given.
type ExternalSegment struct {
	// Segment is on-demand, spot, reserved or serving.
	Segment string `yaml:"segment" json:"segment"`
	// Name labels the source and its streams; job IDs are "<name>-<n>".
	// Default: od, spot, rsv, srv.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// MaxJobs stops the segment after this many jobs (0: no limit).
	MaxJobs int64 `yaml:"max_jobs,omitempty" json:"max_jobs,omitempty"`
	// GPUType is the type set jobs ask for ("H100", "H100|H200"; empty:
	// any).
	GPUType string `yaml:"gpu_type,omitempty" json:"gpu_type,omitempty"`
	// Priority is passed to the allocator; larger is more important.
	Priority *int32 `yaml:"priority,omitempty" json:"priority,omitempty"`
	// Patience is how long a customer waits in the queue before leaving,
	// seconds; a drawn 0 waits forever.
	Patience *Dist `yaml:"patience_s,omitempty" json:"patience_s,omitempty"`
	// NoticeS is the warning before a preemption takes effect, seconds.
	NoticeS *float64 `yaml:"notice_s,omitempty" json:"notice_s,omitempty"`
	// Cycle shapes the arrivals (serving: the token rate).
	Cycle *Cycle `yaml:"cycle,omitempty" json:"cycle,omitempty"`

	// On-demand, spot and reserved.

	// RatePerHour is the weekly mean arrival rate without bursts, jobs/h.
	RatePerHour float64 `yaml:"rate_per_hour,omitempty" json:"rate_per_hour,omitempty"`
	// GPUs per job, rounded to a whole number ≥ 1.
	GPUs Dist `yaml:"gpus,omitempty" json:"gpus,omitempty"`
	// Duration is the run time on an H100, seconds (reserved: the term,
	// wall-clock).
	Duration Dist `yaml:"duration_s,omitempty" json:"duration_s,omitempty"`
	// CheckpointS is how often a job saves its state, seconds (0: never).
	CheckpointS *float64 `yaml:"checkpoint_s,omitempty" json:"checkpoint_s,omitempty"`
	// Customers is the size of the customer population; customer i (from
	// 1) is drawn with weight i^−ZipfS. IDs are "<name>-cust-<i>".
	Customers int      `yaml:"customers,omitempty" json:"customers,omitempty"`
	ZipfS     *float64 `yaml:"zipf_s,omitempty" json:"zipf_s,omitempty"`
	// ListUSDPerHour is the list price per GPU-hour that WTP is relative
	// to. Default: the catalog price of the first type of GPUType, or of
	// the H100 when any type will do.
	ListUSDPerHour float64 `yaml:"list_usd_per_hour,omitempty" json:"list_usd_per_hour,omitempty"`
	// WTPRatio (on-demand, spot) is the distribution of willingness to pay
	// as a fraction of list: WTP = list × WTPRatio.
	WTPRatio Dist `yaml:"wtp_ratio,omitempty" json:"wtp_ratio,omitempty"`
	// Discount (reserved) is the distribution of the contract discount, in
	// [0, 1]: WTP = list × (1 − Discount).
	Discount Dist `yaml:"discount,omitempty" json:"discount,omitempty"`

	// Serving.

	// TokensPerS is the weekly mean token rate (input + output) without
	// bursts or noise.
	TokensPerS float64 `yaml:"tokens_per_s,omitempty" json:"tokens_per_s,omitempty"`
	// NoiseSigma is the log-sd of a mean-one log-normal factor on each
	// autoscaling interval's tokens; NoiseCorrS is its correlation time,
	// seconds (AR(1): consecutive intervals correlate exp(−interval/corr)).
	NoiseSigma *float64 `yaml:"noise_sigma,omitempty" json:"noise_sigma,omitempty"`
	NoiseCorrS float64  `yaml:"noise_corr_s,omitempty" json:"noise_corr_s,omitempty"`
	// ReplicaGPUs is the GPUs of one model replica; ReplicaTokensPerS its
	// throughput at full load; TargetUtilization the load the autoscaler
	// aims for, in (0, 1].
	ReplicaGPUs       int     `yaml:"replica_gpus,omitempty" json:"replica_gpus,omitempty"`
	ReplicaTokensPerS float64 `yaml:"replica_tokens_per_s,omitempty" json:"replica_tokens_per_s,omitempty"`
	TargetUtilization float64 `yaml:"target_utilization,omitempty" json:"target_utilization,omitempty"`
	// IntervalS is the autoscaling interval; a replica job is held at
	// least MinHoldS and at most MaxHoldS (both rounded up to whole
	// intervals), seconds.
	IntervalS float64 `yaml:"interval_s,omitempty" json:"interval_s,omitempty"`
	MinHoldS  float64 `yaml:"min_hold_s,omitempty" json:"min_hold_s,omitempty"`
	MaxHoldS  float64 `yaml:"max_hold_s,omitempty" json:"max_hold_s,omitempty"`
	// MinReplicas is the floor of the replica count.
	MinReplicas *int `yaml:"min_replicas,omitempty" json:"min_replicas,omitempty"`
	// PricePerMTokUSD is the price of a million tokens, for billing.
	PricePerMTokUSD float64 `yaml:"price_per_mtok_usd,omitempty" json:"price_per_mtok_usd,omitempty"`
}

// Default parameters. [V] verbatim, [D] derived, [C] computed from a public
// data file, [U] an engineering assumption, as in
// ../shared/calibration/SOURCES.md; ServeGen and Azure are
// ../shared/traces/alibaba-servegen-2025 and azure-llm-2023.
const (
	// WTPMedianRatio and WTPSigma are the on-demand demand curve: WTP =
	// list × LogNormal(median 1.36, log-sd 0.50), anchored on the prices
	// H100 capacity changes hands at, not on our list: its 5th and 95th
	// percentiles are Vast.ai's marketplace median 2.40 (§1b) and Azure's
	// 12.29 $/GPU-h (§1a) [U], so the median is √(2.40 × 12.29) = 5.43 $ =
	// 1.36 × the 3.99 H100 list (fleet.Catalog, §1b median) and the log-sd
	// ln(12.29/2.40)/(2 × 1.645) = 0.50 [D]. At list, 73% accept.
	WTPMedianRatio = 1.36
	WTPSigma       = 0.50
	// SpotWTPMedianRatio and SpotWTPSigma put the 5th and 95th percentiles
	// of spot WTP at 0.40 and 0.60 of list, the observed spot/on-demand
	// ratios (§1c) [D]: median √(0.4 × 0.6) = 0.49, log-sd ln 1.5/3.29 =
	// 0.12.
	SpotWTPMedianRatio = 0.49
	SpotWTPSigma       = 0.12
	// ReservedDiscountDist is the reserved segment's default discount
	// distribution (DefaultExternalSegment explains it).
	ReservedDiscountDist = "uniform:0.2857:0.5739"
	// SpotNoticeS is AWS's spot interruption notice (§1c) [V]; GCP and
	// Azure give 30 s.
	SpotNoticeS = 120.0

	// ServingTokensPerS: ServeGen m-large's mean 195.8 req/s (SOURCE.md
	// statistics) × Azure conv's mean 1,155 input + 211 output = 1,366
	// tokens per request (SOURCE.md statistics) ≈ 267,000 tokens/s [D].
	ServingTokensPerS = 267_000.0
	// ServingDiurnalAmplitude and ServingPeakHour: the first harmonic of
	// ServeGen m-large's 14-day hourly means (154–224 req/s) has amplitude
	// 0.12 of the mean and peaks at 19:00 [C] (the hourly peak/trough
	// ratio of 1.45 also holds noise; the cosine's is 1.12/0.88 = 1.27).
	ServingDiurnalAmplitude = 0.12
	ServingPeakHour         = 19.0
	// ServingWeekendFactor [U]: ServeGen hides the day of the week; its
	// day means range 0.54–1.43 of the mean [C], lowest on three
	// consecutive days.
	ServingWeekendFactor = 0.85
	// ServingNoiseSigma and ServingNoiseCorrS: ServeGen m-large's 10-minute
	// windows over the day × hour-of-day profile have log-sd 0.28 and
	// lag-one autocorrelation 0.82 [C], a correlation time of −600/ln 0.82
	// ≈ 3,000 s. (Azure conv's 5-minute token counts in its hour have a CV
	// of 0.24 [C].)
	ServingNoiseSigma = 0.28
	ServingNoiseCorrS = 3000.0
	// ServingBurstsPerDay, ServingBurstFactor: one ServeGen m-large day in
	// 14 runs at 1.43 × the mean [C]: a burst every 14 days, ×1.4, for a
	// day.
	ServingBurstsPerDay = 1.0 / 14
	ServingBurstFactor  = 1.4
	// ServingReplicaGPUs, ServingReplicaTokensPerS: an 8×H100 replica of a
	// 70B-class model serving 10,000 tokens/s (prefill + decode) [U].
	ServingReplicaGPUs       = 8
	ServingReplicaTokensPerS = 10_000.0
	// ServingTargetUtilization, ServingIntervalS: a 70% load target and a
	// 5-minute autoscaling interval [U].
	ServingTargetUtilization = 0.7
	ServingIntervalS         = 300.0
	// ServingMaxHoldS bounds a replica job to a day, after which it is
	// renewed [U]; it also bounds the generator's look-ahead.
	ServingMaxHoldS = 86400.0
	// ServingMinReplicas: two replicas for redundancy [U].
	ServingMinReplicas = 2
)

// ServingInputPerMTokUSD and ServingOutputPerMTokUSD are an open-weight
// 70B-class model's API prices per million tokens (Llama-3.3-70B-Instruct
// on DeepInfra, SOURCES.md §1d) [V]. A serving job counts all its tokens
// together, so it is billed the blend at the Azure conv mix of 1,155 input
// and 211 output tokens per request (ServingTokensPerS) [D]: the same
// expected revenue as pricing input and output apart.
const (
	ServingInputPerMTokUSD  = 0.13
	ServingOutputPerMTokUSD = 0.40
)

// ServingPricePerMTokUSD is the blended price per million tokens served:
// (1,155 × 0.13 + 211 × 0.40) / 1,366 = 0.1717 $ [D] (see
// ServingInputPerMTokUSD). A replica at the target load then earns 0.172 ×
// 10,000 × 0.7 × 3,600 / 1e6 / 8 = 0.54 $ per GPU-hour: open-model API
// prices pay far less per GPU-hour than renting the GPU.
const ServingPricePerMTokUSD = 0.1717

func h100Index() fleet.TypeID {
	t, ok := fleet.LookupType("H100")
	if !ok {
		panic("workloads: no H100 in the catalog")
	}
	return t
}

// AcceptProbability returns the probability that an on-demand customer
// accepts a quote (per GPU-hour) when the list price is list, under the
// default demand curve: P(WTP ≥ quote) = 1 − F(quote/list), F the CDF of
// LogNormal(median WTPMedianRatio, log-sd WTPSigma). It is 1 for quotes
// ≤ 0, decreases in quote, and is 0 when list ≤ 0.
func AcceptProbability(quote, list float64) float64 {
	if !(list > 0) {
		return 0
	}
	if quote <= 0 {
		return 1
	}
	return 1 - distuv.LogNormal{Mu: math.Log(WTPMedianRatio), Sigma: WTPSigma}.CDF(quote/list)
}

// DefaultExternalSegments returns one segment of each kind with its
// defaults (a fresh slice).
func DefaultExternalSegments() []ExternalSegment {
	return []ExternalSegment{
		DefaultExternalSegment(sim.SegOnDemand), DefaultExternalSegment(sim.SegSpot),
		DefaultExternalSegment(sim.SegReserved), DefaultExternalSegment(sim.SegServing),
	}
}

func ptrTo[T any](v T) *T { return &v }

// DefaultExternalSegment returns the defaults of a segment kind (the
// internal segment has none: an empty ExternalSegment).
func DefaultExternalSegment(kind sim.Segment) ExternalSegment {
	// Neocloud customers work business hours: a daily cycle peaking at
	// 14:00 with amplitude 0.2 and quieter weekends (0.7) [U]; no source
	// has an on-demand submission profile.
	business := Cycle{DiurnalAmplitude: 0.2, PeakHour: 14, WeekendFactor: 0.7}
	switch kind {
	case sim.SegOnDemand:
		return ExternalSegment{
			Segment: kind.String(), Name: "od",
			// 10 requests/h of mostly 8-GPU instances, hours long (median
			// 4 h, mean 8.2 h), patience about an hour: the default
			// scenario's on-demand workload [U].
			RatePerHour: 10, Cycle: ptrTo(business),
			GPUs:     mustDist("choice:1=0.2,8=0.6,16=0.1,64=0.1"),
			Duration: mustDist("lognormal:14400:1.2"),
			Patience: ptrTo(mustDist("exp:3600")),
			// Paying customers outrank internal work (frontier: 10–100) [U].
			Priority:    ptrTo[int32](200),
			CheckpointS: ptrTo(0.0), NoticeS: ptrTo(0.0),
			// 200 customers, Zipf s = 1.1: the largest holds ≈21% of jobs [U].
			Customers: 200, ZipfS: ptrTo(1.1),
			WTPRatio: mustDist("lognormal:" + fmtFloat(WTPMedianRatio) + ":" + fmtFloat(WTPSigma)),
		}
	case sim.SegSpot:
		return ExternalSegment{
			Segment: kind.String(), Name: "spot",
			// Smaller and shorter than on-demand (median 2 h) [U].
			RatePerHour: 5, Cycle: ptrTo(business),
			GPUs:     mustDist("choice:1=0.3,8=0.6,16=0.1"),
			Duration: mustDist("lognormal:7200:1.2"),
			Patience: ptrTo(mustDist("exp:7200")),
			// Below internal work: spot is preempted first [U].
			Priority: ptrTo[int32](1),
			// Checkpoints every 30 min [U]; AWS's 2-minute notice (§1c).
			CheckpointS: ptrTo(1800.0), NoticeS: ptrTo(SpotNoticeS),
			Customers: 100, ZipfS: ptrTo(1.1),
			WTPRatio: mustDist("lognormal:" + fmtFloat(SpotWTPMedianRatio) + ":" + fmtFloat(SpotWTPSigma)),
		}
	case sim.SegReserved:
		return ExternalSegment{
			Segment: kind.String(), Name: "rsv",
			// Two contracts a month [U], no cycle.
			RatePerHour: 2.0 / 720, Cycle: &Cycle{},
			// 64–1,024 GPUs [U] (mean 211).
			GPUs: mustDist("choice:64=0.4,128=0.25,256=0.2,512=0.1,1024=0.05"),
			// Terms of 2 weeks to 6 months (mean 75.5 d) [U], within AWS
			// Capacity Blocks' 1–182 days (§1a) [V].
			Duration: mustDist("choice:1209600=0.2,2592000=0.3,7862400=0.3,15724800=0.2"),
			// A customer waits a day for its capacity, then signs elsewhere [U].
			Patience: ptrTo(mustDist("const:86400")),
			// Highest: the engine and allocator must never preempt it [U].
			Priority:    ptrTo[int32](1000),
			CheckpointS: ptrTo(0.0), NoticeS: ptrTo(0.0),
			Customers: 20, ZipfS: ptrTo(1.1),
			// A contract's WTP is a price term contracts trade at: uniform
			// on the H100 1-year contract index's range, 1.70 (the Oct 2025
			// cycle low) to 2.85 $/GPU-h (early 2024) (§1b) [V], so the
			// discount off the 3.99 list is uniform on [1 − 2.85/3.99,
			// 1 − 1.70/3.99] = [0.286, 0.574] [D]. The default 41% discount
			// (the Mar 2026 index, 2.35) is accepted by 43% of contracts:
			// where the quote sits in the market decides, not a flat rule.
			Discount: mustDist(ReservedDiscountDist),
		}
	case sim.SegServing:
		return ExternalSegment{
			Segment: kind.String(), Name: "srv",
			GPUType: "H100", TokensPerS: ServingTokensPerS,
			Cycle: &Cycle{DiurnalAmplitude: ServingDiurnalAmplitude, PeakHour: ServingPeakHour,
				WeekendFactor: ServingWeekendFactor, BurstsPerDay: ServingBurstsPerDay,
				BurstFactor: ServingBurstFactor, BurstDurationS: 86400},
			NoiseSigma: ptrTo(ServingNoiseSigma), NoiseCorrS: ServingNoiseCorrS,
			ReplicaGPUs: ServingReplicaGPUs, ReplicaTokensPerS: ServingReplicaTokensPerS,
			TargetUtilization: ServingTargetUtilization,
			IntervalS:         ServingIntervalS, MinHoldS: ServingIntervalS, MaxHoldS: ServingMaxHoldS,
			MinReplicas: ptrTo(ServingMinReplicas),
			// A replica not placed within one interval is abandoned [U].
			Patience: ptrTo(mustDist("const:" + fmtFloat(ServingIntervalS))),
			// Above on-demand, below reserved [U]; replicas hold no state.
			Priority: ptrTo[int32](500), NoticeS: ptrTo(0.0),
			PricePerMTokUSD: ServingPricePerMTokUSD,
		}
	}
	return ExternalSegment{}
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// EnsureDefaults fills the fields left at zero: the name, the segment list
// (all four kinds when empty), and each segment's defaults.
func (e *External) EnsureDefaults() {
	if e.Name == "" {
		e.Name = "external"
	}
	if len(e.Segments) == 0 {
		e.Segments = DefaultExternalSegments()
	}
	for i := range e.Segments {
		e.Segments[i].EnsureDefaults()
	}
}

// EnsureDefaults fills the fields left at zero (nil, for pointers) with the
// kind's defaults. An unknown kind is left for Validate to report.
func (s *ExternalSegment) EnsureDefaults() {
	kind, err := sim.ParseSegment(s.Segment)
	if err != nil || kind == sim.SegInternal {
		return
	}
	d := DefaultExternalSegment(kind)
	fill := func(v *float64, def float64) {
		if *v == 0 {
			*v = def
		}
	}
	fillDist := func(v *Dist, def Dist) {
		if v.String() == "" {
			*v = def
		}
	}
	if s.Name == "" {
		s.Name = d.Name
	}
	if s.GPUType == "" {
		s.GPUType = d.GPUType
	}
	if s.Priority == nil {
		s.Priority = d.Priority
	}
	if s.Patience == nil {
		s.Patience = d.Patience
	}
	if s.NoticeS == nil {
		s.NoticeS = d.NoticeS
	}
	if s.Cycle == nil {
		s.Cycle = d.Cycle
	}
	fill(&s.RatePerHour, d.RatePerHour)
	fillDist(&s.GPUs, d.GPUs)
	fillDist(&s.Duration, d.Duration)
	if s.CheckpointS == nil {
		s.CheckpointS = d.CheckpointS
	}
	if s.Customers == 0 {
		s.Customers = d.Customers
	}
	if s.ZipfS == nil {
		s.ZipfS = d.ZipfS
	}
	if s.ListUSDPerHour == 0 && kind != sim.SegServing {
		s.ListUSDPerHour = defaultList(s.GPUType)
	}
	fillDist(&s.WTPRatio, d.WTPRatio)
	fillDist(&s.Discount, d.Discount)
	fill(&s.TokensPerS, d.TokensPerS)
	if s.NoiseSigma == nil {
		s.NoiseSigma = d.NoiseSigma
	}
	fill(&s.NoiseCorrS, d.NoiseCorrS)
	if s.ReplicaGPUs == 0 {
		s.ReplicaGPUs = d.ReplicaGPUs
	}
	fill(&s.ReplicaTokensPerS, d.ReplicaTokensPerS)
	fill(&s.TargetUtilization, d.TargetUtilization)
	fill(&s.IntervalS, d.IntervalS)
	fill(&s.MinHoldS, s.IntervalS)
	fill(&s.MaxHoldS, d.MaxHoldS)
	if s.MinReplicas == nil {
		s.MinReplicas = d.MinReplicas
	}
	fill(&s.PricePerMTokUSD, d.PricePerMTokUSD)
}

// defaultList returns the catalog list price of the first type of the set
// (catalog order), or the H100's for any type; 0 for a bad set.
func defaultList(types string) float64 {
	set, err := fleet.ParseTypeSet(types)
	if err != nil {
		return 0
	}
	if set == 0 {
		return fleet.Catalog[h100Index()].ListUSDPerHour
	}
	for t := range fleet.Catalog {
		if set&fleet.Only(fleet.TypeID(t)) != 0 {
			return fleet.Catalog[t].ListUSDPerHour
		}
	}
	return 0
}

// Validate checks the parameters and returns an error naming the field,
// such as "segments[2].discount: …". Call EnsureDefaults first.
func (e *External) Validate() error {
	if e.Name == "" {
		return fmt.Errorf("name: required")
	}
	if len(e.Segments) == 0 {
		return fmt.Errorf("segments: at least one segment is required")
	}
	seen := make(map[string]bool, len(e.Segments))
	for i := range e.Segments {
		s := &e.Segments[i]
		prefix := "segments[" + strconv.Itoa(i) + "]."
		if err := s.Validate(); err != nil {
			return fmt.Errorf("%s%w", prefix, err)
		}
		if seen[s.Name] {
			return fmt.Errorf("%sname: duplicate segment name %q", prefix, s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

// Validate checks one segment and returns an error naming the field. Call
// EnsureDefaults first.
func (s *ExternalSegment) Validate() error {
	kind, err := sim.ParseSegment(s.Segment)
	if err != nil || kind == sim.SegInternal {
		return fmt.Errorf("segment: unknown external segment %q (on-demand, spot, reserved, serving)", s.Segment)
	}
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	serving := kind == sim.SegServing
	// Fields of other kinds must be left out.
	only := []struct {
		field string
		set   bool
		ok    bool
	}{
		{"rate_per_hour", s.RatePerHour != 0, !serving},
		{"gpus", s.GPUs.String() != "", !serving},
		{"duration_s", s.Duration.String() != "", !serving},
		{"checkpoint_s", s.CheckpointS != nil && *s.CheckpointS != 0, !serving},
		{"customers", s.Customers != 0, !serving},
		{"zipf_s", s.ZipfS != nil, !serving},
		{"list_usd_per_hour", s.ListUSDPerHour != 0, !serving},
		{"wtp_ratio", s.WTPRatio.String() != "", kind == sim.SegOnDemand || kind == sim.SegSpot},
		{"discount", s.Discount.String() != "", kind == sim.SegReserved},
		{"tokens_per_s", s.TokensPerS != 0, serving},
		{"noise_sigma", s.NoiseSigma != nil, serving},
		{"noise_corr_s", s.NoiseCorrS != 0, serving},
		{"replica_gpus", s.ReplicaGPUs != 0, serving},
		{"replica_tokens_per_s", s.ReplicaTokensPerS != 0, serving},
		{"target_utilization", s.TargetUtilization != 0, serving},
		{"interval_s", s.IntervalS != 0, serving},
		{"min_hold_s", s.MinHoldS != 0, serving},
		{"max_hold_s", s.MaxHoldS != 0, serving},
		{"min_replicas", s.MinReplicas != nil, serving},
		{"price_per_mtok_usd", s.PricePerMTokUSD != 0, serving},
	}
	for _, o := range only {
		if o.set && !o.ok {
			return fmt.Errorf("%s: does not apply to segment %s", o.field, kind)
		}
	}
	switch {
	case s.Name == "":
		return fmt.Errorf("name: required")
	case s.MaxJobs < 0:
		return fmt.Errorf("max_jobs: must be ≥ 0, got %d", s.MaxJobs)
	case s.Priority == nil:
		return fmt.Errorf("priority: required")
	case s.Patience == nil:
		return fmt.Errorf("patience_s: required (a distribution; \"const:0\" waits forever)")
	case s.NoticeS == nil || !(*s.NoticeS >= 0) || bad(*s.NoticeS):
		return fmt.Errorf("notice_s: must be ≥ 0")
	case s.Cycle == nil:
		return fmt.Errorf("cycle: required")
	}
	if _, err := fleet.ParseTypeSet(s.GPUType); err != nil {
		return fmt.Errorf("gpu_type: %v", err)
	}
	if err := s.Cycle.Validate(); err != nil {
		return fmt.Errorf("cycle.%w", err)
	}
	if serving {
		return s.validateServing(bad)
	}
	switch {
	case !(s.RatePerHour > 0) || bad(s.RatePerHour):
		return fmt.Errorf("rate_per_hour: must be > 0, got %v", s.RatePerHour)
	case s.GPUs.String() == "":
		return fmt.Errorf("gpus: required (a distribution, e.g. \"choice:1=0.2,8=0.8\")")
	case s.Duration.String() == "":
		return fmt.Errorf("duration_s: required (a distribution, e.g. \"lognormal:14400:1.2\")")
	case s.CheckpointS == nil || !(*s.CheckpointS >= 0) || bad(*s.CheckpointS):
		return fmt.Errorf("checkpoint_s: must be ≥ 0")
	case s.Customers < 1 || s.Customers > maxCustomers:
		return fmt.Errorf("customers: must be in [1, %d], got %d", maxCustomers, s.Customers)
	case s.ZipfS == nil || !(*s.ZipfS >= 0) || bad(*s.ZipfS):
		return fmt.Errorf("zipf_s: must be ≥ 0")
	case !(s.ListUSDPerHour > 0) || bad(s.ListUSDPerHour):
		return fmt.Errorf("list_usd_per_hour: must be > 0, got %v", s.ListUSDPerHour)
	}
	if kind == sim.SegReserved {
		if s.Discount.String() == "" {
			return fmt.Errorf("discount: required (a distribution on [0, 1], e.g. \"uniform:0.3:0.45\")")
		}
		if lo, hi := distRange(&s.Discount); lo < 0 || hi > 1 {
			return fmt.Errorf("discount: must lie in [0, 1] (a fraction of list), got %s (up to %v)", s.Discount, hi)
		}
	} else if s.WTPRatio.String() == "" {
		return fmt.Errorf("wtp_ratio: required (a distribution of WTP / list, e.g. \"lognormal:0.88:0.5\")")
	}
	return nil
}

func (s *ExternalSegment) validateServing(bad func(float64) bool) error {
	switch {
	case !(s.TokensPerS > 0) || bad(s.TokensPerS):
		return fmt.Errorf("tokens_per_s: must be > 0, got %v", s.TokensPerS)
	case s.NoiseSigma == nil || !(*s.NoiseSigma >= 0 && *s.NoiseSigma <= 3):
		return fmt.Errorf("noise_sigma: must be in [0, 3]")
	case !(s.NoiseCorrS > 0) || bad(s.NoiseCorrS):
		return fmt.Errorf("noise_corr_s: must be > 0, got %v", s.NoiseCorrS)
	case s.ReplicaGPUs < 1 || s.ReplicaGPUs > math.MaxInt32:
		return fmt.Errorf("replica_gpus: must be ≥ 1, got %d", s.ReplicaGPUs)
	case !(s.ReplicaTokensPerS > 0) || bad(s.ReplicaTokensPerS):
		return fmt.Errorf("replica_tokens_per_s: must be > 0, got %v", s.ReplicaTokensPerS)
	case !(s.TargetUtilization > 0 && s.TargetUtilization <= 1):
		return fmt.Errorf("target_utilization: must be in (0, 1], got %v", s.TargetUtilization)
	case !(s.IntervalS >= 1) || bad(s.IntervalS):
		return fmt.Errorf("interval_s: must be ≥ 1, got %v", s.IntervalS)
	case !(s.MinHoldS >= 0) || bad(s.MinHoldS):
		return fmt.Errorf("min_hold_s: must be ≥ 0, got %v", s.MinHoldS)
	case !(s.MaxHoldS >= s.MinHoldS) || bad(s.MaxHoldS) || s.MaxHoldS/s.IntervalS > 1e6:
		return fmt.Errorf("max_hold_s: must be ≥ min_hold_s and at most 1e6 intervals, got %v", s.MaxHoldS)
	case s.MinReplicas == nil || *s.MinReplicas < 0 || *s.MinReplicas > maxReplicas:
		return fmt.Errorf("min_replicas: must be in [0, %d]", maxReplicas)
	case !(s.PricePerMTokUSD >= 0) || bad(s.PricePerMTokUSD):
		return fmt.Errorf("price_per_mtok_usd: must be ≥ 0, got %v", s.PricePerMTokUSD)
	case s.TokensPerS/(s.ReplicaTokensPerS*s.TargetUtilization) > maxReplicas/100:
		return fmt.Errorf("tokens_per_s: needs %.3g replicas on average, more than %d",
			s.TokensPerS/(s.ReplicaTokensPerS*s.TargetUtilization), maxReplicas/100)
	}
	return nil
}

// Bounds that keep a generator's memory small whatever the input.
const (
	maxCustomers = 1_000_000
	// maxReplicas caps a serving segment's replicas in any interval (the
	// noise's tail is clipped there); the mean need must stay 100× below.
	maxReplicas = 1_000_000
)

// distRange returns the smallest and largest values d can take.
func distRange(d *Dist) (lo, hi float64) {
	switch {
	case d.q != nil:
		return d.q.Quantile(0), d.q.Quantile(1)
	case d.vals != nil:
		return slices.Min(d.vals), slices.Max(d.vals)
	}
	return d.c, d.c
}

// probAtLeast returns P(X ≥ x) for X ~ d.
func probAtLeast(d *Dist, x float64) float64 {
	switch {
	case d.q != nil:
		return 1 - d.q.(interface{ CDF(float64) float64 }).CDF(x)
	case d.vals != nil:
		p, prev := 0.0, 0.0
		for i, v := range d.vals {
			if v >= x {
				p += d.cumul[i] - prev
			}
			prev = d.cumul[i]
		}
		return p
	case d.c >= x:
		return 1
	}
	return 0
}

// AcceptProbability returns the probability that a customer of the
// segment accepts a quote (per GPU-hour): P(WTP ≥ quote). On-demand and
// spot: P(WTPRatio ≥ quote/list); reserved: P(Discount ≤ 1 − quote/list);
// serving (billed per token) accepts any quote. Call EnsureDefaults first.
func (s *ExternalSegment) AcceptProbability(quote float64) float64 {
	kind, _ := sim.ParseSegment(s.Segment)
	switch {
	case kind == sim.SegServing || quote <= 0:
		return 1
	case !(s.ListUSDPerHour > 0):
		return 0
	case kind == sim.SegReserved:
		// 1 − discount ≥ q/list ⇔ discount ≤ 1 − q/list.
		return 1 - probAtLeast(&s.Discount, math.Nextafter(1-quote/s.ListUSDPerHour, math.Inf(1)))
	}
	return probAtLeast(&s.WTPRatio, quote/s.ListUSDPerHour)
}

// Source returns the external demand of a run with the given seed: the
// segments' jobs merged by submit time (ties go to the earlier segment).
// Defaults are applied to a copy. It stops at until (exclusive), or when
// every segment has reached its max_jobs; until ≤ 0 needs max_jobs on
// every segment.
func (e *External) Source(seed uint64, until sim.Time) (sim.Source, error) {
	g := *e
	g.Segments = slices.Clone(e.Segments)
	g.EnsureDefaults()
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("external demand %q: %w", g.Name, err)
	}
	m := &mergedSource{name: "external demand " + g.Name}
	for i := range g.Segments {
		src, err := g.Segments[i].source(seed, g.Name, until)
		if err != nil {
			return nil, fmt.Errorf("external demand %q: segments[%d]: %w", g.Name, i, err)
		}
		m.srcs = append(m.srcs, src)
	}
	m.pend = make([]sim.JobSpec, len(m.srcs))
	m.has = make([]bool, len(m.srcs))
	for i := range m.srcs {
		m.pull(i)
	}
	return m, nil
}

// Source returns the segment's own job stream (streams named prefix/name;
// see External). Defaults are applied to a copy.
func (s *ExternalSegment) Source(seed uint64, prefix string, until sim.Time) (sim.Source, error) {
	c := *s
	c.EnsureDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c.source(seed, prefix, until)
}

func (s *ExternalSegment) source(seed uint64, prefix string, until sim.Time) (sim.Source, error) {
	if until <= 0 && s.MaxJobs == 0 {
		return nil, fmt.Errorf("segment %q: needs a horizon or max_jobs, or it never ends", s.Name)
	}
	if until <= 0 {
		until = sim.Forever
	}
	kind, _ := sim.ParseSegment(s.Segment)
	types, _ := fleet.ParseTypeSet(s.GPUType)
	comp := prefix + "/" + s.Name
	if kind == sim.SegServing {
		return newServingSource(s, types, seed, comp, until), nil
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
		prefix: s.Name + "-", custPrefix: s.Name + "-cust-", list: s.ListUSDPerHour,
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
	list                     float64   // $/GPU-h
	prio                     int32
	ckpt, notice, until      sim.Time
	maxJobs, n               int64
	idBuf                    []byte
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
	s.idBuf = strconv.AppendInt(append(s.idBuf[:0], s.prefix...), s.n, 10)
	id := string(s.idBuf)
	s.idBuf = strconv.AppendInt(append(s.idBuf[:0], s.custPrefix...), int64(cust), 10)
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
		Customer: string(s.idBuf),
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

// mergedSource merges the segments' sources by submit time.
type mergedSource struct {
	name string
	srcs []sim.Source
	pend []sim.JobSpec
	has  []bool
	err  error
}

func (m *mergedSource) pull(i int) {
	m.has[i] = m.srcs[i].Next(&m.pend[i])
	if err := m.srcs[i].Err(); !m.has[i] && err != nil && m.err == nil {
		m.err = err
	}
}

func (m *mergedSource) Name() string { return m.name }
func (m *mergedSource) Err() error   { return m.err }

func (m *mergedSource) Next(j *sim.JobSpec) bool {
	if m.err != nil {
		return false
	}
	best := -1
	for i := range m.srcs {
		if m.has[i] && (best < 0 || m.pend[i].Submit < m.pend[best].Submit) {
			best = i
		}
	}
	if best < 0 {
		return false
	}
	*j = m.pend[best]
	m.pull(best)
	return true
}
