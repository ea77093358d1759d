package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"neosim/internal/sharedtest"
)

// squeeze collapses the spaces of a table's lines (and trims them), so
// that tests do not depend on column widths.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return "\n" + strings.Join(lines, "\n")
}

// TestTraceInspectPhilly checks the printed numbers against
// ../shared/traces/philly-2017/SOURCE.md.
func TestTraceInspectPhilly(t *testing.T) {
	path := sharedtest.Trace(t, "philly-2017/philly_jobs_pollux.csv")
	code, out, stderr := neosim(t, "trace", "inspect", path, "--top", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"\nformat philly\n",
		"\njobs 82,247\n",
		"(108.9 days)",
		"\nGPU-hours 978,078.5",
		"\nduration (s) min 1 p50 1,144 mean 13,135.9 p90 11,266 p99 254,884 max 4,628,226\n",
		"\n1 76,627 93.2%\n",
		"\n2 1,818 2.2%\n",
		"\n128 3 0.0%\n",
		"tenants (15; top 2)",
		"\n6214e9 41,226 50.1%\n",
	} {
		if !strings.Contains(squeeze(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestTraceInspectOpenb checks the printed numbers against
// ../shared/traces/alibaba-openb-2023/SOURCE.md (traces/openb_test.go
// explains how they relate).
func TestTraceInspectOpenb(t *testing.T) {
	path := sharedtest.Trace(t, "alibaba-openb-2023/openb_pod_list_default.csv")
	code, out, stderr := neosim(t, "trace", "inspect", path, "--trace-format", "openb")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"\nformat openb\n",
		"\njobs 6,203\n",
		"0 s to 12,901,761 s (149.3 days)",
		"\nCPU-only pods (num_gpu 0) 1,088",
		"\npending pods (no scheduled_time: never ran) 861",
		"\nLS 3,590",
	} {
		if !strings.Contains(squeeze(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "skipped 1949 of 8152 pods") {
		t.Errorf("stderr %q lacks the skip note", stderr)
	}
}

// TestTraceConvert converts a generated Philly list to Parquet and
// inspects the result.
func TestTraceConvert(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "philly.csv", "timestamp,duration,num_gpus,gpu_time,cluster\n"+
		"2017-10-07 01:11:39,74,8,592,vc1\n2017-10-07 01:00:00,10.5,1,10.5,vc2\n")
	out := filepath.Join(dir, "philly.parquet")
	code, stdout, stderr := neosim(t, "trace", "convert", in, out)
	if code != 0 || stdout != "wrote 2 jobs to "+out+" (read as philly)\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = neosim(t, "trace", "inspect", out)
	if code != 0 || !strings.Contains(squeeze(stdout), "\nformat canonical\n") || !strings.Contains(squeeze(stdout), "\nsubmits 0 s to 699 s") {
		t.Errorf("inspect of the conversion: exit %d\n%s%s", code, stdout, stderr)
	}

	// --gpu-models maps openb's gpu_spec models.
	pods := writeFile(t, dir, "pods.csv", "name,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time,scheduled_time\n"+
		"p1,1,1000,,0,10,0\np2,1,500,T4|P100,5,20,6\n")
	code, stdout, stderr = neosim(t, "trace", "inspect", pods, "--gpu-models", "T4=B200,p100=B200")
	if code != 0 || !strings.Contains(squeeze(stdout), "\nB200 1 50.0%\n") || !strings.Contains(squeeze(stdout), "\nGPU shares 1 jobs") {
		t.Errorf("inspect with --gpu-models: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestTraceErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.csv", "timestamp,duration,num_gpus,gpu_time,cluster\n2017-10-07 01:11:39,74,eight,592,vc1\n")
	pods := writeFile(t, dir, "pods.csv", "name,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time,scheduled_time\n"+
		"p1,1,1000,,0,10,0\np2,1,500,T4|P100,5,20,6\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // in stderr
	}{
		{"no subcommand", []string{"trace"}, 2, []string{"Usage:", "neosim trace inspect FILE"}},
		{"unknown subcommand", []string{"trace", "plot"}, 2, []string{`unknown subcommand "plot"`}},
		{"no file", []string{"trace", "inspect"}, 2, []string{"want FILE, got 0 arguments"}},
		{"no output", []string{"trace", "convert", bad}, 2, []string{"want FILE and OUT, got 1 arguments"}},
		{"bad row", []string{"trace", "inspect", bad}, 1, []string{"bad.csv:2", `field "num_gpus"`, `"eight" is not a whole number`}},
		{"unknown format", []string{"trace", "inspect", bad, "--trace-format", "slurm"}, 1, []string{`unknown trace format "slurm"`, "philly"}},
		{"missing file", []string{"trace", "inspect", filepath.Join(dir, "none.csv")}, 1, []string{"none.csv", "cannot open"}},
		{"bad output", []string{"trace", "convert", pods, filepath.Join(dir, "out.txt")}, 1, []string{"out.txt", `unknown trace format ".txt"`}},
		{"unmapped model", []string{"trace", "inspect", pods, "--gpu-models", "T4=TPU"}, 1,
			[]string{"pods.csv:3", `field "gpu_spec"`, `GPU model "T4" maps to "TPU", which is not a catalog type`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := neosim(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("directory holds %d entries; want only the inputs (no output of failed conversions)", len(entries))
	}
	code, stdout, _ := neosim(t, "trace", "--help")
	if code != 0 || !strings.Contains(stdout, "Formats (--trace-format):") || !strings.Contains(stdout, "openb") {
		t.Errorf("trace --help: exit %d\n%s", code, stdout)
	}
}

// TestServingTraceAzureConv replays the Azure conversation log as serving
// demand: inspect reports SOURCE.md's numbers, and a run with capacity to
// spare serves every token the log asks for.
func TestServingTraceAzureConv(t *testing.T) {
	path := sharedtest.Trace(t, "azure-llm-2023/AzureLLMInferenceTrace_conv.csv")
	code, out, stderr := neosim(t, "trace", "inspect", path)
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"\nformat azure-llm ", "\nrequests 19,366\n", "\ntokens 26,450,535 (input 22,361,870 + output 4,088,665)\n", "\ntokens/s min "} {
		if !strings.Contains(squeeze(out), want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	code, out, stderr = neosim(t, "run", "--serving-trace", path, "--horizon", "2h", "--external=false", "--counterfactual=false", "--out", filepath.Join(t.TempDir(), "run"))
	if code == 0 || !strings.Contains(stderr, "--serving-trace") {
		t.Errorf("--external=false: exit %d, %s", code, stderr)
	}
	code, out, stderr = neosim(t, "run", "--serving-trace", path, "--horizon", "2h", "--counterfactual=false", "--out", filepath.Join(t.TempDir(), "run"))
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	if want := "serving tokens: demanded 26,450,535 · served 26,450,535 (100.0%)"; !strings.Contains(out, want) {
		t.Errorf("run output lacks %q:\n%s", want, out)
	}
}
