package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"

	"neosim/sim"
	"neosim/sim/fleet"
)

// Frontier is a synthetic internal workload shaped like a frontier AI lab's
// training cluster: a torrent of tiny, short evaluation and research jobs, a
// steady stream of multi-node fine-tuning jobs, and a few gang-scheduled
// pre-training runs of thousands to tens of thousands of GPUs that last
// weeks. Most jobs use one GPU; most GPU-time is in the huge runs
// (../shared/calibration/SOURCES.md §3c). Each job carries a checkpoint
// interval from Young/Daly with a mean time to interruption that shrinks
// with its size (§3a, §3d).
//
// Each class is its own Poisson process; the source merges them by arrival
// time. A class's job shapes come from the stream (seed, name+"/"+class, 0),
// two draws per job (GPUs, then duration), and its arrival times from
// (seed, name+"/"+class, 1), so a class's k-th job has the same shape
// whatever the rates, the diurnal cycle, the other classes or the policy
// (common random numbers).
//
// Defaults come from EnsureDefaults; docs/workloads.md lists them with the
// job and GPU-time shares they imply.
type Frontier struct {
	// Name labels the source and its random streams (default "frontier").
	// Two Frontier workloads in one run need different names, or they draw
	// the same jobs.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// RatePerHour is the arrival rate, jobs per hour, shared among the
	// classes that give a Share.
	RatePerHour float64 `yaml:"rate_per_hour,omitempty" json:"rate_per_hour,omitempty"`
	// InterruptionsPerGPUHour is the rate of unexpected interruptions per
	// GPU-hour; a job on g GPUs is interrupted every 1/(rate·g) hours on
	// average (JobMTTI), which sets its checkpoint interval.
	InterruptionsPerGPUHour float64 `yaml:"interruptions_per_gpu_hour,omitempty" json:"interruptions_per_gpu_hour,omitempty"`
	// DiurnalAmplitude modulates the arrivals of classes marked diurnal:
	// rate × (1 + A·cos(2π(hour − PeakHour)/24)), in [0, 1). 0 is off.
	DiurnalAmplitude float64 `yaml:"diurnal_amplitude,omitempty" json:"diurnal_amplitude,omitempty"`
	// PeakHour is the hour of day (time 0 is a Monday 00:00) at which
	// diurnal arrivals peak; 0 means the default, write 24 for midnight.
	PeakHour float64 `yaml:"peak_hour,omitempty" json:"peak_hour,omitempty"`
	// WeekendFactor scales diurnal classes' arrivals on Saturday and Sunday;
	// weekdays are scaled by (7 − 2W)/5 so that the weekly mean rate is
	// unchanged. 1 is no weekly cycle; it must be below 3.5.
	WeekendFactor float64 `yaml:"weekend_factor,omitempty" json:"weekend_factor,omitempty"`
	// MaxGPUs caps every job's GPU count (0: no cap), e.g. to fit a fleet
	// smaller than the largest pre-training run.
	MaxGPUs int `yaml:"max_gpus,omitempty" json:"max_gpus,omitempty"`
	// MaxJobs stops the workload after this many jobs (0: no limit).
	MaxJobs int64 `yaml:"max_jobs,omitempty" json:"max_jobs,omitempty"`
	// Classes are the job classes; empty means DefaultFrontierClasses.
	Classes []FrontierClass `yaml:"classes,omitempty" json:"classes,omitempty"`
}

// FrontierClass is one kind of job in a Frontier workload. A class is used
// as given: EnsureDefaults fills the whole list when it is empty, never a
// field of a class the user wrote.
type FrontierClass struct {
	// Name names the class; job IDs are "<name>-<n>" and the tenant
	// defaults to it.
	Name string `yaml:"name" json:"name"`
	// Share is the class's weight in Frontier.RatePerHour: its rate is
	// RatePerHour × Share / (sum of the shares). Set Share or RatePerHour.
	Share float64 `yaml:"share,omitempty" json:"share,omitempty"`
	// RatePerHour is the class's own arrival rate, jobs per hour, outside
	// the shared rate.
	RatePerHour float64 `yaml:"rate_per_hour,omitempty" json:"rate_per_hour,omitempty"`
	GPUs        Dist    `yaml:"gpus" json:"gpus"`             // rounded to a whole number ≥ 1
	Duration    Dist    `yaml:"duration_s" json:"duration_s"` // seconds on an H100
	Priority    int32   `yaml:"priority,omitempty" json:"priority,omitempty"`
	GPUType     string  `yaml:"gpu_type,omitempty" json:"gpu_type,omitempty"` // default: any type
	Tenant      string  `yaml:"tenant,omitempty" json:"tenant,omitempty"`     // default: the class name
	// CheckpointCostS is the stall of one checkpoint, seconds (C in
	// Young/Daly); 0: the class never checkpoints.
	CheckpointCostS float64 `yaml:"checkpoint_cost_s,omitempty" json:"checkpoint_cost_s,omitempty"`
	// CheckpointMinGPUs: jobs on fewer GPUs never checkpoint.
	CheckpointMinGPUs int `yaml:"checkpoint_min_gpus,omitempty" json:"checkpoint_min_gpus,omitempty"`
	// Diurnal subjects the class's arrivals to the daily and weekly cycle.
	Diurnal bool `yaml:"diurnal,omitempty" json:"diurnal,omitempty"`
}

// Default Frontier parameters. [D] derived, [U] an engineering assumption,
// as in ../shared/calibration/SOURCES.md.
const (
	// DefaultFrontierRatePerHour: Meta RSC-1 + RSC-2 ran >4M jobs in 11
	// months (§3b row "Clusters"): 4e6 / (11 × 730 h) ≈ 498 jobs/h [D],
	// on 24k A100 — about the fleet the default mix keeps busy (docs).
	DefaultFrontierRatePerHour = 500.0
	// DefaultInterruptionsPerGPUHour: Llama 3, 419 unexpected interruptions
	// over 16,384 GPUs × 54 days = 21,233,664 GPU-h (§3a row "Per-GPU
	// interruption rate") ≈ 1.97e-5 [D].
	DefaultInterruptionsPerGPUHour = 419.0 / 21233664.0
	// DefaultPeakHour: submissions peak mid-afternoon [U] (no source has a
	// submission-time profile; the cycle is off by default).
	DefaultPeakHour = 14.0
	// DefaultWeekendFactor: 1 = no weekly cycle [U].
	DefaultWeekendFactor = 1.0

	// CheckpointCostSync and CheckpointCostAsync are the checkpoint stalls
	// of a 7B model with synchronous and asynchronous PyTorch DCP: 148.8 s
	// and 6.3 s (§3d row "Synchronous vs async checkpoint stall") [V].
	CheckpointCostSync  = 148.8
	CheckpointCostAsync = 6.3
)

// DefaultFrontierClasses returns the default job classes (a fresh slice).
// Sources, §3 of ../shared/calibration/SOURCES.md:
//
//   - Job counts (§3c Seren/Kalos): 54–86% of GPU jobs use 1 GPU, 94–97% use
//     ≤8; eval and research carry 98% of the jobs, 75% on 1 GPU, 96% on ≤8.
//   - Durations (§3c row "Job duration"): Seren/Kalos medians 122/124 s and
//     means 1,414/1,260 s; the eval+research+finetune mixture has median
//     ≈121 s and mean ≈1,380 s.
//   - GPU-time (§3c): >8-GPU jobs hold 88% (Seren) to 99.4% (Kalos) of it;
//     the default mix puts ≈98% there and ≈74% in pre-training alone.
//   - Sizes: the largest jobs in Seren/Kalos/Helios are 1,024–2,048 GPUs
//     (§3c row "Largest job"), Llama 3 405B ran 16,384 H100 for 54 days
//     (§3a row "Cluster / window").
func DefaultFrontierClasses() []FrontierClass {
	return []FrontierClass{
		{
			// Evaluations and quick tests: 55% of jobs [U], 90% on 1 GPU
			// [U] (with research, the §3c 1-GPU share), median 90 s [U]
			// and log-sd 1.5 [U] (mean 277 s): the short head of §3c.
			Name: "eval", Share: 0.55,
			GPUs:     mustDist("choice:1=0.9,2=0.04,4=0.03,8=0.03"),
			Duration: mustDist("lognormal:90:1.5"),
			Priority: 10, // [U]
			// No checkpoints: evaluations keep no training state [U].
			Diurnal: true, // [U]
		},
		{
			// Research and debugging: 43% of jobs [U], 60% on 1 GPU [U],
			// 5% on 16–64 GPUs [U]; median 180 s, log-sd 2.2 (mean 2,025 s)
			// [U], fitted so the mixture matches the §3c Seren/Kalos
			// median (122–124 s) and mean (1,260–1,414 s).
			Name: "research", Share: 0.43,
			GPUs:     mustDist("choice:1=0.6,2=0.1,4=0.1,8=0.15,16=0.03,32=0.015,64=0.005"),
			Duration: mustDist("lognormal:180:2.2"),
			Priority: 10, // [U]
			// Synchronous checkpoints (§3d, 148.8 s); most research jobs end
			// before their first one and get none.
			CheckpointCostS: CheckpointCostSync,
			Diurnal:         true, // [U]
		},
		{
			// Fine-tuning and mid-size training: 2% of jobs [U] on 16–512
			// GPUs [U] (below the §3c largest jobs, 1,024–2,048), median 3 h
			// [U], log-sd 1 (mean 4.9 h) [U]. With the pre-training runs it
			// puts ≈90% of GPU-time in jobs >64 GPUs (§3c: Seren 72%,
			// Kalos 97%).
			Name: "finetune", Share: 0.02,
			GPUs:            mustDist("choice:16=0.3,32=0.25,64=0.2,128=0.15,256=0.07,512=0.03"),
			Duration:        mustDist("lognormal:10800:1"),
			Priority:        50,                 // [U]
			CheckpointCostS: CheckpointCostSync, // §3d
		},
		{
			// Pre-training: a few runs a month, 3 per 30 days [U]; 2,048
			// (Helios' largest job, §3c) to 16,384 GPUs (Llama 3, §3a),
			// weights 4:3:2:1 [U] (mean 5,325 GPUs); median 21 days, log-sd
			// 0.5 [U] (mean 23.8 days; Llama 3's 54 days (§3a) is the 97th
			// percentile).
			Name: "pretrain", RatePerHour: 3.0 / (30 * 24),
			GPUs:            mustDist("choice:2048=4,4096=3,8192=2,16384=1"),
			Duration:        mustDist("lognormal:1814400:0.5"),
			Priority:        100,                 // [U]
			CheckpointCostS: CheckpointCostAsync, // §3d async DCP
		},
	}
}

func mustDist(spec string) Dist {
	d, err := ParseDist(spec)
	if err != nil {
		panic("workloads: bad built-in distribution: " + err.Error())
	}
	return d
}

// EnsureDefaults fills the fields left at zero with the defaults above.
func (f *Frontier) EnsureDefaults() {
	if f.Name == "" {
		f.Name = "frontier"
	}
	if f.RatePerHour == 0 {
		f.RatePerHour = DefaultFrontierRatePerHour
	}
	if f.InterruptionsPerGPUHour == 0 {
		f.InterruptionsPerGPUHour = DefaultInterruptionsPerGPUHour
	}
	if f.PeakHour == 0 {
		f.PeakHour = DefaultPeakHour
	}
	if f.WeekendFactor == 0 {
		f.WeekendFactor = DefaultWeekendFactor
	}
	if len(f.Classes) == 0 {
		f.Classes = DefaultFrontierClasses()
	}
}

// Validate checks the parameters and returns an error naming the field,
// such as "classes[1].share: must be > 0". Call EnsureDefaults first.
func (f *Frontier) Validate() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	if f.Name == "" {
		return fmt.Errorf("name: required")
	}
	if !(f.RatePerHour > 0) || bad(f.RatePerHour) {
		return fmt.Errorf("rate_per_hour: must be > 0, got %v", f.RatePerHour)
	}
	if !(f.InterruptionsPerGPUHour > 0) || bad(f.InterruptionsPerGPUHour) {
		return fmt.Errorf("interruptions_per_gpu_hour: must be > 0, got %v", f.InterruptionsPerGPUHour)
	}
	if !(f.DiurnalAmplitude >= 0 && f.DiurnalAmplitude < 1) {
		return fmt.Errorf("diurnal_amplitude: must be in [0, 1), got %v", f.DiurnalAmplitude)
	}
	if !(f.PeakHour >= 0 && f.PeakHour <= 24) {
		return fmt.Errorf("peak_hour: must be in [0, 24], got %v", f.PeakHour)
	}
	if !(f.WeekendFactor > 0 && f.WeekendFactor < 3.5) {
		return fmt.Errorf("weekend_factor: must be in (0, 3.5), got %v", f.WeekendFactor)
	}
	if f.MaxGPUs < 0 {
		return fmt.Errorf("max_gpus: must be ≥ 0, got %d", f.MaxGPUs)
	}
	if f.MaxJobs < 0 {
		return fmt.Errorf("max_jobs: must be ≥ 0, got %d", f.MaxJobs)
	}
	if len(f.Classes) == 0 {
		return fmt.Errorf("classes: at least one class is required")
	}
	seen := make(map[string]bool, len(f.Classes))
	for i := range f.Classes {
		c := &f.Classes[i]
		field := func(name string) string { return "classes[" + strconv.Itoa(i) + "]." + name }
		switch {
		case c.Name == "":
			return fmt.Errorf("%s: required", field("name"))
		case seen[c.Name]:
			return fmt.Errorf("%s: duplicate class %q", field("name"), c.Name)
		case c.Share < 0 || bad(c.Share):
			return fmt.Errorf("%s: must be > 0, got %v", field("share"), c.Share)
		case c.RatePerHour < 0 || bad(c.RatePerHour):
			return fmt.Errorf("%s: must be > 0, got %v", field("rate_per_hour"), c.RatePerHour)
		case c.Share == 0 && c.RatePerHour == 0:
			return fmt.Errorf("%s: must be > 0 (or set rate_per_hour)", field("share"))
		case c.Share > 0 && c.RatePerHour > 0:
			return fmt.Errorf("%s: set share or rate_per_hour, not both", field("rate_per_hour"))
		case c.GPUs.String() == "":
			return fmt.Errorf("%s: required (a distribution, e.g. \"choice:1=0.9,8=0.1\")", field("gpus"))
		case c.Duration.String() == "":
			return fmt.Errorf("%s: required (a distribution, e.g. \"lognormal:120:2\")", field("duration_s"))
		case c.CheckpointCostS < 0 || bad(c.CheckpointCostS):
			return fmt.Errorf("%s: must be ≥ 0, got %v", field("checkpoint_cost_s"), c.CheckpointCostS)
		case c.CheckpointMinGPUs < 0:
			return fmt.Errorf("%s: must be ≥ 0, got %d", field("checkpoint_min_gpus"), c.CheckpointMinGPUs)
		}
		if _, err := fleet.ParseTypeSet(c.GPUType); err != nil {
			return fmt.Errorf("%s: %v", field("gpu_type"), err)
		}
		seen[c.Name] = true
	}
	return nil
}

// classRates returns each class's arrival rate, jobs per hour.
func (f *Frontier) classRates() []float64 {
	var shares float64
	for i := range f.Classes {
		shares += f.Classes[i].Share
	}
	rates := make([]float64, len(f.Classes))
	for i := range f.Classes {
		c := &f.Classes[i]
		if c.Share > 0 {
			rates[i] = f.RatePerHour * c.Share / shares
		} else {
			rates[i] = c.RatePerHour
		}
	}
	return rates
}

// FrontierExpect is what a class contributes on average, in steady state.
type FrontierExpect struct {
	Class         string
	RatePerHour   float64 // jobs per hour
	JobShare      float64 // of all jobs
	MeanGPUs      float64 // before rounding and MaxGPUs
	MeanDurationS float64
	// BusyGPUs is the class's mean GPUs in use if it never waits (Little's
	// law: rate × mean GPUs × mean duration).
	BusyGPUs     float64
	GPUTimeShare float64 // of all GPU-time
}

// Expected returns each class's expected job share and GPU-time share,
// computed from the distribution means (GPUs and duration are drawn
// independently, so a job's mean GPU-time is their product). A
// distribution with an infinite mean (pareto with alpha ≤ 1) gives +Inf.
// The receiver is not modified; defaults are applied to a copy.
func (f *Frontier) Expected() ([]FrontierExpect, error) {
	g := *f
	g.EnsureDefaults()
	if err := g.Validate(); err != nil {
		return nil, err
	}
	rates := g.classRates()
	out := make([]FrontierExpect, len(g.Classes))
	var jobs, busy float64
	for i := range g.Classes {
		c := &g.Classes[i]
		e := &out[i]
		e.Class, e.RatePerHour = c.Name, rates[i]
		e.MeanGPUs, e.MeanDurationS = c.GPUs.Mean(), c.Duration.Mean()
		e.BusyGPUs = rates[i] * e.MeanGPUs * e.MeanDurationS / 3600
		jobs += rates[i]
		busy += e.BusyGPUs
	}
	for i := range out {
		out[i].JobShare = out[i].RatePerHour / jobs
		out[i].GPUTimeShare = out[i].BusyGPUs / busy
	}
	return out, nil
}

// JobMTTI returns the mean time to interruption of a job on gpus GPUs when
// each GPU-hour is interrupted at perGPUHourRate: 1/(rate × gpus) hours
// (SOURCES.md §3a: 16,384 GPUs at 419/21,233,664 per GPU-h → 3.09 h). It is
// Forever when gpus or the rate is ≤ 0.
func JobMTTI(gpus int, perGPUHourRate float64) sim.Time {
	if gpus <= 0 || !(perGPUHourRate > 0) {
		return sim.Forever
	}
	return sim.FromSeconds(3600 / (perGPUHourRate * float64(gpus)))
}

// YoungDaly returns the checkpoint interval that minimizes lost plus
// checkpointing time, τ = √(2·C·M), for a checkpoint cost C and a mean time
// to interruption M (SOURCES.md §3d: C = 148.8 s, M = 3.09 h → 30 min). It
// is 0 (never checkpoint) when either is ≤ 0, and Forever when M is.
func YoungDaly(cost, mtti sim.Time) sim.Time {
	if cost <= 0 || mtti <= 0 {
		return 0
	}
	if mtti == sim.Forever {
		return sim.Forever
	}
	return sim.FromSeconds(math.Sqrt(2 * cost.Seconds() * mtti.Seconds()))
}

// Source returns the workload's job stream for a run with the given seed.
// Defaults are applied to a copy (the receiver is not modified). It stops
// at until (exclusive) or after MaxJobs jobs, whichever is first; until ≤ 0
// needs MaxJobs > 0.
func (f *Frontier) Source(seed uint64, until sim.Time) (sim.Source, error) {
	g := *f
	g.EnsureDefaults()
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("workload %q: %w", g.Name, err)
	}
	if until <= 0 && g.MaxJobs == 0 {
		return nil, fmt.Errorf("workload %q: needs a horizon or max_jobs, or it never ends", g.Name)
	}
	if until <= 0 {
		until = sim.Forever
	}
	s := &frontierSource{name: "workload " + g.Name, until: until, maxJobs: g.MaxJobs,
		rate: g.InterruptionsPerGPUHour, maxGPUs: float64(math.MaxInt32)}
	if g.MaxGPUs > 0 {
		s.maxGPUs = float64(g.MaxGPUs)
	}
	// Diurnal factor (1 + A·cos(2π(h − peak)/24)) × (W on weekends, else
	// (7 − 2W)/5): its weekly mean is 1, its maximum bounds the thinning.
	s.amp, s.peak, s.weekend = g.DiurnalAmplitude, g.PeakHour, g.WeekendFactor
	s.weekday = (7 - 2*g.WeekendFactor) / 5
	s.modMax = (1 + s.amp) * max(s.weekend, s.weekday)
	rates := g.classRates()
	s.classes = make([]frontierClass, len(g.Classes))
	for i := range g.Classes {
		c := &g.Classes[i]
		k := &s.classes[i]
		comp := g.Name + "/" + c.Name
		*k = frontierClass{
			gpus: c.GPUs, dur: c.Duration, prio: c.Priority, tenant: c.Tenant,
			ids:     newJobIDs(c.Name + "-"),
			shapes:  sim.Stream(seed, comp, 0),
			arrive:  sim.Stream(seed, comp, 1),
			meanGap: 3600 / rates[i],
			ckpt:    sim.FromSeconds(c.CheckpointCostS),
			ckptMin: int32(min(c.CheckpointMinGPUs, math.MaxInt32)),
			diurnal: c.Diurnal && (s.amp > 0 || s.weekend != 1),
		}
		if k.tenant == "" {
			k.tenant = c.Name
		}
		k.types, _ = fleet.ParseTypeSet(c.GPUType)
		k.next = s.advance(k, 0)
	}
	return s, nil
}

type frontierSource struct {
	name    string
	classes []frontierClass
	until   sim.Time
	maxJobs int64
	n       int64
	rate    float64 // interruptions per GPU-hour
	maxGPUs float64
	// diurnal modulation
	amp, peak, weekend, weekday, modMax float64
}

type frontierClass struct {
	gpus, dur Dist
	prio      int32
	types     fleet.TypeSet
	tenant    string
	ids       jobIDs // "<class>-<n>"
	shapes    *rand.Rand
	arrive    *rand.Rand
	meanGap   float64  // seconds, at the mean rate
	next      float64  // seconds: the pending arrival
	ckpt      sim.Time // checkpoint cost; 0: never
	ckptMin   int32
	diurnal   bool
}

func (s *frontierSource) Name() string { return s.name }
func (s *frontierSource) Err() error   { return nil }

// modulation returns the diurnal factor at t seconds (time 0 is Monday
// 00:00).
func (s *frontierSource) modulation(t float64) float64 {
	day := math.Mod(t/86400, 7)
	hour := (day - math.Floor(day)) * 24
	m := 1 + s.amp*math.Cos(2*math.Pi*(hour-s.peak)/24)
	if day >= 5 {
		return m * s.weekend
	}
	return m * s.weekday
}

// advance returns the class's next arrival after t seconds. Without the
// diurnal cycle it takes one draw; with it, candidates at the peak rate are
// thinned (Lewis & Shedler), which takes a varying number of draws from the
// class's arrival stream only.
func (s *frontierSource) advance(k *frontierClass, t float64) float64 {
	if !k.diurnal {
		return t + k.arrive.ExpFloat64()*k.meanGap
	}
	gap := k.meanGap / s.modMax
	for {
		t += k.arrive.ExpFloat64() * gap
		if sim.FromSeconds(t) >= s.until || k.arrive.Float64()*s.modMax < s.modulation(t) {
			return t
		}
	}
}

func (s *frontierSource) Next(j *sim.JobSpec) bool {
	if s.maxJobs > 0 && s.n >= s.maxJobs {
		return false
	}
	// The earliest pending arrival; ties go to the first class.
	k := &s.classes[0]
	for i := 1; i < len(s.classes); i++ {
		if s.classes[i].next < k.next {
			k = &s.classes[i]
		}
	}
	at := sim.FromSeconds(k.next)
	if at >= s.until {
		return false
	}
	// Two draws per job from the class's shape stream, in this order.
	gpus := int32(min(max(1, math.Round(k.gpus.Sample(k.shapes))), s.maxGPUs))
	work := max(sim.Microsecond, sim.FromSeconds(k.dur.Sample(k.shapes)))
	k.next = s.advance(k, k.next)
	s.n++
	*j = sim.JobSpec{
		ID:       k.ids.next(),
		Submit:   at,
		GPUs:     gpus,
		Milli:    fleet.FullGPU,
		GPUTypes: k.types,
		Tenant:   k.tenant,
		Segment:  sim.SegInternal,
		Priority: k.prio,
		Work:     work,
	}
	if k.ckpt > 0 && gpus >= k.ckptMin {
		// A job that ends before its first checkpoint never takes one.
		if tau := YoungDaly(k.ckpt, JobMTTI(int(gpus), s.rate)); tau < work {
			j.Checkpoint = tau
		}
	}
	return true
}
