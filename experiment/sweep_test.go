package experiment

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"neosim/results"
	"neosim/runner"
	"neosim/scenario"
	"neosim/sim"
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
		got, err := ParseSeeds(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseSeeds(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "0", "0-3", "3-1", "a", "1-x", "1,1", "1-3,2"} {
		if got, err := ParseSeeds(in); err == nil {
			t.Errorf("ParseSeeds(%q) = %v, want an error", in, got)
		}
	}
}

func TestSweepGrid(t *testing.T) {
	spec := `
name: grid-test
horizon: 6h
allocators: [partition]
pricers: [flat, utilization]
seeds: [1, 2]
grid:
  allocator_params.internal_share: [1, 0.5]
  pricer_params.multiplier: [1, 2]
baseline: {variant: internal_share-1_multiplier-1, pricer: utilization}
`
	sw, err := ParseSweep("grid.yaml", []byte(spec), SweepOverrides{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range sw.Variants() {
		names = append(names, v.Name)
	}
	want := []string{"internal_share-1_multiplier-1", "internal_share-1_multiplier-2", "internal_share-0.5_multiplier-1", "internal_share-0.5_multiplier-2"}
	if !slices.Equal(names, want) {
		t.Fatalf("variants %v, want %v", names, want)
	}
	if sw.Runs() != 4*2*2 || sw.ShardRuns(Shard{1, 3}) != 5 {
		t.Errorf("runs %d, shard 1/3 runs %d; want 16 and 5", sw.Runs(), sw.ShardRuns(Shard{1, 3}))
	}
	// The variant's settings reach its scenario, and the sweep's own
	// allocator_params apply to every allocator that accepts them.
	s, err := sw.Variants()[2].load()
	if err != nil {
		t.Fatal(err)
	}
	if s.AllocatorParams["internal_share"] != 0.5 || s.PricerParams["multiplier"] != 1 || s.Horizon != scenario.Duration(6*sim.Hour) {
		t.Errorf("variant 2: allocator_params %v, pricer_params %v, horizon %v", s.AllocatorParams, s.PricerParams, s.Horizon)
	}
}

func TestSweepRun(t *testing.T) {
	spec := `
horizon: 6h
allocators: [partition]
seeds: 1-2
variants:
  - {name: all-internal, set: {allocator_params.internal_share: 1}}
  - {name: half, set: {allocator_params.internal_share: 0.5}}
`
	sw, err := ParseSweep("two.yaml", []byte(spec), SweepOverrides{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "sw")
	c, err := sw.Run(SweepOptions{Out: out, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rows) != 2 || c.Rows[1].Variant != "half" || c.Rows[1].Params[0] != 0.5 || c.Baseline.Variant != "all-internal" {
		t.Fatalf("rows %+v, baseline %v", c.Rows, c.Baseline)
	}
	for _, f := range []string{ManifestFile, results.ComparisonFile, "variant=half/allocator=partition/pricer=flat/seed=2/jobs.arrow"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// Selling nothing earns nothing; selling half earns something.
	rev := c.Rows[0].Metrics[0]
	if results.ComparisonMetrics[0].Name != "external_revenue" || rev.Mean != 0 || !(c.Rows[1].Metrics[0].Mean > 0) {
		t.Errorf("external revenue: all-internal %v, half %v", rev.Mean, c.Rows[1].Metrics[0].Mean)
	}

	// Merging the folder in place gives the same table.
	before, _ := os.ReadFile(filepath.Join(out, results.ComparisonFile))
	if _, err := Merge(out, []string{out}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(out, results.ComparisonFile))
	if !bytes.Equal(before, after) {
		t.Error("merging a whole sweep in place changed comparison.arrow")
	}
	// A missing run is named.
	if err := os.Remove(filepath.Join(out, "variant=half/allocator=partition/pricer=flat/seed=2", results.RunFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(out, []string{out}); err == nil || !strings.Contains(err.Error(), "1 of 4 runs are missing") ||
		!strings.Contains(err.Error(), "variant=half allocator=partition pricer=flat seed=2") {
		t.Errorf("merge with a run missing: %v", err)
	}
	// Another sweep may not write into the folder.
	other, err := ParseSweep("other.yaml", []byte(strings.Replace(spec, "1-2", "1-3", 1)), SweepOverrides{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Run(SweepOptions{Out: out, Shard: Shard{0, 2}}); err == nil || !strings.Contains(err.Error(), "another sweep") {
		t.Errorf("a different sweep into the same folder: %v", err)
	}
}

func TestSweepErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"", "empty file"},
		{"seeds: 1-2\nbogus: 1\ngrid: {horizon: [1d]}", "bogus"},
		{"seeds: 1-2", "no variants"},
		{"grid: {horizon: [1d]}\nvariants: [{name: a, set: {horizon: 1d}}]", "not both"},
		{"grid: {allocator: [fifo]}", "allocators"},
		{"grid: {frontier.nope: [1]}", "nope"},
		{"grid: {horizon: 1d}", "non-empty list"},
		{"allocators: [partition]\ngrid: {allocator_params.internal_share: [2]}", "internal_share"},
		{"allocators: [bogus]\ngrid: {horizon: [1d]}", "known:"},
		{"seeds: 0-2\ngrid: {horizon: [1d]}", "seeds"},
		{"grid: {horizon: [1d, 1d]}", "named \"horizon-1d\""},
		{"variants: [{name: a, set: {horizon: 1d}}, {name: b, set: {seed: 3}}]", "same paths"},
		{"variants: [{name: 'a/b', set: {horizon: 1d}}]", "name"},
		{"grid: {workloads.3.rate_per_hour: [1]}", "workloads"},
		{"baseline: {variant: nope}\ngrid: {horizon: [1d]}", "baseline"},
		{"scenario: missing.yaml\ngrid: {horizon: [1d]}", "missing.yaml"},
	} {
		_, err := ParseSweep("bad.yaml", []byte(tc.spec), SweepOverrides{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("sweep %q: err = %v, want one mentioning %q", tc.spec, err, tc.want)
		}
	}
}

// TestExamples: every sweep file in examples/ parses and validates.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		if b, _ := os.ReadFile(f); bytes.Contains(b, []byte("\nfleet:")) {
			continue // a scenario (neosim run --scenario), tested in scenario/
		}
		if _, err := LoadSweep(f, SweepOverrides{}); err != nil {
			t.Error(err)
		}
	}
}

// TestSweepParquetMerge: a sweep written as Parquet merges to the same
// comparison as the same sweep written as Arrow.
func TestSweepParquetMerge(t *testing.T) {
	spec := "horizon: 6h\nseeds: 1-2\ngrid: {pricer_params.multiplier: [1, 2]}\n"
	sw, err := ParseSweep("pq.yaml", []byte(spec), SweepOverrides{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var tables [][]byte
	for _, f := range []results.Format{results.FormatArrow, results.FormatParquet} {
		out := filepath.Join(dir, f.String())
		if _, err := sw.Run(SweepOptions{Out: out, Jobs: 2, Run: runner.Options{Format: f}}); err != nil {
			t.Fatal(err)
		}
		if _, err := Merge(out, []string{out}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, results.ComparisonFile))
		if err != nil {
			t.Fatal(err)
		}
		tables = append(tables, b)
	}
	if _, err := os.Stat(filepath.Join(dir, "parquet", "variant=multiplier-2", "allocator=priority", "pricer=flat", "seed=1", "summary.parquet")); err != nil {
		t.Error(err)
	}
	if !bytes.Equal(tables[0], tables[1]) {
		t.Error("comparison.arrow differs between a sweep written as Arrow and one written as Parquet")
	}
}

// TestSweepResume: a sweep resumed after losing a run runs only that run
// and ends with the same comparison; a sweep with another horizon is
// another sweep (its digest differs), so a shard of it refuses the folder.
func TestSweepResume(t *testing.T) {
	spec := "horizon: 6h\nseeds: 1-2\ngrid: {pricer_params.multiplier: [1, 2]}\n"
	sw, err := ParseSweep("resume.yaml", []byte(spec), SweepOverrides{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "sw")
	if _, err := sw.Run(SweepOptions{Out: out, Jobs: 2}); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(out, results.ComparisonFile))
	if err != nil {
		t.Fatal(err)
	}
	lost := filepath.Join(out, "variant=multiplier-2", "allocator=priority", "pricer=flat", "seed=1")
	if err := os.Remove(filepath.Join(lost, results.RunFile)); err != nil {
		t.Fatal(err)
	}
	if n := sw.Pending(out, Shard{}, results.FormatArrow); n != 1 {
		t.Errorf("%d runs pending, want 1", n)
	}
	var ran []string
	if _, err := sw.Run(SweepOptions{Out: out, Jobs: 2, Resume: true, Done: func(d RunDone) { ran = append(ran, d.Out) }}); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 1 || ran[0] != lost {
		t.Errorf("resumed sweep ran %v, want only %s", ran, lost)
	}
	got, err := os.ReadFile(filepath.Join(out, results.ComparisonFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("the resumed sweep's comparison.arrow differs from the fresh one's")
	}

	longer, err := ParseSweep("resume.yaml", []byte(spec), SweepOverrides{Horizon: "12h"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := longer.Run(SweepOptions{Out: out, Shard: Shard{0, 2}, Resume: true}); err == nil || !strings.Contains(err.Error(), "another sweep") {
		t.Errorf("a shard with another horizon into the folder: %v", err)
	}
}
