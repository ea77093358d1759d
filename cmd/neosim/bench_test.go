package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"neosim/internal/arrowtest"
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
	arrived, _ := arrowtest.Column(t, filepath.Join(out, "fragmentation.arrow"), "arrived_pct")
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

// TestBenchSuite runs `neosim bench suite small` with each scenario in a
// child process (this test binary, see TestMain) and checks the printed
// table and suite.arrow; no timing is asserted.
func TestBenchSuite(t *testing.T) {
	t.Setenv("NEOSIM_TEST_MAIN", "1")
	out := filepath.Join(t.TempDir(), "bench")
	code, stdout, stderr := neosim(t, "bench", "suite", "small", "--hold-steps", "20000", "--small-runs", "2", "--trace-jobs", "3000", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"speed-up", "small", "1000", "MiB", "suite.arrow", "runs/min", "small-1d-summary-j1",
		"trace replay (whole process)", "canonical-csv-fifo"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "MiB*") {
		t.Errorf("the peak RSS is not the child's own:\n%s", stdout)
	}
	if !strings.Contains(stderr, "suite: scenario small") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
	_, names := arrowtest.Column(t, filepath.Join(out, "suite.arrow"), "name")
	if len(names) < 6 || names[2] != "small" || names[3] != "canonical-csv-fifo" || names[4] != "small-1d-summary" || names[5] != "small-1d-summary-j1" {
		t.Errorf("suite.arrow names %v, want two hold rows, small, the trace replay (a whole process), the fixed cost of a small run (a whole process) and its sweeps", names)
	}
	_, rss := arrowtest.Column(t, filepath.Join(out, "suite.arrow"), "rss_scope")
	if rss[2] != "child" {
		t.Errorf("rss_scope %v", rss)
	}
	if code, _, stderr := neosim(t, "bench", "suite", "nope", "--out", out); code != 1 || !strings.Contains(stderr, "known: ") {
		t.Errorf("bench suite nope: exit %d, %q", code, stderr)
	}
}
