package econ

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
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

func measuredProfile() *CalibrationProfile {
	r2 := 0.998
	return &CalibrationProfile{
		Schema: CalibrationSchema, Measured: true, Source: "neosim calibrate on gpu-host-1", Date: "2026-10-01T12:00:00Z",
		Driver: "550.54.15", NVMLVersion: "12.550.54.15",
		Devices: []CalibrationDevice{{Index: 0, Name: "NVIDIA H100 80GB HBM3", Model: "H100-SXM", UUID: "GPU-1", Architecture: "Hopper",
			Compute: "9.0", MemoryBytes: 85520809984, PowerLimitW: 700, DefaultLimitW: 700, MinLimitW: 200, MaxLimitW: 700, MaxSMMHz: 1980, MaxMemMHz: 2619}},
		Models: []CalibrationModel{{
			PowerProfile: PowerProfile{Name: "H100-SXM", IdleW: 68.5, ContextIdleW: 121, FullW: 688, Exponent: 1.21,
				Caps: []CapPoint{{CapPct: 100, ThroughputRel: 1, EnergyRel: 1, PowerW: 650}, {CapPct: 80, ThroughputRel: 0.93, EnergyRel: 0.88, PowerW: 530}}},
			NVMLName: "NVIDIA H100 80GB HBM3", Devices: 1, Points: 25, RMSEW: 6.5, R2: &r2, Note: "25 points of 10s windows",
		}, {
			PowerProfile: PowerProfile{Name: "L4", IdleW: 16, FullW: 72, Exponent: 1},
			NVMLName:     "NVIDIA L4", Devices: 1, Points: 5, RMSEW: 1,
		}},
	}
}

func TestCalibrationRoundTrip(t *testing.T) {
	p := measuredProfile()
	path := filepath.Join(t.TempDir(), "sub", "profile.json")
	if err := p.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	q, err := ReadCalibration(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("round trip:\n got %+v\nwant %+v", q, p)
	}
	// One rule for a model outside the catalog (an L4): the file is valid
	// both ways (written above, read back), and the simulator takes the
	// catalog models only, naming the others.
	if got, skipped := q.PowerProfiles(); len(got) != 1 || got[0].Name != "H100-SXM" || !reflect.DeepEqual(skipped, []string{"L4"}) {
		t.Errorf("PowerProfiles() = %+v, skipped %v; want the H100 used, the L4 skipped", got, skipped)
	}
}

func TestCalibrationValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*CalibrationProfile)
		want string
	}{
		{func(p *CalibrationProfile) { p.Schema = "neosim.calibration/0" }, `schema "neosim.calibration/0"`},
		{func(p *CalibrationProfile) { p.Source = "" }, "source: empty"},
		{func(p *CalibrationProfile) { p.Date = "yesterday" }, `date: "yesterday" is neither`},
		{func(p *CalibrationProfile) { p.Devices = nil }, "a measured profile lists its devices"},
		{func(p *CalibrationProfile) { p.Models = nil }, "models: empty"},
		{func(p *CalibrationProfile) { p.Models[0].IdleW = -1 }, "models[0] (H100-SXM): idle_w: must be > 0"},
		{func(p *CalibrationProfile) { p.Models[0].Exponent = 50 }, "models[0] (H100-SXM): exponent: must be ≤ 20"},
		{func(p *CalibrationProfile) { p.Models[1].Name = "H100-SXM" }, "models[1]: H100-SXM appears twice"},
		{func(p *CalibrationProfile) { p.Models[1].Name = "H100" }, "models[1] (H100): H100-SXM and H100 name the same type"},
		{func(p *CalibrationProfile) { p.Models[0].RMSEW = math.NaN() }, "rmse_w: must be ≥ 0"},
		{func(p *CalibrationProfile) { r := 1.5; p.Models[0].R2 = &r }, "r2: must be ≤ 1"},
		{func(p *CalibrationProfile) { p.Models[0].Caps[1].EnergyRel = 0 }, "caps[1].energy_rel: must be > 0"},
	} {
		p := measuredProfile()
		tc.edit(p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want …%q…", err, tc.want)
		}
		if err := p.Encode(&bytes.Buffer{}); err == nil {
			t.Errorf("Encode wrote an invalid profile (%s)", tc.want)
		}
	}
}

func TestDecodeCalibrationErrors(t *testing.T) {
	var b bytes.Buffer
	if err := measuredProfile().Encode(&b); err != nil {
		t.Fatal(err)
	}
	typo := strings.Replace(b.String(), `"idle_w"`, `"idle_watts"`, 1)
	if _, err := DecodeCalibration(strings.NewReader(typo)); err == nil || !strings.Contains(err.Error(), `unknown field "idle_watts"`) {
		t.Errorf("typo: %v", err)
	}
	if _, err := DecodeCalibration(strings.NewReader(`{"schema": 1}`)); err == nil {
		t.Error("wrong type accepted")
	}
	if _, err := ReadCalibration(filepath.Join(t.TempDir(), "none.json")); err == nil || !os.IsNotExist(errorsUnwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func errorsUnwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func TestDecodeCalibrationMeasured(t *testing.T) {
	const noMeasured = `{"schema": "neosim.calibration/1", "source": "x", "date": "2026-01-01",
		"models": [{"name": "H100", "idle_w": 1, "full_w": 2, "exponent": 1}]}`
	if _, err := DecodeCalibration(strings.NewReader(noMeasured)); err == nil || !strings.Contains(err.Error(), `no "measured" field`) {
		t.Errorf("no measured field: %v", err)
	}
	if _, err := DecodeCalibration(strings.NewReader(strings.Replace(noMeasured, "{", `{"measured": false, `, 1))); err != nil {
		t.Errorf("with measured: %v", err)
	}
}
