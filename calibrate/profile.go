package calibrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"neosim/sim/econ"
)

// Profile is a calibration profile: the JSON `neosim calibrate` writes and
// scenarios reference (schema econ.CalibrationSchema; sim/econ reads the
// models with econ.ReadPowerProfiles). Measured is false for profiles
// built from published numbers (Builtin).
type Profile struct {
	Schema   string `json:"schema"`
	Measured bool   `json:"measured"`
	// Source says where the numbers come from: the host and samples file
	// of a measurement, or the SOURCES.md rows of a built-in profile.
	Source string `json:"source"`
	Note   string `json:"note,omitempty"`
	// Date is when the measurement started (RFC 3339) or, for built-in
	// profiles, the date of the sources.
	Date        string         `json:"date"`
	Driver      string         `json:"driver,omitempty"`
	NVMLVersion string         `json:"nvml_version,omitempty"`
	Devices     []DeviceInfo   `json:"devices,omitempty"`
	Models      []ModelProfile `json:"models"`
}

// ModelProfile is one GPU model's fit: the econ.PowerProfile the simulator
// uses (its JSON fields inline) plus how good the fit is.
type ModelProfile struct {
	econ.PowerProfile
	// NVMLName is the devices' NVML name (measured profiles).
	NVMLName string `json:"nvml_name,omitempty"`
	// Devices is the number of devices pooled in the fit.
	Devices int `json:"devices,omitempty"`
	// Points is the number of (utilization, power) windows fitted.
	Points int `json:"points,omitempty"`
	// RMSEW is the root-mean-square error of the power curve, watts.
	RMSEW float64 `json:"rmse_w,omitempty"`
	// R2 is the coefficient of determination of the power curve (omitted
	// when undefined: built-in profiles, or all points at one power).
	R2 *float64 `json:"r2,omitempty"`
	// ExponentFixed says the data could not tell the exponent (no
	// utilization between 5% and 95%) and it was set to 1.
	ExponentFixed bool `json:"exponent_fixed,omitempty"`
	// IdleRangeW is the published idle range of a built-in profile.
	IdleRangeW []float64 `json:"idle_range_w,omitempty"`
	Note       string    `json:"note,omitempty"`
}

// Validate checks the profile; errors name the JSON field.
func (p *Profile) Validate() error {
	if p.Schema != econ.CalibrationSchema {
		return fmt.Errorf("calibrate: profile: schema %q, want %q", p.Schema, econ.CalibrationSchema)
	}
	if p.Source == "" {
		return errors.New("calibrate: profile: source: empty")
	}
	if _, err := time.Parse(time.RFC3339, p.Date); err != nil {
		if _, err := time.Parse(time.DateOnly, p.Date); err != nil {
			return fmt.Errorf("calibrate: profile: date: %q is neither RFC 3339 nor YYYY-MM-DD", p.Date)
		}
	}
	if p.Measured && len(p.Devices) == 0 {
		return errors.New("calibrate: profile: a measured profile lists its devices")
	}
	if len(p.Models) == 0 {
		return errors.New("calibrate: profile: models: empty")
	}
	seen := map[string]bool{}
	for i := range p.Models {
		m := &p.Models[i]
		if err := m.PowerProfile.Validate(); err != nil {
			return fmt.Errorf("calibrate: profile: models[%d] (%s): %w", i, m.Name, err)
		}
		if seen[m.Name] {
			return fmt.Errorf("calibrate: profile: models[%d]: %s appears twice", i, m.Name)
		}
		seen[m.Name] = true
		if math.IsNaN(m.RMSEW) || m.RMSEW < 0 {
			return fmt.Errorf("calibrate: profile: models[%d] (%s): rmse_w: must be ≥ 0, got %v", i, m.Name, m.RMSEW)
		}
		if m.R2 != nil && (math.IsNaN(*m.R2) || *m.R2 > 1) {
			return fmt.Errorf("calibrate: profile: models[%d] (%s): r2: must be ≤ 1, got %v", i, m.Name, *m.R2)
		}
	}
	return nil
}

// PowerProfiles returns the models the simulator can use: those named by
// a catalog type (a measured profile may also hold models the catalog
// lacks, such as an L4).
func (p *Profile) PowerProfiles() econ.PowerProfiles {
	var ps econ.PowerProfiles
	for _, m := range p.Models {
		if (econ.PowerProfiles{m.PowerProfile}).Validate() == nil {
			ps = append(ps, m.PowerProfile)
		}
	}
	return ps
}

// Encode writes the profile as indented JSON after validating it.
func (p *Profile) Encode(w io.Writer) error {
	if err := p.Validate(); err != nil {
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("calibrate: profile: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteFile writes the profile to path (through a temporary file, so path
// is either complete or unchanged).
func (p *Profile) WriteFile(path string) error {
	var b bytes.Buffer
	if err := p.Encode(&b); err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("calibrate: %w", err)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("calibrate: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("calibrate: %w", err)
	}
	return nil
}

// DecodeProfile reads and validates a profile. Unknown fields are errors:
// a typo in a hand-edited profile should not pass silently.
func DecodeProfile(r io.Reader) (*Profile, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("calibrate: profile: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// ReadProfile reads the profile at path.
func ReadProfile(path string) (*Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	defer f.Close()
	p, err := DecodeProfile(f)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return p, nil
}
