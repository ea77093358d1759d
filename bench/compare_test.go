package bench

import (
	"neosim/experiment"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"neosim/scenario"
)

// BenchmarkCompare is issue 7's comparison benchmark: `neosim compare` on
// the embedded default scenario (10,000 GPUs, 30 days), 4 allocators × 2
// pricers × 5 seeds = 40 runs, once with 1 worker and once with 2, in the
// same iteration so that the speed-up is measured under the same machine
// load. It reports both wall times and their ratio (goal: ≥ 1.8 on 2
// cores). It also reports the cores each kept busy (CPU time / wall time):
// one worker already uses more than one core (the writer compresses on a
// goroutine of its own, and the garbage collector runs beside), which
// bounds the ratio below 2 even when two workers keep both cores busy.
func BenchmarkCompare(b *testing.B) {
	load := func() (*scenario.Scenario, error) { return scenario.Default(), nil }
	opt := experiment.CompareOptions{
		Allocators: []string{"fifo", "priority", "backfill", "partition"},
		Pricers:    []string{"flat", "utilization"},
		Seeds:      []uint64{1, 2, 3, 4, 5},
	}
	dir := b.TempDir()
	var wall, cpu [3]time.Duration
	for b.Loop() {
		for _, j := range []int{1, 2} {
			opt.Jobs, opt.Out = j, filepath.Join(dir, "j"+strconv.Itoa(j))
			start, cpu0 := time.Now(), cpuTime()
			if _, err := experiment.Compare(load, opt); err != nil {
				b.Fatal(err)
			}
			wall[j] += time.Since(start)
			cpu[j] += cpuTime() - cpu0
		}
	}
	n := float64(b.N)
	b.ReportMetric(wall[1].Seconds()/n, "s-j1")
	b.ReportMetric(wall[2].Seconds()/n, "s-j2")
	b.ReportMetric(float64(wall[1])/float64(wall[2]), "speedup")
	b.ReportMetric(float64(cpu[1])/float64(wall[1]), "cores-j1")
	b.ReportMetric(float64(cpu[2])/float64(wall[2]), "cores-j2")
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
