package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"neosim/calibrate"
	"neosim/sim/econ"
	"neosim/sim/fleet"
)

// On a machine without the NVIDIA driver (CI, this one) the command exits
// 1 with the clear message, measures and writes nothing, and does not
// crash (go-nvml kills the process on any call after a failed Init).
func TestCalibrateNoDriver(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := neosim(t, "calibrate", "--sample", "1s", "--out-dir", dir, "--quiet")
	if code == 0 {
		t.Skip("an NVIDIA driver is present: the no-driver path is not testable here")
	}
	if code != 1 || stdout != "" {
		t.Errorf("exit %d, stdout %q; want 1 and nothing", code, stdout)
	}
	if !strings.Contains(stderr, "neosim calibrate: no NVIDIA driver found (NVML: ") && !strings.Contains(stderr, "neosim calibrate: NVML support not compiled in") {
		t.Errorf("stderr %q: want the no-driver message", stderr)
	}
	if !strings.Contains(stderr, "the built-in profiles (neosim calibrate --builtin) are not measurements") {
		t.Errorf("stderr %q: want the built-in hint", stderr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s was created without a driver: %v", dir, err)
	}
}

func TestCalibrateBuiltin(t *testing.T) {
	code, stdout, stderr := neosim(t, "calibrate", "--builtin")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p, err := econ.DecodeCalibration(strings.NewReader(stdout))
	if err != nil || p.Measured || len(p.Models) != len(fleet.Catalog) {
		t.Fatalf("built-in JSON: %v, %v", p, err)
	}
	path := filepath.Join(t.TempDir(), "builtin.json")
	if code, _, stderr := neosim(t, "calibrate", "--builtin", "-o", path); code != 0 {
		t.Fatalf("-o: exit %d: %s", code, stderr)
	}
	if p, err := econ.ReadCalibration(path); err != nil || p.Measured {
		t.Errorf("written built-in profile: %v", err)
	}
	if code, _, stderr := neosim(t, "calibrate", "--builtin", "--sample", "1s"); code != 1 || !strings.Contains(stderr, "--builtin takes only -o, not --sample") {
		t.Errorf("--builtin --sample: exit %d, %q", code, stderr)
	}
}

// --fit refits a saved samples file.
func TestCalibrateFit(t *testing.T) {
	dir := t.TempDir()
	samples := filepath.Join(dir, "samples.arrow")
	info := calibrate.RunInfo{Host: "gpu-host-1", Start: "2026-10-01T12:00:00Z", Driver: "550.54.15", Interval: "1s", Period: "10s", LevelTime: "10s",
		Devices: []calibrate.DeviceInfo{{Index: 0, Name: "NVIDIA H200 141GB HBM3e", Model: "H200", UUID: "GPU-1"}}}
	w, err := calibrate.NewSampleWriter(samples, info)
	if err != nil {
		t.Fatal(err)
	}
	e := 0.0
	for i := 0; i <= 60; i++ {
		u := float64(min(i/10, 5)) / 5 // 0, 20, …, 100% for 10 s each
		p := 75 + 625*math.Pow(u, 1.3)
		s := calibrate.Sample{T: time.Duration(i) * time.Second, Device: 0, UUID: "GPU-1", Mode: calibrate.ModeSample, Level: math.NaN(),
			PowerW: p, EnergyJ: e, UtilGPU: 100 * u, UtilMem: math.NaN(), SMMHz: 1980, MemMHz: 3201, TempC: 40, Throughput: math.NaN()}
		e += p
		if err := w.Write(&s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "profile.json")
	code, stdout, stderr := neosim(t, "calibrate", "--fit", samples, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "profile (measured, 2026-10-01T12:00:00Z): neosim calibrate on gpu-host-1, refitted from samples.arrow") || !strings.Contains(stdout, "H200") {
		t.Errorf("summary:\n%s", stdout)
	}
	prof, err := econ.ReadCalibration(out)
	if err != nil || !prof.Measured || len(prof.Models) != 1 {
		t.Fatalf("profile: %v, %v", prof, err)
	}
	ps, _ := prof.PowerProfiles()
	if p := ps[0]; p.Name != "H200" || math.Abs(p.IdleW-75) > 0.5 || math.Abs(p.FullW-700) > 1 || math.Abs(p.Exponent-1.3) > 0.01 {
		t.Errorf("fit %+v, want H200 idle 75, full 700, exponent 1.3", p)
	}
	// Without -o the JSON goes to stdout and the table to stderr.
	code, stdout, stderr = neosim(t, "calibrate", "--fit", samples)
	if _, err := econ.DecodeCalibration(strings.NewReader(stdout)); code != 0 || err != nil || !strings.Contains(stderr, "H200") {
		t.Errorf("--fit to stdout: exit %d, %v, stderr %q", code, err, stderr)
	}
	if code, _, stderr := neosim(t, "calibrate", "--fit", samples, "--power-caps", "90"); code != 1 || !strings.Contains(stderr, "--power-caps does not apply") {
		t.Errorf("--fit --power-caps: exit %d, %q", code, stderr)
	}
	if code, _, stderr := neosim(t, "calibrate", "--fit", filepath.Join(dir, "none.arrow")); code != 1 || !strings.HasPrefix(stderr, "neosim calibrate: open ") || !strings.Contains(stderr, "no such file") {
		t.Errorf("--fit missing: exit %d, %q", code, stderr)
	}
}

func TestCalibrateUsage(t *testing.T) {
	code, _, stderr := neosim(t, "calibrate", "--help")
	if code != 0 || !strings.Contains(stderr, "throughput=<float>") || !strings.Contains(stderr, "--power-caps") {
		t.Errorf("--help: exit %d\n%s", code, stderr)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"calibrate"}, 1, "nothing to measure"},
		{[]string{"calibrate", "--power-caps", "100,90"}, 1, "give --load-cmd"},
		{[]string{"calibrate", "--load-cmd", "x", "--duty", "0,abc"}, 1, `--duty: "abc" is not a number`},
		{[]string{"calibrate", "--load-cmd", "x", "--duty", "150"}, 1, "--duty: 150 is outside 0–100"},
		{[]string{"calibrate", "--sample", "1s", "--devices", "a"}, 1, `--devices: "a" is not a device index`},
		{[]string{"calibrate", "--bogus"}, 2, "unknown flag: --bogus"},
		{[]string{"calibrate", "extra"}, 2, `unexpected argument "extra"`},
	} {
		code, _, stderr := neosim(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d, …%q…", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
