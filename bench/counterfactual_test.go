package bench

import (
	"testing"
	"time"

	"neosim/runner"
	"neosim/scenario"
)

// BenchmarkCounterfactual runs the embedded default scenario with and
// without its counterfactual (the same scenario and seed without external
// demand, simulated on a goroutine beside the run), alternating in each
// iteration, and reports the ratio of their wall times: the cost of
// measuring what selling is worth (goal ≤ 1.5 on 2 cores).
func BenchmarkCounterfactual(b *testing.B) {
	out := b.TempDir()
	var plain, with time.Duration
	for b.Loop() {
		for _, off := range []bool{true, false} {
			t0 := time.Now()
			if _, err := runner.Run(scenario.Default(), runner.Options{Out: out, NoCounterfactual: off}); err != nil {
				b.Fatal(err)
			}
			if off {
				plain += time.Since(t0)
			} else {
				with += time.Since(t0)
			}
		}
	}
	b.ReportMetric(plain.Seconds()/float64(b.N), "s-plain/op")
	b.ReportMetric(with.Seconds()/float64(b.N), "s-counterfactual/op")
	b.ReportMetric(with.Seconds()/plain.Seconds(), "ratio")
}
