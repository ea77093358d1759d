package econ

import (
	"fmt"
	"math"
	"sort"

	"neosim/sim/fleet"
)

// HoursPerYear converts a useful life in years to hours (365 days, as in the
// capex-per-GPU-hour arithmetic of SOURCES.md §2).
const HoursPerYear = 8760

// HoursPerMonth is the month of the support cost: 8760 / 12 = 730 hours, the
// month cloud price lists use [U].
const HoursPerMonth = HoursPerYear / 12

// CostModel is what running the fleet costs. Tags follow
// ../shared/calibration/SOURCES.md: [V] verbatim from a source, [D] derived,
// [U] an assumption to replace when a better source exists. Start from
// DefaultCostModel and override fields (a scenario decodes its `cost:` block
// over the defaults): a zero is a real value here (no support cost, no
// delay cost), not "use the default".
type CostModel struct {
	// CapexUSD overrides the all-in capital cost per GPU (GPU, server share,
	// fabric) of catalog types, keyed by type name or alias. Types not listed
	// use fleet.Catalog[t].CapexUSD (H100 50k [V], §2).
	CapexUSD map[string]float64 `yaml:"capex_usd,omitempty" json:"capex_usd,omitempty"`
	// LifeYears is the straight-line depreciation period of the capex.
	LifeYears float64 `yaml:"life_years" json:"life_years"`
	// LifeYearsByType overrides LifeYears for catalog types, keyed by type
	// name or alias (a GPU generation depreciated over its own life).
	LifeYearsByType map[string]float64 `yaml:"life_years_by_type,omitempty" json:"life_years_by_type,omitempty"`
	// CostOfCapital is the annual rate charged on the undepreciated capex:
	// over a straight-line life the mean book value is half the capex, so
	// a GPU-hour carries CostOfCapital × capex / 2 / 8760. It is an
	// economic cost, below the operating line (Costs.Capital).
	CostOfCapital float64 `yaml:"cost_of_capital" json:"cost_of_capital"`
	// DatacenterUSDPerMWYear is the data-centre cost (space, cooling,
	// electrical plant: a lease of powered shell, or a build's annual
	// equivalent) per MW-year of critical IT power. Each GPU reserves its
	// server's share at TDP: TDPW × HostPowerFactor.
	DatacenterUSDPerMWYear float64 `yaml:"datacenter_usd_per_mw_year" json:"datacenter_usd_per_mw_year"`
	// SalesGAFraction is sales, general and administrative expense as a
	// fraction of external revenue.
	SalesGAFraction float64 `yaml:"sales_ga_fraction" json:"sales_ga_fraction"`
	// DedicatedDatacenters names the fleet's data centres bought for the
	// cloud (dedicated capacity): all their costs, idle included, are the
	// external business's. The rest of the fleet is spare capacity.
	DedicatedDatacenters []string `yaml:"dedicated_datacenters,omitempty" json:"dedicated_datacenters,omitempty"`
	// IdleCost says who pays for idle spare capacity: "internal" (the fleet
	// is built for internal work; the marginal view) or "shared" (split
	// between internal and external by their GPU-hours on spare capacity).
	// "" is "internal".
	IdleCost string `yaml:"idle_cost" json:"idle_cost"`
	// OverheadFraction is network and operations cost (staff, network
	// opex, maintenance) as a fraction of the depreciation: each GPU-hour
	// costs capex/h × (1 + OverheadFraction) before power.
	OverheadFraction float64 `yaml:"overhead_fraction" json:"overhead_fraction"`
	// PUE is the facility power over the IT power (≥ 1).
	PUE float64 `yaml:"pue" json:"pue"`
	// USDPerKWh is the electricity price.
	USDPerKWh float64 `yaml:"usd_per_kwh" json:"usd_per_kwh"`
	// HostPowerFactor is a server's power over its GPUs' power (CPUs,
	// memory, NICs, fans), applied to idle and busy GPU power alike (≥ 1).
	HostPowerFactor float64 `yaml:"host_power_factor" json:"host_power_factor"`
	// BusyUtilization is the power utilization f of a busy GPU: it draws
	// IdleW + (TDPW − IdleW) × f. It applies to every segment but serving.
	BusyUtilization float64 `yaml:"busy_utilization" json:"busy_utilization"`
	// ServingUtilization is f for GPUs held by the serving segment (LLM
	// inference draws far below TDP).
	ServingUtilization float64 `yaml:"serving_utilization" json:"serving_utilization"`
	// SupportUSDPerCustomerMonth is the cost of supporting one external
	// customer for a month (730 h) of activity: account management,
	// tickets, solutions engineering.
	SupportUSDPerCustomerMonth float64 `yaml:"support_usd_per_customer_month" json:"support_usd_per_customer_month"`
	// DelayUSDPerGPUHour values a GPU-hour of internal waiting (an internal
	// job queued, GPUs × time): the cost of internal delay charged to the
	// external business.
	DelayUSDPerGPUHour float64 `yaml:"delay_usd_per_gpu_hour" json:"delay_usd_per_gpu_hour"`
	// Power gives catalog types measured power curves (PowerProfile), such
	// as the models of a profile written by `neosim calibrate`
	// (CalibrationProfile.PowerProfiles). A busy GPU at utilization f then draws
	// PowerProfile.BusyW(f) instead of IdleW + (TDPW − IdleW) × f, and an
	// idle one its IdleW. Types not listed keep the catalog's linear model.
	Power PowerProfiles `yaml:"power,omitempty" json:"power,omitempty"`
}

// DefaultCostModel returns the defaults, each from
// ../shared/calibration/SOURCES.md (docs/economics.md shows the arithmetic).
func DefaultCostModel() CostModel {
	return CostModel{
		// CapexUSD is empty: fleet.Catalog's CapexUSD (§2 H100 all-in
		// 47k–52k → 50k [V]; others [D]/[U]) is the default, and a
		// scenario's entry (by name or alias) overrides its type's.
		// §2 "Meta server and network useful life 5.5 years (from 4–5),
		// effective Jan 2025" [V]. Peers 5–6 years (§2).
		LifeYears: 5.5,
		// §2 capex-per-H100-hour row: "add about 20% opex (the 20% is from
		// the greaterwrong estimate [U])". SemiAnalysis puts networking,
		// control plane, support and the rest at a 5–15% TCO spread (§2) [U].
		OverheadFraction: 0.20,
		// [U]: SOURCES.md has no cost of capital. 10% a year, between
		// investment-grade debt and equity returns; the §2 "$2 H100s" rows
		// (breakeven 1.65, stock-market IRR 2.85 $/GPU-h) imply far more.
		CostOfCapital: 0.10,
		// §2 "Data-centre space (leased, powered shell) ~1.65M per MW-year
		// of critical IT power" [V] (Rittenhouse, secondary).
		DatacenterUSDPerMWYear: 1_650_000,
		// [U]: SOURCES.md has no S&GA share. CoreWeave's adjusted operating
		// margin of 16% against a 61–62% adjusted EBITDA margin (§2) is
		// mostly depreciation; 10% of revenue for sales and G&A.
		SalesGAFraction: 0.10,
		IdleCost:        IdleInternal,
		// §2 "Meta data-center PUE 1.08 (2023 fleet)" [V].
		PUE: 1.08,
		// §2 "US industrial electricity price 8.06 ¢/kWh (2023)" [V].
		USDPerKWh: 0.0806,
		// §2 "GPUs' share of server power during DNN training ~70%" [V]
		// → 1 / 0.70 = 1.43 [D]. Check: a busy H100 at f = 0.8 draws
		// 69 + 631 × 0.8 = 574 W × 1.43 = 820 W, 6.6 kW per 8-GPU server,
		// inside DGX H100 "typical 6.5–8.5 kW" (§2) [V].
		HostPowerFactor: 1 / 0.70,
		// [U], inside the §2/§4 evidence: training GPUs draw near TDP (§4
		// "busy GPUs near TDP", bimodal fleet) and the measured 8-GPU
		// training peak of 8.4 kW (§2, Latif et al.) gives
		// (8400 / 8 × 0.70 − 69) / (700 − 69) = 0.93 at peak; A100 LLM
		// clusters' busy samples (§4 AcmeTrace power percentiles above the
		// idle third) give 0.5–0.66. 0.8 for the mean of busy training GPUs.
		BusyUtilization: 0.8,
		// §4 "LLM decode power on H200 137–300 W of 700 W" [V] → midpoint
		// 218 W: (218 − 75) / (700 − 75) = 0.23 [D].
		ServingUtilization: 0.23,
		// [U]: SOURCES.md has no support cost (§2 lists support among the
		// 5–15% TCO spread items only). One solutions/support engineer at
		// about $250k a year fully loaded per about 40 active customers
		// ≈ $520 a customer-month, rounded to 500.
		SupportUSDPerCustomerMonth: 500,
		// §1b "H100 1-yr contract price index 2.35 $/GPU-h (Mar 2026)" [V]:
		// what the company would pay to rent the waiting GPU-hours elsewhere
		// on a term contract. Its use as the value of internal delay is [U];
		// the range runs from the own cost of an H100-hour (≈1.30, §2) to
		// the on-demand list price (6.155, §1b).
		DelayUSDPerGPUHour: 2.35,
	}
}

// Validate checks the model and returns the first problem, naming the
// field as a scenario spells it ("cost.pue: must be ≥ 1, got 0.9").
func (m *CostModel) Validate() error {
	checks := []struct {
		field string
		v     float64
		min   float64
		max   float64 // +Inf: no upper bound
		open  bool    // min excluded
	}{
		{"life_years", m.LifeYears, 0, math.Inf(1), true},
		{"overhead_fraction", m.OverheadFraction, 0, math.Inf(1), false},
		{"pue", m.PUE, 1, math.Inf(1), false},
		{"usd_per_kwh", m.USDPerKWh, 0, math.Inf(1), false},
		{"host_power_factor", m.HostPowerFactor, 1, math.Inf(1), false},
		{"busy_utilization", m.BusyUtilization, 0, 1, false},
		{"serving_utilization", m.ServingUtilization, 0, 1, false},
		{"support_usd_per_customer_month", m.SupportUSDPerCustomerMonth, 0, math.Inf(1), false},
		{"delay_usd_per_gpu_hour", m.DelayUSDPerGPUHour, 0, math.Inf(1), false},
		{"cost_of_capital", m.CostOfCapital, 0, 1, false},
		{"datacenter_usd_per_mw_year", m.DatacenterUSDPerMWYear, 0, math.Inf(1), false},
		{"sales_ga_fraction", m.SalesGAFraction, 0, 1, false},
	}
	if m.IdleCost != "" && m.IdleCost != IdleInternal && m.IdleCost != IdleShared {
		return fmt.Errorf("cost.idle_cost: must be %q or %q, got %q", IdleInternal, IdleShared, m.IdleCost)
	}
	for i, dc := range m.DedicatedDatacenters {
		if dc == "" {
			return fmt.Errorf("cost.dedicated_datacenters[%d]: empty name", i)
		}
	}
	for _, c := range checks {
		if err := bound("cost."+c.field, c.v, c.min, c.max, c.open); err != nil {
			return err
		}
	}
	if err := m.Power.Validate(); err != nil {
		return fmt.Errorf("cost.%w", err)
	}
	if err := checkByType("cost.capex_usd", m.CapexUSD, 0, false); err != nil {
		return err
	}
	return checkByType("cost.life_years_by_type", m.LifeYearsByType, 0, true)
}

// Who pays for idle spare capacity (CostModel.IdleCost).
const (
	IdleInternal = "internal"
	IdleShared   = "shared"
)

// checkByType checks a per-type map: catalog keys, one key per type, and
// values > lo (open) or ≥ lo.
func checkByType(field string, byType map[string]float64, lo float64, open bool) error {
	names := make([]string, 0, len(byType))
	for n := range byType {
		names = append(names, n)
	}
	sort.Strings(names) // report the first problem in a stable order
	seen := make(map[fleet.TypeID]string, len(names))
	for _, n := range names {
		t, ok := fleet.LookupType(n)
		if !ok {
			return fmt.Errorf("%s.%s: not a catalog type; known: %s", field, n, fleet.TypeNames())
		}
		if other, dup := seen[t]; dup {
			return fmt.Errorf("%s: %s and %s name the same type %s", field, other, n, fleet.Catalog[t].Name)
		}
		seen[t] = n
		if err := bound(field+"."+n, byType[n], lo, math.Inf(1), open); err != nil {
			return err
		}
	}
	return nil
}

// byType returns the value of a per-type map for type t (by name or
// alias), or def.
func byType(m map[string]float64, t fleet.TypeID, def float64) float64 {
	for n, v := range m {
		if u, ok := fleet.LookupType(n); ok && u == t {
			return v
		}
	}
	return def
}

// Life returns the depreciation life of type t in years.
func (m *CostModel) Life(t fleet.TypeID) float64 { return byType(m.LifeYearsByType, t, m.LifeYears) }

// bound checks min ≤ v ≤ max (min < v if open); NaN and ±Inf fail.
func bound(field string, v, lo, hi float64, open bool) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Errorf("%s: must be a finite number, got %v", field, v)
	case open && v <= lo:
		return fmt.Errorf("%s: must be > %v, got %v", field, lo, v)
	case v < lo:
		return fmt.Errorf("%s: must be ≥ %v, got %v", field, lo, v)
	case v > hi:
		return fmt.Errorf("%s: must be ≤ %v, got %v", field, hi, v)
	}
	return nil
}

// Capex returns the capital cost per GPU of catalog type t: the override
// in CapexUSD if any (by name or alias), else the catalog's.
func (m *CostModel) Capex(t fleet.TypeID) float64 {
	return byType(m.CapexUSD, t, fleet.Catalog[t].CapexUSD)
}

// rates are a cost model's per-GPU-hour costs of one catalog type, in
// dollars; computed once per ledger.
type rates struct {
	capex    float64 // depreciation per GPU-hour
	capital  float64 // cost of capital per GPU-hour
	dc       float64 // data-centre cost per GPU-hour
	book     float64 // mean undepreciated capex per GPU: capex / 2
	overhead float64 // network and operations per GPU-hour
	idleKW   float64 // facility power of an idle GPU (host and PUE included)
	ctxKW    float64 // what a busy GPU at f = 0 adds over idleKW: (context idle − idle) × host × PUE
	dynKW    float64 // what a busy GPU adds at f = 1 over f = 0: (full − base) × host × PUE
	exp      float64 // exponent of f in the power curve (1: linear)
}

// addKW returns the facility power a busy GPU at utilization f adds over
// an idle one. With the catalog's model (ctxKW 0, exp 1) it is dynKW × f
// exactly.
func (r *rates) addKW(f float64) float64 {
	return r.ctxKW + r.dynKW*math.Pow(f, r.exp)
}

// linear reports whether the type's power is the catalog's linear model.
func (r *rates) linear() bool { return r.ctxKW == 0 && r.exp == 1 }

func (m *CostModel) rates(t fleet.TypeID) rates {
	p := m.Power.For(t)
	capex := m.Capex(t) / (m.Life(t) * HoursPerYear)
	k := m.HostPowerFactor * m.PUE / 1000 // W → facility kW
	return rates{
		capex:    capex,
		book:     m.Capex(t) / 2,
		capital:  m.CostOfCapital * m.Capex(t) / 2 / HoursPerYear,
		dc:       m.DatacenterUSDPerMWYear * fleet.Catalog[t].TDPW * m.HostPowerFactor / 1e6 / HoursPerYear,
		overhead: capex * m.OverheadFraction,
		idleKW:   p.IdleW * k,
		ctxKW:    (p.BaseW() - p.IdleW) * k,
		dynKW:    (p.FullW - p.BaseW()) * k,
		exp:      p.Exponent,
	}
}
