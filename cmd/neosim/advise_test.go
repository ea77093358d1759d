package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAdvise: neosim advise on a small scenario writes its files, prints
// the recommendation, and advice.json records the command that reproduces
// it.
func TestAdvise(t *testing.T) {
	dir := t.TempDir()
	sc := writeFile(t, dir, "small.yaml", `
name: small-advise
horizon: 3d
allocator: partition
pricer: flat
fleet: {groups: [{nodes: 20, gpus_per_node: 8, type: H100}]}
workloads:
  - {name: train, segment: internal, rate_per_hour: 20, gpus: "choice:1=0.5,8=0.5", duration_s: "exp:3600"}
external_demand:
  segments:
    - {segment: on-demand, rate_per_hour: 4}
`)
	out := filepath.Join(dir, "advice")
	args := []string{"advise", "--quiet", "--scenario", sc, "--shares", "0.6,1", "--multipliers", "1", "--first-stage", "2",
		"--budget-runs", "12", "--max-slowdown-increase", "50%", "-j", "2", "--keep-recommended", "--out", out}
	code, stdout, stderr := neosim(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "runs in") || !strings.Contains(stdout, "report.html") {
		t.Errorf("stdout: %q", stdout)
	}
	for _, f := range []string{"advice.json", "advice.arrow", "report.html", "net_value.png", "delay_caused.svg", "slowdown_increase.png", "recommended/jobs.arrow"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "advice.json"))
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		Command string
		Bounds  struct {
			MaxSlowdown *float64 `json:"max_slowdown_increase"`
		}
		Budget struct {
			Runs     *int `json:"runs"`
			RunsUsed int  `json:"runs_used"`
		}
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if want := "neosim " + strings.Join(args, " "); a.Command != want {
		t.Errorf("command %q, want %q", a.Command, want)
	}
	if a.Bounds.MaxSlowdown == nil || *a.Bounds.MaxSlowdown != 0.5 {
		t.Errorf("max_slowdown_increase %v, want 0.5", a.Bounds.MaxSlowdown)
	}
	if a.Budget.Runs == nil || *a.Budget.Runs != 12 || a.Budget.RunsUsed > 12 || a.Budget.RunsUsed < 4 {
		t.Errorf("budget %+v", a.Budget)
	}
}

func TestAdviseBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--shares", "1:0:0.1"}, "--shares"},
		{[]string{"--multipliers", "x"}, "--multipliers"},
		{[]string{"--max-slowdown-increase", "much"}, "--max-slowdown-increase"},
		{[]string{"--max-delay-gpu-hours-per-month", "-3"}, "--max-delay-gpu-hours-per-month"},
		{[]string{"--budget-time", "soon"}, "--budget-time"},
		{[]string{"--budget-runs", "3"}, "first stage alone needs"},
		{[]string{"--first-stage", "1"}, "at least 2"},
	} {
		code, _, stderr := neosim(t, append([]string{"advise", "--quiet", "--out", t.TempDir()}, tc.args...)...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
	code, _, stderr := neosim(t, "advise", "--help")
	if code != 0 || !strings.Contains(stderr, "Examples:") || !strings.Contains(stderr, "--seed-base") {
		t.Errorf("--help: exit %d: %s", code, stderr)
	}
}
