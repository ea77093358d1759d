package workloads

import (
	"cmp"
	"fmt"
	"math"
	"strconv"

	"neosim/sim"
	"neosim/sim/fleet"
)

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
			// A running neocloud's book of contracts at t = 0.
			InitialBook: ptrTo(true),
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
	fillDist := func(v *Dist, def Dist) {
		if v.String() == "" {
			*v = def
		}
	}
	// cmp.Or keeps a field that is not its zero value (nil, for pointers).
	s.Name = cmp.Or(s.Name, d.Name)
	s.GPUType = cmp.Or(s.GPUType, d.GPUType)
	s.Priority = cmp.Or(s.Priority, d.Priority)
	s.Patience = cmp.Or(s.Patience, d.Patience)
	s.NoticeS = cmp.Or(s.NoticeS, d.NoticeS)
	s.Cycle = cmp.Or(s.Cycle, d.Cycle)
	s.RatePerHour = cmp.Or(s.RatePerHour, d.RatePerHour)
	fillDist(&s.GPUs, d.GPUs)
	fillDist(&s.Duration, d.Duration)
	s.CheckpointS = cmp.Or(s.CheckpointS, d.CheckpointS)
	s.Customers = cmp.Or(s.Customers, d.Customers)
	s.ZipfS = cmp.Or(s.ZipfS, d.ZipfS)
	if s.ListUSDPerHour == 0 && kind != sim.SegServing {
		s.ListUSDPerHour = defaultList(s.GPUType)
	}
	fillDist(&s.WTPRatio, d.WTPRatio)
	fillDist(&s.Discount, d.Discount)
	s.TokensPerS = cmp.Or(s.TokensPerS, d.TokensPerS)
	s.NoiseSigma = cmp.Or(s.NoiseSigma, d.NoiseSigma)
	s.NoiseCorrS = cmp.Or(s.NoiseCorrS, d.NoiseCorrS)
	s.ReplicaGPUs = cmp.Or(s.ReplicaGPUs, d.ReplicaGPUs)
	s.ReplicaTokensPerS = cmp.Or(s.ReplicaTokensPerS, d.ReplicaTokensPerS)
	s.TargetUtilization = cmp.Or(s.TargetUtilization, d.TargetUtilization)
	s.IntervalS = cmp.Or(s.IntervalS, d.IntervalS)
	s.MinHoldS = cmp.Or(s.MinHoldS, s.IntervalS)
	s.MaxHoldS = cmp.Or(s.MaxHoldS, d.MaxHoldS)
	s.MinReplicas = cmp.Or(s.MinReplicas, d.MinReplicas)
	s.PricePerMTokUSD = cmp.Or(s.PricePerMTokUSD, d.PricePerMTokUSD)
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
		{"initial_book", s.InitialBook != nil, kind == sim.SegReserved},
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
		{"trace", s.Trace != "", serving},
		{"trace_rate_scale", s.TraceRateScale != 0, serving},
		{"trace_shift_s", s.TraceShiftS != 0, serving},
		{"trace_tile", s.TraceTile, serving},
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
	return s.validateTrace(bad)
}

// Bounds that keep a generator's memory small whatever the input.
const (
	maxCustomers = 1_000_000
	// maxReplicas caps a serving segment's replicas in any interval (the
	// noise's tail is clipped there); the mean need must stay 100× below.
	maxReplicas = 1_000_000
)
