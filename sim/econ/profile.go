package econ

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

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

// calibrationFile is the part of a calibration profile the simulator
// reads; calibrate writes the whole (devices, fit errors, notes).
type calibrationFile struct {
	Schema   string        `json:"schema"`
	Measured *bool         `json:"measured"`
	Source   string        `json:"source"`
	Models   PowerProfiles `json:"models"`
}

// ReadPowerProfiles reads a calibration profile (JSON, schema
// CalibrationSchema) and returns its models' power profiles, validated,
// and whether they were measured (false for built-in, published numbers).
func ReadPowerProfiles(r io.Reader) (ps PowerProfiles, measured bool, err error) {
	var f calibrationFile
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return nil, false, fmt.Errorf("econ: calibration profile: %w", err)
	}
	if f.Schema != CalibrationSchema {
		return nil, false, fmt.Errorf("econ: calibration profile: schema %q, want %q", f.Schema, CalibrationSchema)
	}
	if f.Measured == nil {
		return nil, false, fmt.Errorf("econ: calibration profile: no \"measured\" field")
	}
	if len(f.Models) == 0 {
		return nil, false, fmt.Errorf("econ: calibration profile: no models")
	}
	if err := f.Models.Validate(); err != nil {
		return nil, false, fmt.Errorf("econ: calibration profile: %w", err)
	}
	return f.Models, *f.Measured, nil
}

// LoadPowerProfiles reads the calibration profile at path (see
// ReadPowerProfiles).
func LoadPowerProfiles(path string) (PowerProfiles, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("econ: %w", err)
	}
	defer f.Close()
	ps, measured, err := ReadPowerProfiles(f)
	if err != nil {
		return nil, false, fmt.Errorf("%w (%s)", err, path)
	}
	return ps, measured, nil
}
