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
	if _, err := os.Stat(filepath.Join(out, "comparison.arrow")); err != nil {
		t.Error(err)
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
