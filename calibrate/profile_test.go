package calibrate

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"neosim/sim/econ"
	"neosim/sim/fleet"
)

func TestBuiltin(t *testing.T) {
	p := Builtin()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.Measured || !strings.Contains(p.Note, "NOT MEASUREMENTS") {
		t.Errorf("built-in profile must say it is not measured: measured=%v note=%q", p.Measured, p.Note)
	}
	if len(p.Models) != len(fleet.Catalog) {
		t.Fatalf("%d models, want one per catalog type (%d)", len(p.Models), len(fleet.Catalog))
	}
	for i, m := range p.Models {
		// The built-in curves are the catalog's: referencing them changes
		// no cost.
		want := econ.CatalogPowerProfile(i)
		got := m.PowerProfile
		got.Caps = nil
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want the catalog's %+v", m.Name, got, want)
		}
		// The catalog's idle lies in the published range (SOURCES.md §4).
		if r := m.IdleRangeW; r != nil && (m.IdleW < r[0] || m.IdleW > r[1]) {
			t.Errorf("%s: idle %v W outside the published %v", m.Name, m.IdleW, r)
		}
		if thr, en := m.AtCap(70); thr != 0.94 || en != 0.85 {
			t.Errorf("%s: at a 70%% cap %v, %v; want the Zeus V100 medians 0.94, 0.85", m.Name, thr, en)
		}
	}
	var b bytes.Buffer
	if err := p.Encode(&b); err != nil {
		t.Fatal(err)
	}
	ps, measured, err := econ.ReadPowerProfiles(&b)
	if err != nil || measured || len(ps) != len(fleet.Catalog) {
		t.Errorf("econ reads the built-in profile: %d models, measured=%v, err %v", len(ps), measured, err)
	}
}

func measuredProfile() *Profile {
	r2 := 0.998
	return &Profile{
		Schema: econ.CalibrationSchema, Measured: true, Source: "neosim calibrate on gpu-host-1", Date: "2026-10-01T12:00:00Z",
		Driver: "550.54.15", NVMLVersion: "12.550.54.15",
		Devices: []DeviceInfo{{Index: 0, Name: "NVIDIA H100 80GB HBM3", Model: "H100-SXM", UUID: "GPU-1", Architecture: "Hopper",
			Compute: "9.0", MemoryBytes: 85520809984, PowerLimitW: 700, DefaultLimitW: 700, MinLimitW: 200, MaxLimitW: 700, MaxSMMHz: 1980, MaxMemMHz: 2619}},
		Models: []ModelProfile{{
			PowerProfile: econ.PowerProfile{Name: "H100-SXM", IdleW: 68.5, ContextIdleW: 121, FullW: 688, Exponent: 1.21,
				Caps: []econ.CapPoint{{CapPct: 100, ThroughputRel: 1, EnergyRel: 1, PowerW: 650}, {CapPct: 80, ThroughputRel: 0.93, EnergyRel: 0.88, PowerW: 530}}},
			NVMLName: "NVIDIA H100 80GB HBM3", Devices: 1, Points: 25, RMSEW: 6.5, R2: &r2, Note: "25 points of 10s windows",
		}, {
			PowerProfile: econ.PowerProfile{Name: "L4", IdleW: 16, FullW: 72, Exponent: 1},
			NVMLName:     "NVIDIA L4", Devices: 1, Points: 5, RMSEW: 1,
		}},
	}
}

func TestProfileRoundTrip(t *testing.T) {
	p := measuredProfile()
	path := filepath.Join(t.TempDir(), "sub", "profile.json")
	if err := p.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	q, err := ReadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("round trip:\n got %+v\nwant %+v", q, p)
	}
	// The simulator's reader takes the catalog models; an L4 is not one.
	if got := p.PowerProfiles(); len(got) != 1 || got[0].Name != "H100-SXM" {
		t.Errorf("PowerProfiles() = %+v, want the H100 only", got)
	}
	if _, _, err := econ.LoadPowerProfiles(path); err == nil || !strings.Contains(err.Error(), "L4): not a catalog type") {
		t.Errorf("econ.LoadPowerProfiles = %v, want the L4 refused", err)
	}
}

func TestProfileValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Profile)
		want string
	}{
		{func(p *Profile) { p.Schema = "neosim.calibration/0" }, `schema "neosim.calibration/0"`},
		{func(p *Profile) { p.Source = "" }, "source: empty"},
		{func(p *Profile) { p.Date = "yesterday" }, `date: "yesterday" is neither`},
		{func(p *Profile) { p.Devices = nil }, "a measured profile lists its devices"},
		{func(p *Profile) { p.Models = nil }, "models: empty"},
		{func(p *Profile) { p.Models[0].IdleW = -1 }, "models[0] (H100-SXM): idle_w: must be > 0"},
		{func(p *Profile) { p.Models[0].Exponent = 50 }, "models[0] (H100-SXM): exponent: must be ≤ 20"},
		{func(p *Profile) { p.Models[1].Name = "H100-SXM" }, "models[1]: H100-SXM appears twice"},
		{func(p *Profile) { p.Models[0].RMSEW = math.NaN() }, "rmse_w: must be ≥ 0"},
		{func(p *Profile) { r := 1.5; p.Models[0].R2 = &r }, "r2: must be ≤ 1"},
		{func(p *Profile) { p.Models[0].Caps[1].EnergyRel = 0 }, "caps[1].energy_rel: must be > 0"},
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

func TestDecodeProfileErrors(t *testing.T) {
	var b bytes.Buffer
	if err := measuredProfile().Encode(&b); err != nil {
		t.Fatal(err)
	}
	typo := strings.Replace(b.String(), `"idle_w"`, `"idle_watts"`, 1)
	if _, err := DecodeProfile(strings.NewReader(typo)); err == nil || !strings.Contains(err.Error(), `unknown field "idle_watts"`) {
		t.Errorf("typo: %v", err)
	}
	if _, err := DecodeProfile(strings.NewReader(`{"schema": 1}`)); err == nil {
		t.Error("wrong type accepted")
	}
	if _, err := ReadProfile(filepath.Join(t.TempDir(), "none.json")); err == nil || !os.IsNotExist(errorsUnwrapAll(err)) {
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

func TestSamplesRoundTrip(t *testing.T) {
	info := synthInfo(2)
	info.Host, info.LoadCmd = "gpu-host-1", "./burn.sh"
	var in []Sample
	e := 5000.0
	in = synth(in, 0, ModeSample, nan, 0, time.Second, 100*time.Millisecond, &e, func(time.Duration) float64 { return 0 }, func(time.Duration) float64 { return 69 }, nan)
	in = synth(in, 1, ModeLoad, 50, time.Second, time.Second, 100*time.Millisecond, &e, func(time.Duration) float64 { return 50 }, func(time.Duration) float64 { return 385.5 }, 12.5)
	in[3].TempC, in[4].PowerW, in[5].EnergyJ = nan, nan, nan
	// More than a batch, so that several record batches are read back.
	for len(in) < sampleBatch+10 {
		s := in[len(in)-1]
		s.T += 100 * time.Millisecond
		in = append(in, s)
	}
	path := filepath.Join(t.TempDir(), "samples.arrow")
	w, err := NewSampleWriter(path, info)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if err := w.Write(&in[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
	gotInfo, out, err := ReadSamples(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotInfo, info) {
		t.Errorf("run info:\n got %+v\nwant %+v", gotInfo, info)
	}
	if len(out) != len(in) {
		t.Fatalf("%d samples, want %d", len(out), len(in))
	}
	for i := range in {
		if !sameSample(in[i], out[i]) {
			t.Fatalf("sample %d:\n got %+v\nwant %+v", i, out[i], in[i])
		}
	}
}

// sameSample compares samples with NaN equal to NaN.
func sameSample(a, b Sample) bool {
	eq := func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }
	return a.T == b.T && a.Device == b.Device && a.UUID == b.UUID && a.Mode == b.Mode &&
		eq(a.Level, b.Level) && eq(a.PowerW, b.PowerW) && eq(a.EnergyJ, b.EnergyJ) && eq(a.UtilGPU, b.UtilGPU) &&
		eq(a.UtilMem, b.UtilMem) && eq(a.SMMHz, b.SMMHz) && eq(a.MemMHz, b.MemMHz) && eq(a.TempC, b.TempC) && eq(a.Throughput, b.Throughput)
}

func TestReadSamplesErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.arrow")
	os.WriteFile(junk, []byte("not arrow"), 0o644)
	if _, _, err := ReadSamples(junk); err == nil || !strings.Contains(err.Error(), "not an Arrow IPC file") {
		t.Errorf("junk: %v", err)
	}
	if _, _, err := ReadSamples(filepath.Join(dir, "none.arrow")); err == nil {
		t.Error("missing file: no error")
	}
}
