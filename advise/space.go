package advise

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"neosim/scenario"
)

// PartitionAllocator is the allocator whose internal_share parameter is the
// share decision variable; the other allocators have no share.
const PartitionAllocator = "partition"

// Default decision variables (docs/advise.md).
const (
	// DefaultShares are the shares of the fleet kept for internal
	// training: 1 sells nothing, 0.5 sells up to half the fleet.
	DefaultShares = "0.5:1:0.1"
	// DefaultMultipliers are the price levels: list prices × 0.8 to × 1.4.
	DefaultMultipliers = "0.8:1.4:0.2"
)

// Space is the decision space: every allocator × pricer × multiplier, and
// for the partition allocator every share too.
type Space struct {
	Allocators  []string
	Pricers     []string
	Shares      []float64 // internal_share of the partition allocator
	Multipliers []float64 // pricer_params.multiplier
}

// Candidate is one decision.
type Candidate struct {
	Allocator string
	Pricer    string
	// Share is the partition allocator's internal_share; NaN for the
	// other allocators, which keep no fixed share.
	Share      float64
	Multiplier float64
}

// Label names the candidate in tables and plots.
func (c Candidate) Label() string {
	s := c.Allocator
	if !math.IsNaN(c.Share) {
		s += " share " + fmtNum(c.Share)
	}
	return s + " / " + c.Pricer + " ×" + fmtNum(c.Multiplier)
}

// Candidates lists the space's decisions: allocator-major, then pricer,
// share (high to low as given), multiplier.
func (sp Space) Candidates() []Candidate {
	var cs []Candidate
	for _, a := range sp.Allocators {
		shares := []float64{math.NaN()}
		if a == PartitionAllocator {
			shares = sp.Shares
		}
		for _, p := range sp.Pricers {
			for _, sh := range shares {
				for _, m := range sp.Multipliers {
					cs = append(cs, Candidate{Allocator: a, Pricer: p, Share: sh, Multiplier: m})
				}
			}
		}
	}
	return cs
}

// Apply sets the candidate's policies and parameters on s (a fresh
// scenario: its parameter maps are copied, not shared).
func (c Candidate) Apply(s *scenario.Scenario) {
	s.Allocator, s.Pricer = c.Allocator, c.Pricer
	ap := map[string]any{}
	for k, v := range s.AllocatorParams {
		ap[k] = v
	}
	if !math.IsNaN(c.Share) {
		ap["internal_share"] = c.Share
	}
	pp := map[string]any{}
	for k, v := range s.PricerParams {
		pp[k] = v
	}
	pp["multiplier"] = c.Multiplier
	s.AllocatorParams, s.PricerParams = ap, pp
}

// ParseRange parses a list of numbers ("0.6,0.8,1") or a range
// "lo:hi:step" (lo, lo+step, … up to hi inclusive, within a millionth of a
// step). Values are rounded to 9 decimals so that 0.1 steps print as
// written.
func ParseRange(spec string) ([]float64, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("empty list")
	}
	if strings.Contains(spec, ":") {
		parts := strings.Split(spec, ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%q: a range is lo:hi:step", spec)
		}
		var v [3]float64
		for i, p := range parts {
			x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%q: %q is not a number", spec, p)
			}
			v[i] = x
		}
		lo, hi, step := v[0], v[1], v[2]
		if !(step > 0) || hi < lo {
			return nil, fmt.Errorf("%q: need lo ≤ hi and step > 0", spec)
		}
		n := int(math.Floor((hi-lo)/step + 1e-6))
		if n > 10000 {
			return nil, fmt.Errorf("%q: more than 10,000 values", spec)
		}
		out := make([]float64, 0, n+1)
		for i := 0; i <= n; i++ {
			out = append(out, round9(lo+float64(i)*step))
		}
		return out, nil
	}
	var out []float64
	seen := map[float64]bool{}
	for _, f := range strings.Split(spec, ",") {
		x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%q: %q is not a number", spec, f)
		}
		if seen[x] {
			return nil, fmt.Errorf("%q: %v is listed twice", spec, x)
		}
		seen[x] = true
		out = append(out, x)
	}
	return out, nil
}

func round9(x float64) float64 { return math.Round(x*1e9) / 1e9 }

// fmtNum prints a number with as few digits as it needs.
func fmtNum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Validate checks the space: at least one of each, shares in [0, 1] and
// multipliers > 0.
func (sp Space) Validate() error {
	switch {
	case len(sp.Allocators) == 0:
		return fmt.Errorf("no allocator")
	case len(sp.Pricers) == 0:
		return fmt.Errorf("no pricer")
	case len(sp.Multipliers) == 0:
		return fmt.Errorf("no price multiplier")
	}
	for _, a := range sp.Allocators {
		if a == PartitionAllocator && len(sp.Shares) == 0 {
			return fmt.Errorf("no internal share for the partition allocator")
		}
	}
	for _, s := range sp.Shares {
		if !(s >= 0 && s <= 1) {
			return fmt.Errorf("internal share %v: must be in [0, 1]", s)
		}
	}
	for _, m := range sp.Multipliers {
		if !(m > 0) {
			return fmt.Errorf("price multiplier %v: must be > 0", m)
		}
	}
	return nil
}
