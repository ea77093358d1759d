package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"

	"neosim/sim"
	"neosim/sim/fleet"
)

// Poisson is a workload whose jobs arrive as a Poisson process (exponential
// inter-arrival times at RatePerHour) with independently drawn shapes. It is
// the simple generator of the foundation: internal research and training
// mixes and a plain external segment are all Poisson workloads with
// different shapes.
type Poisson struct {
	Name        string  `yaml:"name" json:"name"`
	Segment     string  `yaml:"segment" json:"segment"`
	Tenant      string  `yaml:"tenant,omitempty" json:"tenant,omitempty"`
	RatePerHour float64 `yaml:"rate_per_hour" json:"rate_per_hour"`
	GPUs        Dist    `yaml:"gpus" json:"gpus"`                               // rounded to a whole number ≥ 1
	Duration    Dist    `yaml:"duration_s" json:"duration_s"`                   // seconds on an H100
	GPUType     string  `yaml:"gpu_type,omitempty" json:"gpu_type,omitempty"`   // "H100" or "H100|H200"; empty: any
	GPUMilli    int     `yaml:"gpu_milli,omitempty" json:"gpu_milli,omitempty"` // default 1000
	Priority    int32   `yaml:"priority,omitempty" json:"priority,omitempty"`
	Patience    *Dist   `yaml:"patience_s,omitempty" json:"patience_s,omitempty"` // seconds; none = waits forever
	// CheckpointS is how often a job saves its state, seconds of run time
	// (0: never; an interrupted job then starts over).
	CheckpointS float64 `yaml:"checkpoint_s,omitempty" json:"checkpoint_s,omitempty"`
	// NoticeS is the warning before a preemption takes effect, seconds
	// (spot: 120 on AWS, 30 on GCP; ../shared/calibration/SOURCES.md §1c).
	NoticeS float64 `yaml:"notice_s,omitempty" json:"notice_s,omitempty"`
	// MaxJobs stops the workload after this many jobs (0: no limit).
	MaxJobs int64 `yaml:"max_jobs,omitempty" json:"max_jobs,omitempty"`
}

// Validate checks the workload's parameters and returns an error naming the
// field.
func (w *Poisson) Validate() error {
	if w.Name == "" {
		return fmt.Errorf("name: required")
	}
	if _, err := sim.ParseSegment(w.Segment); err != nil {
		return fmt.Errorf("segment: %v", err)
	}
	if !(w.RatePerHour > 0) || math.IsInf(w.RatePerHour, 0) {
		return fmt.Errorf("rate_per_hour: must be > 0, got %v", w.RatePerHour)
	}
	if w.GPUs.String() == "" {
		return fmt.Errorf("gpus: required (a distribution, e.g. \"choice:1=0.5,8=0.5\")")
	}
	if w.Duration.String() == "" {
		return fmt.Errorf("duration_s: required (a distribution, e.g. \"lognormal:3600:1.2\")")
	}
	if _, err := fleet.ParseTypeSet(w.GPUType); err != nil {
		return fmt.Errorf("gpu_type: %v", err)
	}
	if w.GPUMilli < 0 || w.GPUMilli > fleet.FullGPU {
		return fmt.Errorf("gpu_milli: must be 1..1000, got %d", w.GPUMilli)
	}
	if w.MaxJobs < 0 {
		return fmt.Errorf("max_jobs: must be ≥ 0")
	}
	if !(w.CheckpointS >= 0) || math.IsInf(w.CheckpointS, 0) {
		return fmt.Errorf("checkpoint_s: must be ≥ 0, got %v", w.CheckpointS)
	}
	if !(w.NoticeS >= 0) || math.IsInf(w.NoticeS, 0) {
		return fmt.Errorf("notice_s: must be ≥ 0, got %v", w.NoticeS)
	}
	return nil
}

// Source returns the workload's job stream for a run with the given seed.
// It stops at until (exclusive) or after MaxJobs jobs, whichever is first;
// until = 0 needs MaxJobs > 0.
func (w *Poisson) Source(seed uint64, until sim.Time) (sim.Source, error) {
	if err := w.Validate(); err != nil {
		return nil, fmt.Errorf("workload %q: %w", w.Name, err)
	}
	if until <= 0 && w.MaxJobs == 0 {
		return nil, fmt.Errorf("workload %q: needs a horizon or max_jobs, or it never ends", w.Name)
	}
	seg, _ := sim.ParseSegment(w.Segment)
	types, _ := fleet.ParseTypeSet(w.GPUType)
	milli := uint16(fleet.FullGPU)
	if w.GPUMilli > 0 {
		milli = uint16(w.GPUMilli)
	}
	tenant := w.Tenant
	if tenant == "" {
		tenant = w.Name
	}
	if until <= 0 {
		until = sim.Forever
	}
	return &poissonSource{w: w, rng: sim.Stream(seed, "workload/"+w.Name, 0), seg: seg, types: types,
		milli: milli, tenant: tenant, until: until, meanGap: 3600 / w.RatePerHour, ids: newJobIDs(w.Name + "-")}, nil
}

type poissonSource struct {
	w       *Poisson
	rng     *rand.Rand
	seg     sim.Segment
	types   fleet.TypeSet
	milli   uint16
	tenant  string
	until   sim.Time
	meanGap float64 // seconds
	t       float64 // seconds
	n       int64
	ids     jobIDs
}

func (s *poissonSource) Name() string { return "workload " + s.w.Name }
func (s *poissonSource) Err() error   { return nil }

func (s *poissonSource) Next(j *sim.JobSpec) bool {
	if s.w.MaxJobs > 0 && s.n >= s.w.MaxJobs {
		return false
	}
	// A fixed number of draws per job, in a fixed order, keeps every job's
	// attributes identical across policies (common random numbers).
	s.t += s.rng.ExpFloat64() * s.meanGap
	gpus := s.w.GPUs.Sample(s.rng)
	dur := s.w.Duration.Sample(s.rng)
	var patience float64
	if s.w.Patience != nil {
		patience = s.w.Patience.Sample(s.rng)
	}
	at := sim.FromSeconds(s.t)
	if at >= s.until {
		return false
	}
	s.n++
	*j = sim.JobSpec{
		ID:         s.ids.next(),
		Submit:     at,
		GPUs:       int32(max(1, math.Round(gpus))),
		Milli:      s.milli,
		GPUTypes:   s.types,
		Tenant:     s.tenant,
		Segment:    s.seg,
		Priority:   s.w.Priority,
		Work:       max(sim.Microsecond, sim.FromSeconds(dur)),
		Patience:   sim.FromSeconds(patience),
		Checkpoint: sim.FromSeconds(s.w.CheckpointS),
		Notice:     sim.FromSeconds(s.w.NoticeS),
	}
	if s.w.Patience != nil && j.Patience == 0 {
		j.Patience = sim.Microsecond // a customer with no patience at all leaves at once
	}
	return true
}
