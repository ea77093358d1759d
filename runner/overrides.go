package runner

import (
	"errors"
	"fmt"
	"io"
	"os"

	"neosim/policies"
	"neosim/scenario"
	"neosim/sim"
)

// Overrides are settings given over a scenario's, such as `neosim run`'s
// flags; a nil field changes nothing. Errors name the flag.
type Overrides struct {
	Trace, TraceFormat *string
	// Fleet is a fleet spec (1000x8xH100,…) or, if such a file exists, a
	// node-list file read in FleetFormat ("" or auto: detected).
	Fleet       *string
	FleetFormat string
	External    *bool
	Allocator   *string
	Pricer      *string
	Seed        *uint64
	Horizon     *sim.Time
	Sample      *sim.Time
	// Warmup is the start of the measurement window (scenario warmup).
	Warmup *sim.Time
	// Failures turns injected node failures on or off.
	Failures *bool
	// ServingTrace is a request log that replaces the synthetic token rate
	// of every serving segment of external_demand (its trace key).
	ServingTrace *string
}

// Apply sets the overrides on s and checks each (a fleet that builds, a
// known policy, a seed ≥ 1), then applies the trace replay rules
// (scenario.ReplayDefaults): own says s is the user's own scenario file,
// whose horizon and failure model count as set by the user.
func (o *Overrides) Apply(s *scenario.Scenario, own bool) error {
	if o.Trace != nil {
		s.Trace = *o.Trace
	}
	if o.TraceFormat != nil {
		s.TraceFormat = *o.TraceFormat
	}
	if o.Fleet != nil {
		if _, err := os.Stat(*o.Fleet); err == nil {
			s.Fleet = scenario.Fleet{File: *o.Fleet, Format: o.FleetFormat}
		} else {
			s.Fleet = scenario.Fleet{Spec: *o.Fleet}
		}
		if _, err := BuildFleet(s, io.Discard); err != nil {
			return fmt.Errorf("--fleet %s: %w", *o.Fleet, err)
		}
	}
	if o.External != nil {
		s.External = o.External
	}
	if o.Allocator != nil {
		if _, err := policies.Allocators.New(*o.Allocator); err != nil {
			return fmt.Errorf("--allocator: %w", err)
		}
		s.Allocator = *o.Allocator
	}
	if o.Pricer != nil {
		if _, err := policies.Pricers.New(*o.Pricer); err != nil {
			return fmt.Errorf("--pricer: %w", err)
		}
		s.Pricer = *o.Pricer
	}
	if o.Seed != nil {
		if *o.Seed == 0 {
			return errors.New("--seed: must be ≥ 1")
		}
		s.Seed = *o.Seed
	}
	if o.Horizon != nil {
		s.Horizon = scenario.Duration(*o.Horizon)
	}
	if o.Sample != nil {
		s.SampleInterval = scenario.Duration(*o.Sample)
	}
	if o.Warmup != nil {
		s.Warmup = scenario.Duration(*o.Warmup)
	}
	if o.Failures != nil {
		s.SetFailures(*o.Failures)
	}
	if o.ServingTrace != nil {
		if err := setServingTrace(s, *o.ServingTrace); err != nil {
			return fmt.Errorf("--serving-trace: %w", err)
		}
	}
	s.ReplayDefaults(own || o.Horizon != nil, own || o.Failures != nil, own || o.Warmup != nil)
	return nil
}

// setServingTrace sets the request log of every serving segment.
func setServingTrace(s *scenario.Scenario, path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	n := 0
	if e := s.ExternalDemand; e != nil && s.ExternalOn() {
		for i := range e.Segments {
			if e.Segments[i].Segment == sim.SegServing.String() {
				e.Segments[i].Trace = path
				n++
			}
		}
	}
	if n == 0 {
		return fmt.Errorf("scenario %s has no serving segment in external_demand (or external demand is off)", s.Name)
	}
	return nil
}
