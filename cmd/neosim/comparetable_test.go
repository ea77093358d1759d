package main

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"neosim/experiment"
	"neosim/results"
)

// TestPrintComparisonSignificance: the table ranks by mean net value, marks
// the rows tied with the best with "=", and prints a Δ net value whose CI
// spans 0 as "n.s." (and one that excludes 0 without it).
func TestPrintComparisonSignificance(t *testing.T) {
	row := func(alloc string, net, netCI, diff, diffCI float64, tied bool) results.ComparisonRow {
		ms := make([]results.MetricStats, len(results.ComparisonMetrics))
		for i := range ms {
			ms[i] = results.MetricStats{Mean: math.NaN(), CI95: math.NaN(), DiffMean: math.NaN(), DiffCI95: math.NaN()}
			if results.ComparisonMetrics[i].Name == "net_value" {
				ms[i] = results.MetricStats{Mean: net, CI95: netCI, DiffMean: diff, DiffCI95: diffCI}
			}
		}
		return results.ComparisonRow{Allocator: alloc, Pricer: "flat", Runs: 5, Metrics: ms, TiedWithBest: tied}
	}
	c := &experiment.Comparison{Out: "x", Pairs: make([]experiment.Pair, 3), Seeds: []uint64{1, 2, 3, 4, 5},
		Rows: []results.ComparisonRow{
			row("base", 0, 0, 0, 0, false),
			row("small", 500, 9000, 500, 800, true),  // Δ CI spans 0
			row("big", 9000, 2000, 9000, 1000, true), // the best
		}}
	var out bytes.Buffer
	printComparison(&out, c, "")
	lines := strings.Split(out.String(), "\n")
	var body []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 1 && (f[1] == "base" || f[1] == "small" || f[1] == "big") {
			body = append(body, l)
		}
	}
	if len(body) != 3 {
		t.Fatalf("table rows %q", body)
	}
	for i, want := range []struct{ rank, alloc string }{{"1=", "big"}, {"2=", "small"}, {"3", "base"}} {
		if f := strings.Fields(body[i]); f[0] != want.rank || f[1] != want.alloc {
			t.Errorf("row %d: %q, want rank %s %s", i, body[i], want.rank, want.alloc)
		}
	}
	if !strings.Contains(body[1], "500 ±800 n.s.") {
		t.Errorf("a Δ whose CI spans 0 is not n.s.: %q", body[1])
	}
	if !strings.Contains(body[0], "9,000 ±1,000") || strings.Contains(body[0], "n.s.") {
		t.Errorf("a significant Δ: %q", body[0])
	}
}
