// Package scenario owns the scenario file: its schema, defaults, validation
// with precise messages, and the embedded default scenario. A scenario is
// YAML; every field has a default, so a file states only what it changes.
// Config flows one way: Load (or Default) → overrides from flags → Validate
// → the runner builds the simulation from the resolved scenario, which is
// saved with the results (run.json).
package scenario

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"neosim/sim"
	"neosim/sim/econ"
	"neosim/sim/fleet"
	"neosim/workloads"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the embedded default scenario's text.
func DefaultYAML() []byte { return bytes.Clone(defaultYAML) }

// Duration is a sim.Time written as "30d", "12h", "5m" in YAML and JSON.
type Duration sim.Time

// UnmarshalText parses a duration.
func (d *Duration) UnmarshalText(b []byte) error {
	t, err := sim.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(t)
	return nil
}

// MarshalText formats the duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(sim.Time(d).String()), nil }

// Fleet says which GPUs the run has: node groups, a spec string, or a node
// list file (exactly one).
type Fleet struct {
	Spec string `yaml:"spec,omitempty" json:"spec,omitempty"`
	File string `yaml:"file,omitempty" json:"file,omitempty"`
	// Format is the node-list format of File ("" or auto: detected from
	// its header; see docs/fleet.md).
	Format string        `yaml:"format,omitempty" json:"format,omitempty"`
	Groups []fleet.Group `yaml:"groups,omitempty" json:"groups,omitempty"`
}

// Failures is the failure model (sim.Failures). Absent or enabled: false,
// nothing fails.
type Failures struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// PerGPUHour is the rate of failures per GPU-hour. Default: Llama 3's
	// 419 unexpected interruptions over 16,384 GPUs × 54 days =
	// 21,233,664 GPU-h ≈ 1.97e-5 (../shared/calibration/SOURCES.md §3a) [D].
	PerGPUHour float64 `yaml:"per_gpu_hour,omitempty" json:"per_gpu_hour,omitempty"`
	// Repair is the distribution of the time a failed node is out of
	// service, seconds. Default "lognormal:7200:1" (median 2 h) [U]: no
	// source in SOURCES.md gives repair times.
	Repair *workloads.Dist `yaml:"repair_s,omitempty" json:"repair_s,omitempty"`
}

// DefaultFailuresPerGPUHour is Llama 3's unexpected-interruption rate
// (SOURCES.md §3a).
const DefaultFailuresPerGPUHour = 419.0 / 21233664.0

// Scenario is one simulation setup.
type Scenario struct {
	Name string `yaml:"name" json:"name"`
	Seed uint64 `yaml:"seed" json:"seed"`
	// Horizon ends the run; 0 (or absent) runs until every job has ended.
	Horizon        Duration `yaml:"horizon,omitempty" json:"horizon,omitempty"`
	SampleInterval Duration `yaml:"sample_interval,omitempty" json:"sample_interval,omitempty"`
	// Warmup is the start of the measurement window: statistics and costs
	// leave out the jobs submitted before it and the time before it
	// (docs/economics.md, "Warm-up"). 0 (or absent): the whole run.
	Warmup    Duration `yaml:"warmup,omitempty" json:"warmup,omitempty"`
	Allocator string   `yaml:"allocator" json:"allocator"`
	Pricer    string   `yaml:"pricer" json:"pricer"`
	// AllocatorParams and PricerParams set the policies' parameters (each
	// policy's documentation lists them; `neosim policies`).
	AllocatorParams map[string]any `yaml:"allocator_params,omitempty" json:"allocator_params,omitempty"`
	PricerParams    map[string]any `yaml:"pricer_params,omitempty" json:"pricer_params,omitempty"`
	Fleet           Fleet          `yaml:"fleet" json:"fleet"`
	// Trace is a job trace that replaces the internal workloads (frontier
	// and the internal-segment entries of workloads).
	Trace string `yaml:"trace,omitempty" json:"trace,omitempty"`
	// TraceFormat names the trace's adapter ("" or auto: detected).
	TraceFormat string `yaml:"trace_format,omitempty" json:"trace_format,omitempty"`
	// GPUModels maps GPU model names in traces and node lists to catalog
	// types, over fleet.DefaultModels (e.g. {P100: A100-80GB}).
	GPUModels map[string]string `yaml:"gpu_models,omitempty" json:"gpu_models,omitempty"`
	// RestartOverhead is the time a job loses at the start of each run after
	// an interruption (loading its checkpoint). Default 10m: 5–15 min is the
	// common assumption (SOURCES.md §3d) [U].
	RestartOverhead Duration  `yaml:"restart_overhead,omitempty" json:"restart_overhead,omitempty"`
	Failures        *Failures `yaml:"failures,omitempty" json:"failures,omitempty"`
	// SpreadPenalty slows a gang spread over several racks (NVLink
	// domains): on d racks it runs at speed / (1 + spread_penalty·(d−1)).
	// Default 0 (placement does not change speed) [U].
	SpreadPenalty float64 `yaml:"spread_penalty,omitempty" json:"spread_penalty,omitempty"`
	// PowerProfile is a calibration profile (JSON, `neosim calibrate`;
	// docs/calibration.md) whose per-model power curves replace the
	// catalog's linear idle→TDP model in the cost model.
	PowerProfile string `yaml:"power_profile,omitempty" json:"power_profile,omitempty"`
	// Cost is the cost model of the margin ledger (docs/economics.md); the
	// fields given replace econ.DefaultCostModel's.
	Cost econ.CostModel `yaml:"cost" json:"cost"`
	// Company is the core business around the cloud, for the company's
	// operating margin with and without it (docs/economics.md, "The
	// company view"). Default: econ.DefaultCompany (Meta's Family of Apps,
	// FY2025); the fields given replace the default's.
	Company *econ.Company `yaml:"company,omitempty" json:"company,omitempty"`
	// Frontier is the synthetic internal training mix of a frontier lab
	// (docs/workloads.md); absent means none.
	Frontier *workloads.Frontier `yaml:"frontier,omitempty" json:"frontier,omitempty"`
	// External turns the synthetic external demand (external_demand and
	// every non-internal workload) on or off. Default on.
	External *bool `yaml:"external,omitempty" json:"external,omitempty"`
	// ExternalDemand is the neocloud's customers: on-demand, spot, reserved
	// and serving segments (docs/external-demand.md); absent means none.
	ExternalDemand *workloads.External `yaml:"external_demand,omitempty" json:"external_demand,omitempty"`
	Workloads      []workloads.Poisson `yaml:"workloads,omitempty" json:"workloads,omitempty"`
}

// Default returns the embedded default scenario.
func Default() *Scenario {
	s, err := Parse("default scenario", defaultYAML)
	if err != nil {
		panic("scenario: the embedded default does not parse: " + err.Error())
	}
	return s
}

// Load reads a scenario file.
func Load(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return Parse(path, b)
}

// Parse reads scenario YAML; name labels errors. Unknown fields are errors
// (a typo must not silently fall back to a default).
func Parse(name string, b []byte) (*Scenario, error) {
	c := econ.DefaultCompany()
	s := &Scenario{Cost: econ.DefaultCostModel(), Company: &c}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("scenario %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var doc yaml.Node
	var zeros [][]string
	if yaml.Unmarshal(b, &doc) == nil {
		explicitZeros(&doc, nil, &zeros)
	}
	s.EnsureDefaults()
	if bad := replacedZeros(s, zeros); len(bad) > 0 { // zero.go
		return nil, fmt.Errorf("scenario %s: %s: 0 is not allowed (it would mean the default); omit the field for the default or give a value > 0", name, bad[0])
	}
	return s, nil
}

// EnsureDefaults fills fields left empty.
func (s *Scenario) EnsureDefaults() {
	if s.Name == "" {
		s.Name = "scenario"
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	if s.SampleInterval == 0 {
		s.SampleInterval = Duration(5 * sim.Minute)
	}
	if s.Allocator == "" {
		s.Allocator = "fifo"
	}
	if s.Pricer == "" {
		s.Pricer = "flat"
	}
	if s.External == nil {
		t := true
		s.External = &t
	}
	if s.Frontier != nil {
		s.Frontier.EnsureDefaults()
	}
	if s.ExternalDemand != nil {
		s.ExternalDemand.EnsureDefaults()
	}
	if s.Cost.LifeYears == 0 && s.Cost.PUE == 0 {
		s.Cost = econ.DefaultCostModel() // a Scenario built in code
	}
	if s.Company == nil {
		c := econ.DefaultCompany()
		s.Company = &c
	}
	if s.RestartOverhead == 0 {
		s.RestartOverhead = Duration(10 * sim.Minute)
	}
	if f := s.Failures; f != nil && f.Enabled {
		if f.PerGPUHour == 0 {
			f.PerGPUHour = DefaultFailuresPerGPUHour
		}
		if f.Repair == nil {
			d, _ := workloads.ParseDist("lognormal:7200:1")
			f.Repair = &d
		}
	}
}

// FitWarmup turns the warm-up off when the horizon does not reach past it
// (a quick look with a short --horizon on a scenario with a long warm-up)
// and says so in the returned note; "" when it changed nothing.
func (s *Scenario) FitWarmup() (note string) {
	if s.Horizon > 0 && s.Warmup >= s.Horizon {
		note = fmt.Sprintf("scenario %s: the horizon %v does not reach past the %v warm-up: the warm-up is off for this run (set warmup to choose one)", s.Name, sim.Time(s.Horizon), sim.Time(s.Warmup))
		s.Warmup = 0
	}
	return note
}

// ExternalOn reports whether synthetic external demand is on.
func (s *Scenario) ExternalOn() bool { return s.External == nil || *s.External }

// Validate checks the scenario and returns the first problem, naming the
// field as a path (e.g. "workloads[2].rate_per_hour").
func (s *Scenario) Validate() error {
	n := 0
	for _, set := range []bool{s.Fleet.Spec != "", s.Fleet.File != "", len(s.Fleet.Groups) > 0} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("scenario %s: fleet: give exactly one of spec, file or groups (example: spec: 64x8xH100)", s.Name)
	}
	if s.SampleInterval <= 0 {
		return fmt.Errorf("scenario %s: sample_interval: must be > 0", s.Name)
	}
	if s.Horizon < 0 {
		return fmt.Errorf("scenario %s: horizon: must be ≥ 0", s.Name)
	}
	if s.Warmup < 0 || (s.Horizon > 0 && s.Warmup >= s.Horizon) {
		return fmt.Errorf("scenario %s: warmup: must be ≥ 0 and before the horizon (%v), got %v", s.Name, sim.Time(s.Horizon), sim.Time(s.Warmup))
	}
	if s.RestartOverhead < 0 {
		return fmt.Errorf("scenario %s: restart_overhead: must be ≥ 0", s.Name)
	}
	if f := s.Failures; f != nil && f.Enabled && (!(f.PerGPUHour > 0) || f.PerGPUHour > 1) {
		return fmt.Errorf("scenario %s: failures.per_gpu_hour: must be in (0, 1], got %v", s.Name, f.PerGPUHour)
	}
	if !(s.SpreadPenalty >= 0) || s.SpreadPenalty > 10 {
		return fmt.Errorf("scenario %s: spread_penalty: must be in [0, 10], got %v", s.Name, s.SpreadPenalty)
	}
	if err := s.Cost.Validate(); err != nil {
		return fmt.Errorf("scenario %s: %v", s.Name, err)
	}
	if err := s.Company.Validate(); err != nil {
		return fmt.Errorf("scenario %s: %v", s.Name, err)
	}
	for model, typ := range s.GPUModels {
		if _, ok := fleet.LookupType(typ); !ok {
			return fmt.Errorf("scenario %s: gpu_models.%s: %q is not a catalog type; known: %s", s.Name, model, typ, fleet.TypeNames())
		}
	}
	if s.Frontier != nil {
		if err := s.Frontier.Validate(); err != nil {
			return fmt.Errorf("scenario %s: frontier: %v", s.Name, err)
		}
	}
	if s.ExternalDemand != nil {
		if err := s.ExternalDemand.Validate(); err != nil {
			return fmt.Errorf("scenario %s: external_demand: %v", s.Name, err)
		}
	}
	names := map[string]bool{}
	for i := range s.Workloads {
		w := &s.Workloads[i]
		if err := w.Validate(); err != nil {
			return fmt.Errorf("scenario %s: workloads[%d]: %v", s.Name, i, err)
		}
		if names[w.Name] {
			return fmt.Errorf("scenario %s: workloads[%d]: name %q used twice", s.Name, i, w.Name)
		}
		names[w.Name] = true
	}
	return nil
}

// Marshal returns the scenario as YAML.
func (s *Scenario) Marshal() ([]byte, error) { return yaml.Marshal(s) }

// ReplayDefaults applies the trace replay rules to a scenario with a trace,
// for the settings the user did not give (by a flag or in their own
// scenario file); a scenario without a trace is left as it is.
//
//   - No horizon set: the horizon is 0, so the run lasts until every trace
//     job has ended; synthetic sources stop arriving after the trace's last
//     arrival (runner). A horizon the user set stands, and the trace jobs
//     submitted after it are counted, not simulated.
//   - No failures setting: injected failures are off, since a trace's
//     recorded durations already include the failures that happened.
//   - No warm-up setting: no warm-up. The embedded default's is justified
//     for its own synthetic start-up, not for a trace (which starts where
//     its recording started).
func (s *Scenario) ReplayDefaults(horizonSet, failuresSet, warmupSet bool) {
	if s.Trace == "" {
		return
	}
	if !horizonSet {
		s.Horizon = 0
	}
	if !warmupSet {
		s.Warmup = 0
	}
	if !failuresSet && s.Failures != nil {
		s.Failures.Enabled = false
	}
}

// SetFailures turns injected failures on or off (the --failures flag);
// EnsureDefaults fills the rate and repair time of a model turned on.
func (s *Scenario) SetFailures(on bool) {
	if s.Failures == nil {
		s.Failures = &Failures{}
	}
	s.Failures.Enabled = on
}

// FailureModel describes the failure model in force, for a run's header:
// "failures off", or the rate and repair time (after EnsureDefaults).
func (s *Scenario) FailureModel() string {
	f := s.Failures
	if f == nil || !f.Enabled {
		return "failures off"
	}
	repair := "default repair"
	if f.Repair != nil {
		repair = "repair " + f.Repair.String() + " s"
	}
	return fmt.Sprintf("failures %.3g per GPU-hour, %s", f.PerGPUHour, repair)
}
