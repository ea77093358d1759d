package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseSeeds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []uint64
	}{
		{"1-5", []uint64{1, 2, 3, 4, 5}},
		{"1,2,3", []uint64{1, 2, 3}},
		{"7, 1-2", []uint64{7, 1, 2}},
		{"4", []uint64{4}},
	} {
		got, err := parseSeeds(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseSeeds(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "0", "0-3", "3-1", "a", "1-x", "1,1", "1-3,2"} {
		if got, err := parseSeeds(in); err == nil {
			t.Errorf("parseSeeds(%q) = %v, want an error", in, got)
		}
	}
}

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
