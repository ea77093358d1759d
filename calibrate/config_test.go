package calibrate

import (
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) {}, "nothing to measure"},
		{func(c *Config) { c.Duties = []float64{50} }, "give --load-cmd"},
		{func(c *Config) { c.Caps = []float64{90} }, "give --load-cmd"},
		{func(c *Config) { c.LoadCmd = "x"; c.Duties = []float64{50, 120} }, "--duty: 120 is outside 0–100"},
		{func(c *Config) { c.LoadCmd = "x"; c.Duties = []float64{50, 50} }, "--duty: 50 given twice"},
		{func(c *Config) { c.LoadCmd = "x"; c.Caps = []float64{5} }, "--power-caps: 5 is outside 10–100"},
		{func(c *Config) { c.Passive = time.Second; c.Interval = time.Millisecond }, "--interval: must be ≥ 10ms"},
		{func(c *Config) { c.Passive = 50 * time.Millisecond }, "--sample: 50ms is shorter than one --interval"},
		{func(c *Config) { c.Passive = time.Second; c.Period = -1 }, "--period: must be > 0"},
		{func(c *Config) { c.Passive = time.Second; c.LevelTime = time.Millisecond }, "--level-time: 1ms is shorter"},
		{func(c *Config) { c.Passive = time.Second; c.Devices = []int{0, 0} }, "--devices: index 0 given twice"},
		{func(c *Config) { c.Passive = time.Second; c.Devices = []int{-1} }, "--devices: index -1 < 0"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate() = %v, want …%q…", err, tc.want)
		}
	}
	c := Config{LoadCmd: "burn", Passive: time.Minute}
	c.EnsureDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Duties, []float64{0, 25, 50, 75, 100}) || c.Interval != 100*time.Millisecond {
		t.Errorf("defaults: %+v", c)
	}
}

func TestPlan(t *testing.T) {
	c := Config{Passive: time.Minute, LoadCmd: "x", Duties: []float64{0, 50}, Caps: []float64{100, 70}, LevelTime: 5 * time.Second}
	var got []string
	for _, s := range c.plan() {
		got = append(got, s.String()+" "+s.dur.String())
	}
	want := []string{"passive sampling 1m0s", "load duty 0% 5s", "load duty 50% 5s", "power cap 100% 5s", "power cap 70% 5s"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan %q, want %q", got, want)
	}
	desc, total := describePlan(&c)
	if desc != "passive 1m0s, then duty 0,50% × 5s, then power caps 100,70% × 5s" || total != 80*time.Second {
		t.Errorf("describePlan = %q, %v", desc, total)
	}
}

func TestDutyPhase(t *testing.T) {
	p := 10 * time.Second
	for _, tc := range []struct {
		duty float64
		el   time.Duration
		on   bool
		next time.Duration
	}{
		{0, 3 * time.Second, false, -1},
		{100, 3 * time.Second, true, -1},
		{25, 0, true, 2500 * time.Millisecond},
		{25, 2500 * time.Millisecond, false, 10 * time.Second},
		{25, 12 * time.Second, true, 12500 * time.Millisecond},
		{50, 19999 * time.Millisecond, false, 20 * time.Second},
	} {
		on, next := dutyPhase(tc.duty, p, tc.el)
		if on != tc.on || next != tc.next {
			t.Errorf("dutyPhase(%v, %v) = %v, %v; want %v, %v", tc.duty, tc.el, on, next, tc.on, tc.next)
		}
	}
}

func TestParseLevels(t *testing.T) {
	got, err := ParseLevels("100, 90%,80,,70")
	if err != nil || !reflect.DeepEqual(got, []float64{100, 90, 80, 70}) {
		t.Errorf("ParseLevels = %v, %v", got, err)
	}
	for _, in := range []string{"", ",", "90,x"} {
		if _, err := ParseLevels(in); err == nil {
			t.Errorf("ParseLevels(%q): no error", in)
		}
	}
	ds, err := ParseDevices("0, 3")
	if err != nil || !reflect.DeepEqual(ds, []int{0, 3}) {
		t.Errorf("ParseDevices = %v, %v", ds, err)
	}
	if _, err := ParseDevices("1.5"); err == nil {
		t.Error("ParseDevices(1.5): no error")
	}
}

func TestParseThroughput(t *testing.T) {
	for _, tc := range []struct {
		line string
		v    float64
		ok   bool
	}{
		{"throughput=123.5", 123.5, true},
		{"step 10 loss=2.1 throughput=4.5e3 tokens/s", 4500, true},
		{"a,throughput=7;b", 7, true},
		{"throughput=1 throughput=2", 2, true},
		{"mythroughput=5", 0, false},
		{"throughput=fast", 0, false},
		{"throughput=NaN", 0, false},
		{"no numbers here", 0, false},
	} {
		v, ok := ParseThroughput(tc.line)
		if ok != tc.ok || (ok && math.Abs(v-tc.v) > 1e-12) {
			t.Errorf("ParseThroughput(%q) = %v, %v; want %v, %v", tc.line, v, ok, tc.v, tc.ok)
		}
	}
}

func TestDriverError(t *testing.T) {
	e := &DriverError{Code: 12, Text: "ERROR_LIBRARY_NOT_FOUND"}
	want := "no NVIDIA driver found (NVML: ERROR_LIBRARY_NOT_FOUND): run neosim calibrate on a machine with NVIDIA GPUs; the built-in profiles (neosim calibrate --builtin) are not measurements"
	if e.Error() != want {
		t.Errorf("Error() = %q\nwant %q", e.Error(), want)
	}
	if !errors.Is(e, ErrNoDriver) || !errors.Is(ErrNoNVML, ErrNoDriver) {
		t.Error("errors.Is(…, ErrNoDriver) is false")
	}
	if s := (&DriverError{Code: 4, Text: "ERROR_NO_PERMISSION"}).Error(); !strings.Contains(s, "permissions of /dev/nvidia*") {
		t.Errorf("no permission: %q", s)
	}
}

func TestSetLevelsAndOutDir(t *testing.T) {
	var c Config
	if err := c.SetLevels("0,50,100", "90,70", "0,2"); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Duties, []float64{0, 50, 100}) || !reflect.DeepEqual(c.Caps, []float64{90, 70}) || !reflect.DeepEqual(c.Devices, []int{0, 2}) {
		t.Errorf("SetLevels: duties %v, caps %v, devices %v", c.Duties, c.Caps, c.Devices)
	}
	for _, tc := range []struct{ duty, caps, devices, want string }{
		{"x", "", "", "--duty: "}, {"", "x", "", "--power-caps: "}, {"", "", "x", "--devices: "},
	} {
		if err := c.SetLevels(tc.duty, tc.caps, tc.devices); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("SetLevels(%q, %q, %q) = %v, want %q…", tc.duty, tc.caps, tc.devices, err, tc.want)
		}
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	if got, want := DefaultOutDir("", start), filepath.Join("results", "calibration", "unknown-host-20260102T020405Z"); got != want {
		t.Errorf("DefaultOutDir = %q, want %q", got, want)
	}
}

func TestPrintProfile(t *testing.T) {
	var b strings.Builder
	PrintProfile(&b, Builtin())
	out := b.String()
	for _, want := range []string{"profile (NOT measured", "H100-SXM", "70% → 0.94 / 0.85", "note: "} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
