package econ

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"neosim/sim/fleet"
)

// CalibrationSchema is the schema tag of a calibration profile, the JSON
// file `neosim calibrate` writes (docs/calibration.md). A reader refuses
// any other tag: a new schema version is a new tag.
const CalibrationSchema = "neosim.calibration/1"

// PowerProfile is how one GPU model's power follows its utilization. A GPU
// that holds no job draws IdleW; a busy GPU at utilization u ∈ [0, 1]
// draws
//
//	P(u) = C + (FullW − C) · u^Exponent,  C = ContextIdleW if set, else IdleW.
//
// With ContextIdleW unset and Exponent 1 this is the catalog's linear model
// (IdleW + (TDPW − IdleW) × f), which CatalogPowerProfile returns. Caps,
// when present, give throughput and energy per unit of work under a power
// limit, relative to the uncapped GPU. The JSON names are those of a
// calibration profile's "models" entries.
type PowerProfile struct {
	// Name is a catalog type name or alias (fleet.LookupType).
	Name string `json:"name" yaml:"name"`
	// IdleW is the power of a GPU with no process on it, watts.
	IdleW float64 `json:"idle_w" yaml:"idle_w"`
	// ContextIdleW is the power at 0% utilization of a GPU that a process
	// holds (CUDA context, memory allocated): §4 of SOURCES.md puts an H100
	// at 122–145 W this way against 67–71 W idle. 0 means IdleW.
	ContextIdleW float64 `json:"context_idle_w,omitempty" yaml:"context_idle_w,omitempty"`
	// FullW is the power at 100% utilization under the default power limit.
	FullW float64 `json:"full_w" yaml:"full_w"`
	// Exponent k shapes the curve between: 1 is linear, > 1 bends it below
	// the line (power rises late), < 1 above.
	Exponent float64 `json:"exponent" yaml:"exponent"`
	// Caps is throughput and energy versus power cap, at most one point per
	// cap; AtCap interpolates. Empty: no data (AtCap returns 1, 1).
	Caps []CapPoint `json:"caps,omitempty" yaml:"caps,omitempty"`
}

// CapPoint is the effect of one power cap, relative to the GPU at 100% of
// its default power limit running the same work.
type CapPoint struct {
	// CapPct is the power limit in percent of the default limit.
	CapPct float64 `json:"cap_pct" yaml:"cap_pct"`
	// ThroughputRel is work per second over that at 100%.
	ThroughputRel float64 `json:"throughput_rel" yaml:"throughput_rel"`
	// EnergyRel is energy per unit of work over that at 100%.
	EnergyRel float64 `json:"energy_rel" yaml:"energy_rel"`
	// PowerW is the mean measured power at this cap (0: not measured).
	PowerW float64 `json:"power_w,omitempty" yaml:"power_w,omitempty"`
}

// CatalogPowerProfile returns the profile the catalog implies for type t:
// IdleW idle, TDPW at full load, linear between, no cap data. It is the
// model sim/econ used before profiles, and the default for unlisted types.
func CatalogPowerProfile(t int) PowerProfile {
	g := fleet.Catalog[t]
	return PowerProfile{Name: g.Name, IdleW: g.IdleW, FullW: g.TDPW, Exponent: 1}
}

// BaseW returns the power of a busy GPU at 0% utilization: ContextIdleW if
// set, else IdleW.
func (p *PowerProfile) BaseW() float64 {
	if p.ContextIdleW > 0 {
		return p.ContextIdleW
	}
	return p.IdleW
}

// Frac returns u^Exponent for u clamped to [0, 1]: the fraction of
// FullW − BaseW a busy GPU adds at utilization u. An Exponent of 1 returns
// u exactly (math.Pow(u, 1) == u), so the linear model is reproduced bit
// for bit.
func (p *PowerProfile) Frac(u float64) float64 {
	u = min(max(u, 0), 1)
	return math.Pow(u, p.Exponent)
}

// BusyW returns P(u), the power of a busy GPU at utilization u, watts.
func (p *PowerProfile) BusyW(u float64) float64 {
	b := p.BaseW()
	return b + (p.FullW-b)*p.Frac(u)
}

// AtCap returns throughput and energy per unit of work at a power cap of
// pct percent of the default limit, relative to 100%: piecewise-linear
// between the Caps points (100% → 1, 1 is implied when absent), held flat
// beyond the measured range. Without Caps it returns 1, 1.
func (p *PowerProfile) AtCap(pct float64) (throughputRel, energyRel float64) {
	if len(p.Caps) == 0 {
		return 1, 1
	}
	pts := make([]CapPoint, 0, len(p.Caps)+1)
	pts = append(pts, p.Caps...)
	has100 := false
	for _, c := range pts {
		has100 = has100 || c.CapPct == 100
	}
	if !has100 {
		pts = append(pts, CapPoint{CapPct: 100, ThroughputRel: 1, EnergyRel: 1})
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].CapPct < pts[j].CapPct })
	if pct <= pts[0].CapPct {
		return pts[0].ThroughputRel, pts[0].EnergyRel
	}
	for i := 1; i < len(pts); i++ {
		if pct <= pts[i].CapPct {
			a, b := pts[i-1], pts[i]
			w := (pct - a.CapPct) / (b.CapPct - a.CapPct)
			return a.ThroughputRel + w*(b.ThroughputRel-a.ThroughputRel), a.EnergyRel + w*(b.EnergyRel-a.EnergyRel)
		}
	}
	last := pts[len(pts)-1]
	return last.ThroughputRel, last.EnergyRel
}

// Validate checks one profile; errors name the field as the JSON spells it.
func (p *PowerProfile) Validate() error {
	if p.Name == "" {
		return fmt.Errorf("name: empty")
	}
	if err := bound("idle_w", p.IdleW, 0, math.Inf(1), true); err != nil {
		return err
	}
	if p.ContextIdleW != 0 {
		if err := bound("context_idle_w", p.ContextIdleW, p.IdleW, math.Inf(1), false); err != nil {
			return err
		}
	}
	if err := bound("full_w", p.FullW, p.BaseW(), math.Inf(1), false); err != nil {
		return err
	}
	// 0.05–20 spans any curve a fit could defend; outside it the model
	// is a step and the fit has failed.
	if err := bound("exponent", p.Exponent, 0.05, 20, false); err != nil {
		return err
	}
	seen := make(map[float64]bool, len(p.Caps))
	for i, c := range p.Caps {
		f := fmt.Sprintf("caps[%d].", i)
		// NVML allows limits above the default on some boards (up to the
		// max constraint); 200% bounds any that exists.
		if err := bound(f+"cap_pct", c.CapPct, 0, 200, true); err != nil {
			return err
		}
		if seen[c.CapPct] {
			return fmt.Errorf("%scap_pct: %v appears twice", f, c.CapPct)
		}
		seen[c.CapPct] = true
		if err := bound(f+"throughput_rel", c.ThroughputRel, 0, math.Inf(1), true); err != nil {
			return err
		}
		if err := bound(f+"energy_rel", c.EnergyRel, 0, math.Inf(1), true); err != nil {
			return err
		}
		if err := bound(f+"power_w", c.PowerW, 0, math.Inf(1), false); err != nil {
			return err
		}
	}
	return nil
}

// PowerProfiles lists profiles for some catalog types, at most one each;
// For falls back to the catalog for the rest.
type PowerProfiles []PowerProfile

// Validate checks every profile, that names are catalog types and that no
// type appears twice. Errors read "power[i] (NAME): field: problem".
func (ps PowerProfiles) Validate() error {
	seen := make(map[fleet.TypeID]string, len(ps))
	for i := range ps {
		p := &ps[i]
		if err := p.Validate(); err != nil {
			return fmt.Errorf("power[%d] (%s): %w", i, p.Name, err)
		}
		t, ok := fleet.LookupType(p.Name)
		if !ok {
			return fmt.Errorf("power[%d] (%s): not a catalog type; known: %s", i, p.Name, fleet.TypeNames())
		}
		if other, dup := seen[t]; dup {
			return fmt.Errorf("power[%d] (%s): %s and %s name the same type %s", i, p.Name, other, p.Name, fleet.Catalog[t].Name)
		}
		seen[t] = p.Name
	}
	return nil
}

// Lookup returns the listed profile of catalog type t, if any.
func (ps PowerProfiles) Lookup(t fleet.TypeID) (PowerProfile, bool) {
	for _, p := range ps {
		if u, ok := fleet.LookupType(p.Name); ok && u == t {
			return p, true
		}
	}
	return PowerProfile{}, false
}

// For returns the profile of catalog type t: the listed one, else
// CatalogPowerProfile(t).
func (ps PowerProfiles) For(t fleet.TypeID) PowerProfile {
	if p, ok := ps.Lookup(t); ok {
		return p
	}
	return CatalogPowerProfile(int(t))
}

// CalibrationProfile is a calibration profile file: the JSON `neosim
// calibrate` writes (package calibrate measures and fits it) and scenarios
// reference (power_profile). This package owns the format: its one reader
// (DecodeCalibration, ReadCalibration) and its one writer (Encode,
// WriteFile). Measured is false for profiles built from published numbers.
//
// Models outside the catalog (a measured L4, say) are valid in the file:
// the simulator cannot place them, so PowerProfiles leaves them out and
// names them, and a run warns about them (docs/calibration.md).
type CalibrationProfile struct {
	Schema   string `json:"schema"`
	Measured bool   `json:"measured"`
	// Source says where the numbers come from: the host and samples file
	// of a measurement, or the SOURCES.md rows of a built-in profile.
	Source string `json:"source"`
	Note   string `json:"note,omitempty"`
	// Date is when the measurement started (RFC 3339) or, for built-in
	// profiles, the date of the sources.
	Date        string              `json:"date"`
	Driver      string              `json:"driver,omitempty"`
	NVMLVersion string              `json:"nvml_version,omitempty"`
	Devices     []CalibrationDevice `json:"devices,omitempty"`
	Models      []CalibrationModel  `json:"models"`
}

// CalibrationModel is one GPU model's fit: the PowerProfile the simulator
// uses (its JSON fields inline) plus how good the fit is.
type CalibrationModel struct {
	PowerProfile
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

// CalibrationDevice is what enumeration found out about one measured
// device. Power limits are watts; zero means NVML did not say.
type CalibrationDevice struct {
	Index         int     `json:"index"`
	Name          string  `json:"name"`            // NVML name, e.g. "NVIDIA H100 80GB HBM3"
	Model         string  `json:"model,omitempty"` // catalog type (fleet.Catalog), "" if none matches
	UUID          string  `json:"uuid"`
	Architecture  string  `json:"architecture,omitempty"`
	Compute       string  `json:"compute_capability,omitempty"`
	MemoryBytes   uint64  `json:"memory_bytes,omitempty"`
	PowerLimitW   float64 `json:"power_limit_w,omitempty"` // in force when the run started
	DefaultLimitW float64 `json:"default_power_limit_w,omitempty"`
	MinLimitW     float64 `json:"min_power_limit_w,omitempty"`
	MaxLimitW     float64 `json:"max_power_limit_w,omitempty"`
	MaxSMMHz      uint32  `json:"max_sm_mhz,omitempty"`
	MaxMemMHz     uint32  `json:"max_mem_mhz,omitempty"`
}

// ModelName returns the name a fit groups the device under: its catalog
// type, else its NVML name without the "NVIDIA " prefix.
func (d *CalibrationDevice) ModelName() string {
	if d.Model != "" {
		return d.Model
	}
	n := strings.TrimSpace(strings.TrimPrefix(d.Name, "NVIDIA "))
	if n == "" {
		return fmt.Sprintf("device-%d", d.Index)
	}
	return n
}

// Validate checks the profile; errors read "calibration profile: FIELD:
// problem", the field as the JSON spells it. A model name outside the
// catalog is valid; two names of one catalog type (H100, H100-SXM) are not.
func (p *CalibrationProfile) Validate() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("calibration profile: "+format, args...)
	}
	if p.Schema != CalibrationSchema {
		return fail("schema %q, want %q", p.Schema, CalibrationSchema)
	}
	if len(p.Models) == 0 {
		return fail("models: empty")
	}
	if p.Source == "" {
		return fail("source: empty")
	}
	if _, err := time.Parse(time.RFC3339, p.Date); err != nil {
		if _, err := time.Parse(time.DateOnly, p.Date); err != nil {
			return fail("date: %q is neither RFC 3339 nor YYYY-MM-DD", p.Date)
		}
	}
	if p.Measured && len(p.Devices) == 0 {
		return fail("a measured profile lists its devices")
	}
	seen := map[string]bool{}
	types := map[fleet.TypeID]string{}
	for i := range p.Models {
		m := &p.Models[i]
		if err := m.PowerProfile.Validate(); err != nil {
			return fail("models[%d] (%s): %w", i, m.Name, err)
		}
		if seen[m.Name] {
			return fail("models[%d]: %s appears twice", i, m.Name)
		}
		seen[m.Name] = true
		if t, ok := fleet.LookupType(m.Name); ok {
			if other, dup := types[t]; dup {
				return fail("models[%d] (%s): %s and %s name the same type %s", i, m.Name, other, m.Name, fleet.Catalog[t].Name)
			}
			types[t] = m.Name
		}
		if math.IsNaN(m.RMSEW) || m.RMSEW < 0 {
			return fail("models[%d] (%s): rmse_w: must be ≥ 0, got %v", i, m.Name, m.RMSEW)
		}
		if m.R2 != nil && (math.IsNaN(*m.R2) || *m.R2 > 1) {
			return fail("models[%d] (%s): r2: must be ≤ 1, got %v", i, m.Name, *m.R2)
		}
	}
	return nil
}

// PowerProfiles returns the models the simulator can use, those named by a
// catalog type, and the names of the others (skipped), which a run warns
// about.
func (p *CalibrationProfile) PowerProfiles() (ps PowerProfiles, skipped []string) {
	for _, m := range p.Models {
		if _, ok := fleet.LookupType(m.Name); ok {
			ps = append(ps, m.PowerProfile)
		} else {
			skipped = append(skipped, m.Name)
		}
	}
	return ps, skipped
}

// Encode writes the profile as indented JSON after validating it.
func (p *CalibrationProfile) Encode(w io.Writer) error {
	if err := p.Validate(); err != nil {
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return fmt.Errorf("calibration profile: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteFile writes the profile to path (through a temporary file, so path
// is either complete or unchanged), creating its folder.
func (p *CalibrationProfile) WriteFile(path string) error {
	var b bytes.Buffer
	if err := p.Encode(&b); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// DecodeCalibration reads and validates a calibration profile. Unknown
// fields are errors (a typo in a hand-edited profile should not pass
// silently), and so is a missing "measured" field: a profile must say
// whether it holds measurements.
func DecodeCalibration(r io.Reader) (*CalibrationProfile, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("calibration profile: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p CalibrationProfile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("calibration profile: %w", err)
	}
	var has struct {
		Measured *bool `json:"measured"`
	}
	if json.Unmarshal(b, &has) == nil && has.Measured == nil && p.Schema == CalibrationSchema {
		return nil, fmt.Errorf("calibration profile: no \"measured\" field")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// ReadCalibration reads the calibration profile at path; errors name it.
func ReadCalibration(path string) (*CalibrationProfile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := DecodeCalibration(f)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return p, nil
}
