package main

import (
	"bytes"
	"io/fs"
	"neosim/experiment"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const testSweep = `
name: shard-test
horizon: 6h
allocators: [fifo, priority]
seeds: 1-3
grid:
  pricer_params.multiplier: [1, 1.5]
`

// TestSweepShardsMerge: a sweep run as 3 shards in separate processes (one
// told its shard by --shard, one by Kubernetes' variables, one by Slurm's)
// and merged equals the same sweep run whole: the same run files, byte for
// byte, and the same comparison.arrow.
func TestSweepShardsMerge(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(spec, []byte(testSweep), 0o644); err != nil {
		t.Fatal(err)
	}
	whole := filepath.Join(dir, "whole")
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"sweep", "-f", spec, "--out", whole, "-j", "2"}, &stdout, &stderr); code != 0 {
		t.Fatalf("whole sweep: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "2 variants × 2 pairs × 3 seeds") {
		t.Errorf("no table:\n%s", stdout.String())
	}

	shards := []struct {
		args []string
		env  []string
	}{
		{[]string{"--shard", "0/3"}, nil},
		{nil, []string{"JOB_COMPLETION_INDEX=1", "JOB_COMPLETIONS=3"}},
		{nil, []string{"SLURM_ARRAY_TASK_ID=3", "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_MIN=1"}},
	}
	var dirs []string
	for i, sh := range shards {
		out := filepath.Join(dir, "shard", string(rune('a'+i)))
		dirs = append(dirs, out)
		cmd := exec.Command(os.Args[0], append([]string{"sweep", "-f", spec, "--out", out, "-j", "1"}, sh.args...)...)
		cmd.Env = append(os.Environ(), append(sh.env, "NEOSIM_TEST_MAIN=1")...)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("shard %d: %v\n%s", i, err, b)
		}
		if !strings.Contains(string(b), "neosim merge") {
			t.Errorf("shard %d did not say how to merge:\n%s", i, b)
		}
	}
	merged := filepath.Join(dir, "merged")
	stdout.Reset()
	stderr.Reset()
	if code := Main(append([]string{"merge", "--out", merged}, dirs...), &stdout, &stderr); code != 0 {
		t.Fatalf("merge: exit %d: %s", code, stderr.String())
	}
	a, b := treeFiles(t, whole), treeFiles(t, merged)
	if len(a) != len(b) {
		t.Fatalf("whole sweep has %d files, merged %d", len(a), len(b))
	}
	for name, data := range a {
		if strings.HasSuffix(name, "run.json") {
			continue // wall time
		}
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between the whole and the merged sweep", name)
		}
	}
	if _, ok := a["comparison.arrow"]; !ok {
		t.Error("no comparison.arrow")
	}

	// A shard missing: merge fails and names what is missing.
	stderr.Reset()
	if code := Main(append([]string{"merge", "--out", filepath.Join(dir, "m2")}, dirs[:2]...), &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "runs are missing") {
		t.Errorf("merge without a shard: exit %d, %s", code, stderr.String())
	}
}

// treeFiles reads every file under dir, by relative path.
func treeFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[rel], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestResolveShard(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		flag string
		env  func(string) string
		want experiment.Shard
		from string
	}{
		{"", env(), experiment.Shard{}, ""},
		{"2/5", env("JOB_COMPLETION_INDEX", "0", "JOB_COMPLETIONS", "3"), experiment.Shard{Index: 2, Count: 5}, ""},
		{"", env("JOB_COMPLETION_INDEX", "0", "JOB_COMPLETIONS", "3"), experiment.Shard{Index: 0, Count: 3}, "JOB_COMPLETION_INDEX/JOB_COMPLETIONS"},
		{"", env("SLURM_ARRAY_TASK_ID", "4", "SLURM_ARRAY_TASK_COUNT", "5"), experiment.Shard{Index: 4, Count: 5}, "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT"},
		{"", env("SLURM_ARRAY_TASK_ID", "5", "SLURM_ARRAY_TASK_COUNT", "5", "SLURM_ARRAY_TASK_MIN", "1"), experiment.Shard{Index: 4, Count: 5}, "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT"},
	} {
		got, from, err := resolveShard(tc.flag, tc.env)
		if err != nil || got != tc.want || from != tc.from {
			t.Errorf("resolveShard(%q): %v from %q, %v; want %v from %q", tc.flag, got, from, err, tc.want, tc.from)
		}
	}
	for _, tc := range []struct {
		flag string
		env  func(string) string
	}{
		{"3/3", env()}, {"-1/3", env()}, {"1", env()}, {"a/b", env()}, {"0/0", env()},
		{"", env("JOB_COMPLETION_INDEX", "3", "JOB_COMPLETIONS", "3")},
		{"", env("SLURM_ARRAY_TASK_ID", "x", "SLURM_ARRAY_TASK_COUNT", "2")},
	} {
		if got, _, err := resolveShard(tc.flag, tc.env); err == nil {
			t.Errorf("resolveShard(%q) = %v, want an error", tc.flag, got)
		}
	}
}

// TestDeployFiles: the Kubernetes Job runs a sweep its command line
// accepts, with JOB_COMPLETIONS equal to its completions; the Slurm script
// is valid bash that runs neosim sweep.
func TestDeployFiles(t *testing.T) {
	b, err := os.ReadFile("../../deploy/kubernetes/sweep-job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var sweepYAML string
	var job struct {
		Kind string
		Spec struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int
			Template       struct {
				Spec struct {
					Containers []struct {
						Command []string
						Env     []struct{ Name, Value string }
					}
				}
			}
		}
	}
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			break
		}
		raw, _ := yaml.Marshal(doc)
		switch doc["kind"] {
		case "ConfigMap":
			sweepYAML = doc["data"].(map[string]any)["sweep.yaml"].(string)
		case "Job":
			if err := yaml.Unmarshal(raw, &job); err != nil {
				t.Fatal(err)
			}
		}
	}
	if sweepYAML == "" || job.Kind != "Job" || job.Spec.CompletionMode != "Indexed" || len(job.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("sweep-job.yaml: no ConfigMap sweep or no Indexed Job with one container")
	}
	c := job.Spec.Template.Spec.Containers[0]
	completions := ""
	for _, e := range c.Env {
		if e.Name == "JOB_COMPLETIONS" {
			completions = e.Value
		}
	}
	if completions != strconv.Itoa(job.Spec.Completions) {
		t.Errorf("JOB_COMPLETIONS=%q, completions %d: they must be equal", completions, job.Spec.Completions)
	}
	dir := t.TempDir()
	spec := filepath.Join(dir, "sweep.yaml")
	if err := os.WriteFile(spec, []byte(sweepYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	args := slices.Clone(c.Command[1:])
	for i, a := range args {
		args[i] = strings.NewReplacer("/config/sweep.yaml", spec, "/data", dir).Replace(a)
	}
	var stdout, stderr bytes.Buffer
	if code := Main(append(args, "--dry-run", "--shard", "4/5"), &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "shard 4/5 runs 5") {
		t.Errorf("the Job's command: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if out, err := exec.Command("bash", "-n", "../../deploy/slurm/sweep.sbatch").CombinedOutput(); err != nil {
		t.Errorf("sweep.sbatch: %v\n%s", err, out)
	}
	sb, _ := os.ReadFile("../../deploy/slurm/sweep.sbatch")
	if !strings.Contains(string(sb), "#SBATCH --array=") || !strings.Contains(string(sb), `sweep -f "$SWEEP" --out "$OUT"`) {
		t.Error("sweep.sbatch: no array or no neosim sweep")
	}
}
