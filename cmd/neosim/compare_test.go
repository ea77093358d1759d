package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompareCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "cmp")
	var stdout, stderr bytes.Buffer
	code := Main([]string{"compare", "--allocators", "fifo,priority", "--pricers", "flat", "--seeds", "1-2",
		"--horizon", "1d", "--out", out, "-j", "2", "--baseline", "priority/flat"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "baseline priority/flat") || !strings.Contains(stdout.String(), "op margin") {
		t.Errorf("no ranked table:\n%s", stdout.String())
	}
	if n := strings.Count(stderr.String(), "elapsed)"); n != 4 {
		t.Errorf("%d progress lines, want 4:\n%s", n, stderr.String())
	}
	// The plots are drawn by default.
	for _, f := range []string{"comparison.arrow", "frontier.png", "frontier.svg", "breakdown.png", "breakdown.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "allocator=fifo", "pricer=flat", "seed=2", "jobs.arrow")); err != nil {
		t.Error(err)
	}

	stdout.Reset()
	stderr.Reset()
	code = Main([]string{"compare", "--allocators", "fifo,bogus", "--out", out}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "known:") {
		t.Errorf("unknown allocator: exit %d, stderr %q", code, stderr.String())
	}
}

// TestRunPlots: neosim run --plots draws the run's plots next to its
// files, and says where; without the flag it draws none.
func TestRunPlots(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"run", "--horizon", "6h", "--plots", "--out", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"utilization.png", "utilization.svg", "spot_price.svg", "wait_cdf.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout.String(), "plots in ") {
		t.Errorf("no plots line:\n%s", stdout.String())
	}
	plain := t.TempDir()
	if code := Main([]string{"run", "--quiet", "--horizon", "6h", "--out", plain}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(plain, "utilization.png")); err == nil {
		t.Error("plots drawn without --plots")
	}
}
