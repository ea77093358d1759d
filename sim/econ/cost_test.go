package econ

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"neosim/sim/fleet"
)

func TestDefaultCostModelValid(t *testing.T) {
	m := DefaultCostModel()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	// §2 derived row: capex per H100-hour 50,000 / (5.5 × 8,760) = $1.04.
	h100, _ := fleet.LookupType("H100")
	if got := m.rates(h100).capex; math.Abs(got-1.0378) > 1e-4 {
		t.Errorf("H100 capex per GPU-h = %v, want 1.0378", got)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*CostModel)
		want string
	}{
		{func(m *CostModel) { m.PUE = 0.9 }, "cost.pue: must be ≥ 1, got 0.9"},
		{func(m *CostModel) { m.LifeYears = 0 }, "cost.life_years: must be > 0"},
		{func(m *CostModel) { m.USDPerKWh = -0.1 }, "cost.usd_per_kwh: must be ≥ 0"},
		{func(m *CostModel) { m.OverheadFraction = -1 }, "cost.overhead_fraction: must be ≥ 0"},
		{func(m *CostModel) { m.HostPowerFactor = 0.5 }, "cost.host_power_factor: must be ≥ 1"},
		{func(m *CostModel) { m.BusyUtilization = 1.5 }, "cost.busy_utilization: must be ≤ 1"},
		{func(m *CostModel) { m.ServingUtilization = -0.1 }, "cost.serving_utilization: must be ≥ 0"},
		{func(m *CostModel) { m.SupportUSDPerCustomerMonth = -5 }, "cost.support_usd_per_customer_month: must be ≥ 0"},
		{func(m *CostModel) { m.DelayUSDPerGPUHour = math.NaN() }, "cost.delay_usd_per_gpu_hour: must be a finite number"},
		{func(m *CostModel) { m.PUE = math.Inf(1) }, "cost.pue: must be a finite number"},
		{func(m *CostModel) { m.CapexUSD = map[string]float64{"H100-SXM": -1} }, "cost.capex_usd.H100-SXM: must be ≥ 0"},
		{func(m *CostModel) { m.CapexUSD = map[string]float64{"V100": 1} }, "cost.capex_usd.V100: not a catalog type"},
		{func(m *CostModel) { m.CapexUSD = map[string]float64{"H100": 1, "H100-SXM": 2} }, "cost.capex_usd: H100 and H100-SXM name the same type"},
		{func(m *CostModel) { m.LifeYearsByType = map[string]float64{"B200": 0} }, "cost.life_years_by_type.B200: must be > 0"},
		{func(m *CostModel) { m.CostOfCapital = -0.1 }, "cost.cost_of_capital: must be ≥ 0"},
		{func(m *CostModel) { m.SalesGAFraction = 1.5 }, "cost.sales_ga_fraction: must be ≤ 1"},
		{func(m *CostModel) { m.IdleCost = "split" }, "cost.idle_cost: must be"},
	} {
		m := DefaultCostModel()
		tc.edit(&m)
		err := m.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want %q…", err, tc.want)
		}
	}
}

// A scenario decodes its cost block over the defaults: fields it leaves
// out keep their defaults, capex overrides merge into the catalog's.
func TestDecodeOverDefaults(t *testing.T) {
	m := DefaultCostModel()
	if err := yaml.Unmarshal([]byte("pue: 1.2\ncapex_usd: {B200: 65000}\n"), &m); err != nil {
		t.Fatal(err)
	}
	b200, _ := fleet.LookupType("B200")
	h100, _ := fleet.LookupType("H100")
	if m.PUE != 1.2 || m.LifeYears != 5.5 || m.Capex(b200) != 65000 || m.Capex(h100) != 50000 {
		t.Errorf("decoded %+v", m)
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(DefaultCostModel())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"life_years":5.5`, `"pue":1.08`, `"usd_per_kwh":0.0806`, `"delay_usd_per_gpu_hour":2.35`} {
		if !strings.Contains(string(out), k) {
			t.Errorf("JSON %s lacks %s", out, k)
		}
	}
}

func TestU128(t *testing.T) {
	a := mul64(math.MaxUint64, 3) // 3 × (2^64 − 1)
	a.add(u128{0, 3})             // = 3 × 2^64
	if a != (u128{3, 0}) {
		t.Fatalf("3·2^64 = %+v", a)
	}
	if got := (u128{1, 0}).float(); got != 0x1p64 {
		t.Errorf("float(2^64) = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("128-bit overflow did not panic")
		}
	}()
	b := u128{1 << 63, 0}
	b.add(u128{1 << 63, 0})
}
