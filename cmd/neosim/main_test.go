package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"neosim/internal/arrowtest"
)

// neosim runs the command line in-process and returns its exit code and
// output.
func neosim(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return code, o.String(), e.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDeterminism: the same seed gives byte-identical jobs.arrow and
// summary.arrow; another seed differs.
func TestDeterminism(t *testing.T) {
	dir := t.TempDir()
	run := func(name, seed string) {
		if code, _, stderr := neosim(t, "run", "--quiet", "--horizon", "2d", "--seed", seed, "--out", filepath.Join(dir, name)); code != 0 {
			t.Fatalf("run %s: exit %d: %s", name, code, stderr)
		}
	}
	run("a", "3")
	run("b", "3")
	run("c", "4")
	for _, file := range []string{"jobs.arrow", "summary.arrow"} {
		a, _ := os.ReadFile(filepath.Join(dir, "a", file))
		b, _ := os.ReadFile(filepath.Join(dir, "b", file))
		c, _ := os.ReadFile(filepath.Join(dir, "c", file))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: same seed, different bytes", file)
		}
		if bytes.Equal(a, c) {
			t.Errorf("%s: different seeds, same bytes", file)
		}
	}
}

// TestBadInput: each bad input exits non-zero, names the file, line and
// field (or the flag), and leaves no output behind.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := "job_id,submit_s,gpus,duration_s\na,0,1,10\n"
	for _, tc := range []struct {
		name  string
		trace string // trace text; "" runs with good
		args  []string
		want  []string
	}{
		{"missing column", "job_id,submit_s,gpus\na,0,1\n", nil, []string{"missing.csv", "duration_s"}},
		{"non-numeric gpus", "job_id,submit_s,gpus,duration_s\na,0,1,10\nb,1,eight,10\n", nil, []string{"non-numeric.csv:3", "gpus", "eight"}},
		{"negative duration", "job_id,submit_s,gpus,duration_s\na,0,1,10\nb,1,1,-5\n", nil, []string{"negative.csv:3", "duration_s"}},
		{"duplicate job_id", "job_id,submit_s,gpus,duration_s\na,0,1,10\nb,1,1,10\na,2,1,10\n", nil, []string{"duplicate.csv:4", "job_id", "line 2"}},
		{"unsorted", "job_id,submit_s,gpus,duration_s\na,5,1,10\nb,1,1,10\n", nil, []string{"unsorted.csv:3", "submit_s", "sorted"}},
		{"impossible fleet", good, []string{"--fleet", "0x8xH100"}, []string{"--fleet", "nodes must be ≥ 1"}},
		{"unknown gpu type", good, []string{"--fleet", "4x8xV100"}, []string{"--fleet", "unknown GPU type \"V100\""}},
		{"malformed fleet", good, []string{"--fleet", "lots"}, []string{"--fleet", "NODESxGPUSxTYPE"}},
		{"unknown allocator", good, []string{"--allocator", "magic"}, []string{"--allocator", "unknown allocator \"magic\"", "fifo"}},
		{"unknown pricer", good, []string{"--pricer", "free"}, []string{"--pricer", "unknown pricer \"free\""}},
		{"bad horizon", good, []string{"--horizon", "soon"}, []string{"--horizon"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := strings.Fields(tc.name)[0] + ".csv"
			trace := writeFile(t, dir, file, tc.trace)
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(tc.name, " ", "-"))
			args := append([]string{"run", "--quiet", "--trace", trace, "--fleet", "4x8xH100", "--external=false", "--out", out}, tc.args...)
			code, _, stderr := neosim(t, args...)
			if code == 0 {
				t.Fatalf("exit 0, want non-zero")
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not mention %q", stderr, w)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				entries, _ := os.ReadDir(out)
				t.Errorf("output left behind: %v", entries)
			}
		})
	}
}

// TestRejectedJobs: a job no part of the fleet could hold is not an input
// error; it ends rejected with a reason, and the run reports the count.
func TestRejectedJobs(t *testing.T) {
	dir := t.TempDir()
	trace := writeFile(t, dir, "t.csv", "job_id,submit_s,gpus,duration_s,gpu_type\na,0,8,3600,\nhuge,10,64,3600,\nb200,20,1,60,B200\nc,30,16,600,\n")
	out := filepath.Join(dir, "out")
	code, _, stderr := neosim(t, "run", "--quiet", "--trace", trace, "--fleet", "2x8xH100", "--external=false", "--horizon", "0", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "2 job(s) rejected") {
		t.Errorf("stderr does not report the rejections: %q", stderr)
	}
	_, states := arrowtest.Column(t, filepath.Join(out, "jobs.arrow"), "state")
	_, ids := arrowtest.Column(t, filepath.Join(out, "jobs.arrow"), "job_id")
	_, reasons := arrowtest.Column(t, filepath.Join(out, "jobs.arrow"), "reason")
	got := map[string]string{}
	for i := range ids {
		got[ids[i]] = states[i] + ": " + reasons[i]
	}
	want := map[string]string{
		"a":    "completed: ",
		"c":    "completed: ",
		"huge": "rejected: needs 64 GPUs of one type; the largest type in the fleet has 16",
		"b200": "rejected: needs GPU type B200; the fleet has none",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("job %s: %q, want %q", id, got[id], w)
		}
	}
}

// TestOutputConservationAndLittle runs an M/M/c-like scenario through the
// command line and checks, on the Arrow output alone: completed GPU-hours
// equal Σ gpus × duration / 3600 (an H100-only fleet), busy + free = total in
// every sample, and Little's law (time-average queue = arrival rate × mean
// wait) within 2%.
func TestOutputConservationAndLittle(t *testing.T) {
	dir := t.TempDir()
	sc := writeFile(t, dir, "mmc.yaml", `name: mmc
seed: 5
sample_interval: 1m
fleet: {spec: 8x1xH100}
workloads:
  - {name: q, segment: internal, rate_per_hour: 6.4, max_jobs: 60000, gpus: "const:1", duration_s: "exp:3600"}
`)
	out := filepath.Join(dir, "out")
	if code, _, stderr := neosim(t, "run", "--quiet", "--scenario", sc, "--out", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	jobs := filepath.Join(out, "jobs.arrow")
	gpuHours, _ := arrowtest.Column(t, jobs, "gpu_hours")
	work, _ := arrowtest.Column(t, jobs, "work_s")
	gpus, _ := arrowtest.Column(t, jobs, "gpus")
	wait, _ := arrowtest.Column(t, jobs, "wait_s")
	submit, _ := arrowtest.Column(t, jobs, "submit_s")
	_, state := arrowtest.Column(t, jobs, "state")
	var held, want, sumWait, lastSubmit float64
	for i := range gpuHours {
		if state[i] != "completed" {
			t.Fatalf("job %d is %s", i, state[i])
		}
		held += gpuHours[i]
		want += gpus[i] * work[i] / 3600
		sumWait += wait[i]
		lastSubmit = max(lastSubmit, submit[i])
	}
	if math.Abs(held-want) > 1e-9*want {
		t.Errorf("completed jobs held %.9f GPU-hours; Σ gpus × duration / 3600 = %.9f", held, want)
	}
	ts := filepath.Join(out, "timeseries.arrow")
	total, _ := arrowtest.Column(t, ts, "gpus_total")
	busy, _ := arrowtest.Column(t, ts, "busy_gpus")
	util, _ := arrowtest.Column(t, ts, "utilization")
	queued, _ := arrowtest.Column(t, ts, "queued_jobs")
	var sumQ float64
	for i := range total {
		if busy[i] < 0 || busy[i] > total[i] || math.Abs(util[i]-busy[i]/total[i]) > 1e-12 {
			t.Fatalf("sample %d: busy %v of %v, utilization %v", i, busy[i], total[i], util[i])
		}
		sumQ += queued[i]
	}
	// Samples every minute over the run: the time-average queue length.
	lq := sumQ / float64(len(queued))
	end := float64(len(queued)-1) * 60
	lambda := float64(len(wait)) / end
	w := sumWait / float64(len(wait))
	if math.Abs(lq/(lambda*w)-1) > 0.02 {
		t.Errorf("Little's law: Lq = %.4f, λW = %.4f (λ %.6f/s, W %.1fs)", lq, lambda*w, lambda, w)
	}
	_ = lastSubmit
}

func TestHelpAndListings(t *testing.T) {
	if code, out, _ := neosim(t, "policies"); code != 0 || !strings.Contains(out, "fifo") || !strings.Contains(out, "flat") {
		t.Errorf("policies: %d %q", code, out)
	}
	if code, out, _ := neosim(t, "schema"); code != 0 || !strings.Contains(out, "wait_s") || !strings.Contains(out, "busy_gpus_internal") {
		t.Errorf("schema: %d %q", code, out)
	}
	if code, out, _ := neosim(t, "version"); code != 0 || !strings.Contains(out, "schema version") {
		t.Errorf("version: %d %q", code, out)
	}
	if code, _, errOut := neosim(t, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
	if code, _, errOut := neosim(t, "run", "--help"); code != 0 || !strings.Contains(errOut, "--fleet") {
		t.Errorf("run --help: %d %q", code, errOut)
	}
}

// TestMain lets a test run the command in a separate process (bench suite
// children, sweep shards): the test binary acts as neosim when
// NEOSIM_TEST_MAIN=1.
func TestMain(m *testing.M) {
	if os.Getenv("NEOSIM_TEST_MAIN") == "1" {
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
