package runner

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"neosim/internal/arrowtest"
	"neosim/results"
	"neosim/scenario"
	"neosim/sim"
)

// writeMooncake writes a two-hour Mooncake request log (JSON lines, ms
// from the start) from a fixed seed and returns its path and Σ(input +
// output) tokens.
func writeMooncake(t *testing.T) (string, int64) {
	t.Helper()
	r := rand.New(rand.NewPCG(5, 11))
	var b strings.Builder
	var total int64
	ms := 0
	for ms < 2*3600*1000 {
		in, out := 1+r.IntN(60_000), r.IntN(2_000)
		total += int64(in + out)
		fmt.Fprintf(&b, `{"timestamp": %d, "input_length": %d, "output_length": %d, "hash_ids": [%d]}`+"\n", ms, in, out, ms)
		ms += r.IntN(2000)
	}
	p := filepath.Join(t.TempDir(), "mooncake.jsonl")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, total
}

// jobsTokens sums jobs.arrow's tokens column and counts its non-null
// values, failing on one outside the serving segment.
func jobsTokens(t *testing.T, dir string) (sum, n int64) {
	t.Helper()
	b, err := results.OpenBatches(results.DataFile(dir, "jobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for {
		rec, err := b.Next()
		if errors.Is(err, io.EOF) {
			return sum, n
		}
		if err != nil {
			t.Fatal(err)
		}
		idx := rec.Schema().FieldIndices("tokens")
		segs := rec.Column(rec.Schema().FieldIndices("segment")[0])
		tok := rec.Column(idx[0]).(*array.Int64)
		for i := range tok.Len() {
			if seg := arrowtest.Str(segs, i); tok.IsNull(i) != (seg != "serving") {
				t.Fatalf("row %d: segment %s, tokens null %v", i, seg, tok.IsNull(i))
			}
			if !tok.IsNull(i) {
				sum += tok.Value(i)
				n++
			}
		}
	}
}

// TestServingTraceConservation: with ample capacity every token of the
// request log is demanded and served, exactly (summary and jobs.arrow), a
// rate scale of k demands k times as many, and serving revenue is the
// tokens at the per-token price.
func TestServingTraceConservation(t *testing.T) {
	path, total := writeMooncake(t)
	for _, k := range []float64{1, 3} {
		yaml := fmt.Sprintf("fleet: {spec: 64x8xH100}\nhorizon: 4h\nexternal_demand:\n  segments:\n    - segment: serving\n      trace: %s\n      trace_rate_scale: %v\n", path, k)
		s, err := scenario.Parse("t.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "out")
		res, err := Run(s, Options{Out: out, NoCounterfactual: true})
		if err != nil {
			t.Fatal(err)
		}
		sum, want := res.Summary, int64(k)*total
		if sum.ServingTokensDemanded != want || sum.ServingTokensServed != want {
			t.Errorf("scale %v: demanded %d, served %d; the log × %v is %d", k, sum.ServingTokensDemanded, sum.ServingTokensServed, k, want)
		}
		jobs := res.Stats.Jobs[sim.SegServing]
		if jobs[sim.Completed] == 0 || jobs[sim.Completed] != sum.Segments[sim.SegServing].Jobs {
			t.Errorf("scale %v: serving jobs by state %v: all should complete", k, jobs)
		}
		if got, n := jobsTokens(t, out); got != want || n != sum.Segments[sim.SegServing].Jobs {
			t.Errorf("scale %v: jobs.arrow tokens sum to %d over %d rows; want %d over %d", k, got, n, want, sum.Segments[sim.SegServing].Jobs)
		}
		// Each job's bill, at the price in whole µ$ per million tokens, is
		// rounded once to the micro-dollar.
		price := math.Round(s.ExternalDemand.Segments[0].PricePerMTokUSD * 1e6)
		rev, bill := sum.Econ.Segments[sim.SegServing].RevenueUSD, float64(want)*price/1e12
		if math.Abs(rev-bill) > float64(n(jobs))*1e-6 {
			t.Errorf("scale %v: serving revenue $%.6f; tokens × price $%.6f", k, rev, bill)
		}
		t.Logf("scale %v: %d serving jobs, %d tokens demanded and served, $%.2f", k, n(jobs), want, rev)
	}
}

func n(row [sim.NumStates]int64) (s int64) {
	for _, v := range row {
		s += v
	}
	return s
}

func TestServingTraceOverride(t *testing.T) {
	path, _ := writeMooncake(t)
	s := defaultFor(t, sim.Day)
	if err := (&Overrides{ServingTrace: &path}).Apply(s, false); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, seg := range s.ExternalDemand.Segments {
		if seg.Segment == "serving" {
			found = seg.Trace == path
		}
	}
	if !found {
		t.Errorf("--serving-trace did not set the serving segment's trace")
	}
	off := false
	s = defaultFor(t, sim.Day)
	if err := (&Overrides{ServingTrace: &path, External: &off}).Apply(s, false); err == nil || !strings.Contains(err.Error(), "--serving-trace") {
		t.Errorf("external off: error %v", err)
	}
	missing := filepath.Join(t.TempDir(), "none.csv")
	if err := (&Overrides{ServingTrace: &missing}).Apply(defaultFor(t, sim.Day), false); err == nil {
		t.Errorf("a missing file: no error")
	}
}
