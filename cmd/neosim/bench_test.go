package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchFragmentation runs `neosim bench fragmentation` on a small
// generated pod and node list (not openb data) and checks its output and
// its errors.
func TestBenchFragmentation(t *testing.T) {
	dir := t.TempDir()
	var nodes, pods strings.Builder
	nodes.WriteString("sn,cpu_milli,memory_mib,gpu,model\n")
	for i := range 12 {
		fmt.Fprintf(&nodes, "n%02d,64000,262144,%d,G2\n", i, []int{8, 2, 4}[i%3])
	}
	pods.WriteString("name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n")
	for i := range 60 {
		gpus, milli := []int{0, 1, 1, 1, 2, 8}[i%6], []int{0, 500, 1000, 250, 1000, 1000}[i%6]
		fmt.Fprintf(&pods, "p%03d,%d,4096,%d,%d,\n", i, 1000*(1+i%8), gpus, milli)
	}
	podsFile, nodesFile := filepath.Join(dir, "pods.csv"), filepath.Join(dir, "nodes.csv")
	os.WriteFile(podsFile, []byte(pods.String()), 0o644)
	os.WriteFile(nodesFile, []byte(nodes.String()), 0o644)
	out := filepath.Join(dir, "out")

	code, stdout, stderr := neosim(t, "bench", "fragmentation", "--pods", podsFile, "--nodes", nodesFile, "--seeds", "2", "-j", "2", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, p := range []string{"random", "dotprod", "gpuclustering", "gpupacking", "bestfit", "fgd", "alloc@100%"} {
		if !strings.Contains(stdout, p) {
			t.Errorf("summary lacks %q:\n%s", p, stdout)
		}
	}
	if !strings.Contains(stderr, "12/12 runs") {
		t.Errorf("no progress lines on stderr:\n%s", stderr)
	}
	arrived, _ := column(t, filepath.Join(out, "fragmentation.arrow"), "arrived_pct")
	if len(arrived) != 6*2*131 {
		t.Errorf("%d rows, want %d", len(arrived), 6*2*131)
	}

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--policies", "fgd,worstfit"}, 1, "known: random, dotprod, gpuclustering, gpupacking, bestfit, fgd"},
		{[]string{"--pods", filepath.Join(dir, "missing.csv")}, 1, "missing.csv: no such file"},
		{[]string{"--seeds", "0"}, 1, "--seeds: must be ≥ 1"},
		{[]string{"stray"}, 2, "unexpected argument"},
	} {
		args := append([]string{"bench", "fragmentation", "--pods", podsFile, "--nodes", nodesFile, "--out", out, "--quiet"}, c.args...)
		code, _, stderr := neosim(t, args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if code, _, stderr := neosim(t, "bench", "nope"); code != 2 || !strings.Contains(stderr, "unknown experiment") {
		t.Errorf("bench nope: exit %d, %q", code, stderr)
	}
}
