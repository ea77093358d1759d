package workloads

import (
	"fmt"
	"slices"

	"neosim/sim"
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
	// InitialBook (reserved) starts the run with the contracts a running
	// neocloud already holds: the stationary state of the contract process
	// (external_book.go). Default true; false starts with an empty book.
	// MaxJobs counts the book's contracts too.
	InitialBook *bool `yaml:"initial_book,omitempty" json:"initial_book,omitempty"`

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
	// Trace is a request log (Azure LLM CSV, Mooncake JSONL, BurstGPT CSV)
	// whose tokens replace the synthetic rate (tokens_per_s, cycle and
	// noise); TraceRateScale, TraceShiftS and TraceTile adjust it (see
	// ServingSource).
	Trace          string  `yaml:"trace,omitempty" json:"trace,omitempty"`
	TraceRateScale float64 `yaml:"trace_rate_scale,omitempty" json:"trace_rate_scale,omitempty"`
	TraceShiftS    float64 `yaml:"trace_shift_s,omitempty" json:"trace_shift_s,omitempty"`
	TraceTile      bool    `yaml:"trace_tile,omitempty" json:"trace_tile,omitempty"`
}

// Source returns the external demand of a run with the given seed: the
// segments' jobs merged by submit time (ties go to the earlier segment).
// Defaults are applied to a copy. It stops at until (exclusive), or when
// every segment has reached its max_jobs; until ≤ 0 needs max_jobs on
// every segment.
func (e *External) Source(seed uint64, until sim.Time) (sim.Source, error) {
	return e.SourceWith(seed, until, nil)
}

// SourceWith is Source with the reader of serving request logs (a segment
// with a trace needs one: this package reads no files).
func (e *External) SourceWith(seed uint64, until sim.Time, open OpenRequestLog) (sim.Source, error) {
	g := *e
	g.Segments = slices.Clone(e.Segments)
	g.EnsureDefaults()
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("external demand %q: %w", g.Name, err)
	}
	m := &mergedSource{name: "external demand " + g.Name}
	for i := range g.Segments {
		src, err := g.Segments[i].source(seed, g.Name, until, open)
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
	return s.SourceWith(seed, prefix, until, nil)
}

// SourceWith is Source with the reader of its request log (Trace).
func (s *ExternalSegment) SourceWith(seed uint64, prefix string, until sim.Time, open OpenRequestLog) (sim.Source, error) {
	c := *s
	c.EnsureDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c.source(seed, prefix, until, open)
}
