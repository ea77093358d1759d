package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPlotCommand: neosim plot on a run folder and on a comparison folder
// writes and lists the PNG and SVG files of each plot.
func TestPlotCommand(t *testing.T) {
	tmp := t.TempDir()
	run := filepath.Join(tmp, "run")
	if code, _, stderr := neosim(t, "run", "--quiet", "--horizon", "1d", "--fleet", "300x8xH100", "--out", run); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	cmp := filepath.Join(tmp, "cmp")
	if code, _, stderr := neosim(t, "compare", "--quiet", "--allocators", "fifo,priority", "--pricers", "flat",
		"--seeds", "1-2", "--horizon", "1d", "--out", cmp, "-j", "2"); code != 0 {
		t.Fatalf("compare: exit %d: %s", code, stderr)
	}
	for _, tc := range []struct {
		dir   string
		plots []string
	}{
		{run, []string{"utilization", "spot_price", "wait_cdf"}},
		{cmp, []string{"frontier", "breakdown"}},
	} {
		code, stdout, stderr := neosim(t, "plot", tc.dir)
		if code != 0 {
			t.Fatalf("plot %s: exit %d: %s", tc.dir, code, stderr)
		}
		var want []string
		for _, p := range tc.plots {
			want = append(want, filepath.Join(tc.dir, p+".png"), filepath.Join(tc.dir, p+".svg"))
		}
		if got := strings.Fields(stdout); !slices.Equal(got, want) {
			t.Errorf("plot %s printed %q, want %q", tc.dir, got, want)
		}
		for _, p := range want {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Error(err)
				continue
			}
			if strings.HasSuffix(p, ".png") {
				if _, err := png.Decode(bytes.NewReader(data)); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			} else if !strings.Contains(string(data), "<svg") {
				t.Errorf("%s: no <svg> element", p)
			}
		}
	}

	// Neither kind of folder, no folder, no argument, --help.
	if code, _, stderr := neosim(t, "plot", tmp); code != 1 || !strings.Contains(stderr, "holds neither comparison.arrow") {
		t.Errorf("plot of an empty folder: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := neosim(t, "plot", filepath.Join(tmp, "missing")); code != 1 || !strings.Contains(stderr, "missing") {
		t.Errorf("plot of a missing folder: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := neosim(t, "plot"); code != 2 || !strings.Contains(stderr, "want one folder") {
		t.Errorf("plot without a folder: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := neosim(t, "plot", "--help"); code != 0 || !strings.Contains(stderr, "Examples:") || !strings.Contains(stderr, "wait_cdf") {
		t.Errorf("plot --help: exit %d, stderr %q", code, stderr)
	}
}
