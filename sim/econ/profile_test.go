package econ

import (
	"math"
	"strings"
	"testing"

	"neosim/sim/fleet"
)

func TestCatalogPowerProfileIsLinear(t *testing.T) {
	for ty, g := range fleet.Catalog {
		p := CatalogPowerProfile(ty)
		if err := p.Validate(); err != nil {
			t.Fatalf("%s: %v", g.Name, err)
		}
		for _, u := range []float64{0, 0.23, 0.8, 1} {
			// Bit for bit the formula of CostModel.rates today.
			if got, want := p.BusyW(u), g.IdleW+(g.TDPW-g.IdleW)*u; got != want {
				t.Errorf("%s BusyW(%v) = %v, want %v", g.Name, u, got, want)
			}
		}
	}
}

func TestBusyW(t *testing.T) {
	p := PowerProfile{Name: "H100", IdleW: 70, ContextIdleW: 130, FullW: 700, Exponent: 2}
	for _, tc := range []struct{ u, want float64 }{
		{0, 130}, {0.5, 130 + 570*0.25}, {1, 700}, {-1, 130}, {2, 700},
	} {
		if got := p.BusyW(tc.u); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("BusyW(%v) = %v, want %v", tc.u, got, tc.want)
		}
	}
}

func TestAtCap(t *testing.T) {
	p := PowerProfile{Caps: []CapPoint{{CapPct: 50, ThroughputRel: 0.85, EnergyRel: 0.80}, {CapPct: 70, ThroughputRel: 0.94, EnergyRel: 0.85}}}
	for _, tc := range []struct{ pct, thr, en float64 }{
		{100, 1, 1}, {120, 1, 1}, {70, 0.94, 0.85}, {60, 0.895, 0.825}, {85, 0.97, 0.925}, {50, 0.85, 0.80}, {10, 0.85, 0.80},
	} {
		thr, en := p.AtCap(tc.pct)
		if math.Abs(thr-tc.thr) > 1e-12 || math.Abs(en-tc.en) > 1e-12 {
			t.Errorf("AtCap(%v) = %v, %v; want %v, %v", tc.pct, thr, en, tc.thr, tc.en)
		}
	}
	var none PowerProfile
	if thr, en := none.AtCap(50); thr != 1 || en != 1 {
		t.Errorf("no caps: AtCap = %v, %v; want 1, 1", thr, en)
	}
}

func TestPowerProfilesValidate(t *testing.T) {
	ok := PowerProfile{Name: "H100", IdleW: 69, FullW: 700, Exponent: 1}
	for _, tc := range []struct {
		edit func(*PowerProfiles)
		want string
	}{
		{func(ps *PowerProfiles) { (*ps)[0].IdleW = 0 }, "power[0] (H100): idle_w: must be > 0"},
		{func(ps *PowerProfiles) { (*ps)[0].FullW = 60 }, "power[0] (H100): full_w: must be ≥ 69"},
		{func(ps *PowerProfiles) { (*ps)[0].ContextIdleW = 50 }, "power[0] (H100): context_idle_w: must be ≥ 69"},
		{func(ps *PowerProfiles) { (*ps)[0].Exponent = 0 }, "power[0] (H100): exponent: must be ≥ 0.05"},
		{func(ps *PowerProfiles) { (*ps)[0].Exponent = math.NaN() }, "power[0] (H100): exponent: must be a finite number"},
		{func(ps *PowerProfiles) { (*ps)[0].Name = "V100" }, "power[0] (V100): not a catalog type"},
		{func(ps *PowerProfiles) { (*ps)[0].Name = "" }, "power[0] (): name: empty"},
		{func(ps *PowerProfiles) { *ps = append(*ps, ok); (*ps)[1].Name = "H100-SXM" }, "power[1] (H100-SXM): H100 and H100-SXM name the same type"},
		{func(ps *PowerProfiles) { (*ps)[0].Caps = []CapPoint{{CapPct: 0, ThroughputRel: 1, EnergyRel: 1}} }, "power[0] (H100): caps[0].cap_pct: must be > 0"},
		{func(ps *PowerProfiles) {
			(*ps)[0].Caps = []CapPoint{{CapPct: 70, ThroughputRel: 1, EnergyRel: 1}, {CapPct: 70, ThroughputRel: 1, EnergyRel: 1}}
		}, "power[0] (H100): caps[1].cap_pct: 70 appears twice"},
		{func(ps *PowerProfiles) { (*ps)[0].Caps = []CapPoint{{CapPct: 70, ThroughputRel: 0, EnergyRel: 1}} }, "power[0] (H100): caps[0].throughput_rel: must be > 0"},
	} {
		ps := PowerProfiles{ok}
		tc.edit(&ps)
		err := ps.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want %q…", err, tc.want)
		}
	}
	if err := (PowerProfiles{ok}).Validate(); err != nil {
		t.Errorf("valid profiles: %v", err)
	}
}

func TestPowerProfilesFor(t *testing.T) {
	h100, _ := fleet.LookupType("H100")
	b200, _ := fleet.LookupType("B200")
	ps := PowerProfiles{{Name: "h100", IdleW: 66, FullW: 650, Exponent: 1.3}}
	if got := ps.For(h100); got.IdleW != 66 || got.Exponent != 1.3 {
		t.Errorf("For(H100) = %+v, want the listed profile", got)
	}
	if got, want := ps.For(b200), CatalogPowerProfile(int(b200)); got.IdleW != want.IdleW || got.FullW != want.FullW || got.Exponent != 1 {
		t.Errorf("For(B200) = %+v, want the catalog's %+v", got, want)
	}
}

func TestReadPowerProfiles(t *testing.T) {
	const good = `{"schema": "neosim.calibration/1", "measured": true, "source": "x", "devices": [{"index": 0}],
		"models": [{"name": "H100-SXM", "idle_w": 68, "context_idle_w": 125, "full_w": 690, "exponent": 1.2, "rmse_w": 4,
		"caps": [{"cap_pct": 80, "throughput_rel": 0.95, "energy_rel": 0.9}]}]}`
	ps, measured, err := ReadPowerProfiles(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if !measured || len(ps) != 1 || ps[0].ContextIdleW != 125 || len(ps[0].Caps) != 1 {
		t.Errorf("got %+v measured=%v", ps, measured)
	}
	for _, tc := range []struct{ in, want string }{
		{`{"schema": "neosim.calibration/2", "measured": true, "models": []}`, `schema "neosim.calibration/2"`},
		{`{"schema": "neosim.calibration/1", "models": [{"name": "H100", "idle_w": 1, "full_w": 2, "exponent": 1}]}`, `no "measured" field`},
		{`{"schema": "neosim.calibration/1", "measured": false, "models": []}`, "no models"},
		{`{"schema": "neosim.calibration/1", "measured": false, "models": [{"name": "H100", "idle_w": 1, "full_w": 2}]}`, "exponent: must be ≥ 0.05"},
		{`{"schema": `, "unexpected EOF"},
	} {
		_, _, err := ReadPowerProfiles(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadPowerProfiles(%s) = %v, want …%q…", tc.in, err, tc.want)
		}
	}
}
