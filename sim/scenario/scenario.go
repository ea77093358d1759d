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
	Spec   string        `yaml:"spec,omitempty" json:"spec,omitempty"`
	File   string        `yaml:"file,omitempty" json:"file,omitempty"`
	Groups []fleet.Group `yaml:"groups,omitempty" json:"groups,omitempty"`
}

// Scenario is one simulation setup.
type Scenario struct {
	Name string `yaml:"name" json:"name"`
	Seed uint64 `yaml:"seed" json:"seed"`
	// Horizon ends the run; 0 (or absent) runs until every job has ended.
	Horizon        Duration `yaml:"horizon,omitempty" json:"horizon,omitempty"`
	SampleInterval Duration `yaml:"sample_interval,omitempty" json:"sample_interval,omitempty"`
	Allocator      string   `yaml:"allocator" json:"allocator"`
	Pricer         string   `yaml:"pricer" json:"pricer"`
	Fleet          Fleet    `yaml:"fleet" json:"fleet"`
	// Trace is a canonical job trace that replaces the internal workloads
	// (frontier and the internal-segment entries of workloads).
	Trace string `yaml:"trace,omitempty" json:"trace,omitempty"`
	// Frontier is the synthetic internal training mix of a frontier lab
	// (docs/workloads.md); absent means none.
	Frontier *workloads.Frontier `yaml:"frontier,omitempty" json:"frontier,omitempty"`
	// External turns the synthetic external demand (every non-internal
	// workload) on or off. Default on.
	External  *bool               `yaml:"external,omitempty" json:"external,omitempty"`
	Workloads []workloads.Poisson `yaml:"workloads,omitempty" json:"workloads,omitempty"`
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
	s := &Scenario{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(s); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("scenario %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	s.EnsureDefaults()
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
	if s.Frontier != nil {
		if err := s.Frontier.Validate(); err != nil {
			return fmt.Errorf("scenario %s: frontier: %v", s.Name, err)
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
