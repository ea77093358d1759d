package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"neosim/results"
	"neosim/scenario"
	"neosim/sim"
)

// TestInlineSameOutputs: a run inline (Options.Inline: sources and writer
// on the engine's goroutine), with its counterfactual handing the per-job
// waits over, writes the same files, byte for byte, as the same run piped,
// with every output and with the summary only; run.json differs only in its
// wall time.
func TestInlineSameOutputs(t *testing.T) {
	for _, outs := range []results.Outputs{results.AllOutputs, results.OutSummary} {
		t.Run(fmt.Sprint(outs), func(t *testing.T) { testInlineSameOutputs(t, outs) })
	}
}

func testInlineSameOutputs(t *testing.T, outs results.Outputs) {
	dir := t.TempDir()
	run := func(name string, inline bool) string {
		t.Helper()
		s := scenario.Default() // failures and external demand on
		s.Horizon = scenario.Duration(3 * sim.Day)
		res, err := Run(s, Options{Out: filepath.Join(dir, name), Inline: inline, Outputs: outs})
		if err != nil {
			t.Fatal(err)
		}
		if c := res.Summary.Counterfactual; c == nil || c.Self {
			t.Fatalf("%s: no counterfactual simulated (%+v)", name, c)
		}
		return res.Out
	}
	piped, inline := run("piped", false), run("inline", true)
	files := func(d string) []string {
		t.Helper()
		es, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}
	names := files(piped)
	if got := files(inline); !slices.Equal(got, names) {
		t.Fatalf("inline run wrote %v, piped %v", got, names)
	}
	if want := outs&results.OutJobs != 0; slices.Contains(names, results.JobsFile) != want {
		t.Fatalf("%s among %v: want %v", results.JobsFile, names, want)
	}
	for _, n := range names {
		a, b := readOutput(t, filepath.Join(piped, n)), readOutput(t, filepath.Join(inline, n))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the piped run (%d bytes) and the inline one (%d bytes)", n, len(a), len(b))
		}
	}
}

// readOutput returns an output file's bytes; for run.json, its fields but
// the wall time, re-encoded.
func readOutput(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != results.RunFile {
		return b
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["wall_s"]; !ok {
		t.Fatalf("%s has no wall_s: %s", path, b)
	}
	delete(m, "wall_s")
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
