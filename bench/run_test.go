package bench

import (
	"path/filepath"
	"syscall"
	"testing"

	"neosim/runner"
	"neosim/scenario"
	"neosim/sim"
)

// BenchmarkRun100k is the foundation's whole-run benchmark
// (bench/scenarios/run-100k.yaml): 100,000 GPUs (12,500 nodes x 8 H100),
// 1,000,000 jobs over 30 days, fifo, with every output file written. Each
// iteration is one complete run: sources, engine, Arrow writers, commit.
// It reports simulated events and jobs per wall second and the process's
// peak RSS (which includes whatever ran before in the same process).
func BenchmarkRun100k(b *testing.B) {
	benchScenario(b, "run-100k.yaml")
}

func benchScenario(b *testing.B, file string) {
	s, err := scenario.Load(filepath.Join("scenarios", file))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	runScenario(b, s)
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
	}
}

// BenchmarkDefaultScenario runs the embedded default scenario (10,000 GPUs,
// 30 days, the frontier training mix, failures) with the external segments
// on and off: external demand (quotes, willingness to pay, spot preemption,
// serving replicas) must not slow a run by more than 2x per job.
func BenchmarkDefaultScenario(b *testing.B) {
	for _, ext := range []bool{false, true} {
		name := "external=off"
		if ext {
			name = "external=on"
		}
		b.Run(name, func(b *testing.B) {
			s := scenario.Default()
			s.External = &ext
			runScenario(b, s)
		})
	}
}

// runScenario runs s once per iteration, writing its output to a temporary
// folder, and reports simulated events and jobs per wall second and the
// wall time per job.
func runScenario(b *testing.B, s *scenario.Scenario) {
	out := b.TempDir()
	var events, jobs int64
	for b.Loop() {
		res, err := runner.Run(s, runner.Options{Out: out})
		if err != nil {
			b.Fatal(err)
		}
		events += res.Stats.Events
		jobs += res.Summary.Jobs
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(events)/sec, "events/s")
	b.ReportMetric(float64(jobs)/sec, "jobs/s")
	b.ReportMetric(sec/float64(jobs)*1e9, "ns/job")
}

// BenchmarkOverloaded runs the default scenario overloaded: internal
// arrivals at 2,500 jobs an hour instead of 500, for 7 days, so that the
// queue grows to tens of thousands of jobs (a sweep over the internal load
// or the share sold meets such runs). It measures what a pass of each
// queue-walking allocator costs when the queue is long.
func BenchmarkOverloaded(b *testing.B) {
	for _, alloc := range []string{"fifo", "priority", "backfill", "partition"} {
		b.Run(alloc, func(b *testing.B) {
			s := scenario.Default()
			s.Horizon = scenario.Duration(7 * sim.Day)
			s.Frontier.RatePerHour = 2500
			s.Allocator, s.AllocatorParams = alloc, nil
			if alloc == "partition" {
				s.AllocatorParams = map[string]any{"internal_share": 0.8}
			}
			runScenario(b, s)
		})
	}
}
