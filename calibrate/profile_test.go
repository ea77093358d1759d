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
	q, err := econ.DecodeCalibration(&b)
	if err != nil || q.Measured {
		t.Fatalf("econ reads the built-in profile: %v", err)
	}
	if ps, skipped := q.PowerProfiles(); len(ps) != len(fleet.Catalog) || skipped != nil {
		t.Errorf("built-in profile: %d models usable, %v skipped; want %d and none", len(ps), skipped, len(fleet.Catalog))
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
