package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"neosim/experiment"
	"neosim/results"
	"neosim/runner"
	"neosim/scenario"
	"neosim/sim"
)

// The small-run measures (SuiteConfig.SmallRuns): what many short runs
// cost, the case of a sweep or of advise trying hundreds of candidates. A
// small run is the small benchmark scenario (1,000 GPUs) for one simulated
// day, writing only its summary.
const (
	smallRunScenario = "small"
	smallRunHorizon  = sim.Day
)

// loadSmallRun returns the scenario of a small run.
func loadSmallRun() (*scenario.Scenario, error) {
	s, err := LoadScenario(smallRunScenario)
	if err != nil {
		return nil, err
	}
	s.Horizon = scenario.Duration(smallRunHorizon)
	return s, nil
}

// measureFixedCost runs n small runs one after the other and returns a
// "fixed-cost" row: WallS is the median wall time of one run. With run set
// each is a whole neosim process (run(args…) makes the command: process
// start, reading the scenario, the run, writing the summary); without, a
// runner.Run call in this process.
func measureFixedCost(n int, dir string, run func(args ...string) *exec.Cmd) (Row, error) {
	yaml := filepath.Join(dir, "small-run.yaml")
	if run != nil {
		b, err := scenarioFiles.ReadFile("scenarios/" + smallRunScenario + ".yaml")
		if err != nil {
			return Row{}, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return Row{}, err
		}
		if err := os.WriteFile(yaml, b, 0o644); err != nil {
			return Row{}, err
		}
	}
	out := filepath.Join(dir, "small-run")
	walls := make([]float64, n)
	for i := range walls {
		start := time.Now()
		if run != nil {
			cmd := run("run", "--scenario", yaml, "--horizon", smallRunHorizon.String(), "--outputs", "summary", "--quiet", "--out", out)
			if b, err := cmd.CombinedOutput(); err != nil {
				return Row{}, fmt.Errorf("small run %v: %w: %s", cmd.Args, err, b)
			}
		} else {
			s, err := loadSmallRun()
			if err != nil {
				return Row{}, err
			}
			if _, err := runner.Run(s, runner.Options{Out: out, Outputs: results.OutSummary}); err != nil {
				return Row{}, err
			}
		}
		walls[i] = time.Since(start).Seconds()
	}
	slices.Sort(walls)
	name := "small-1d-summary" // a whole process
	if run == nil {
		name += "-in-process"
	}
	return Row{Kind: "fixed-cost", Name: name, GPUs: 1000, HorizonDays: smallRunHorizon.Hours() / 24,
		Runs: int64(n), Workers: 1, WallS: walls[n/2]}, nil
}

// measureSweep runs n small runs (seeds 1..n) as one comparison with the
// given number of workers, summaries only, and returns a "sweep" row:
// WallS is the whole comparison's wall time.
func measureSweep(n, workers int, dir string) (Row, error) {
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	start := time.Now()
	_, err := experiment.Compare(loadSmallRun, experiment.CompareOptions{Seeds: seeds, Jobs: workers,
		Out: filepath.Join(dir, fmt.Sprintf("sweep-%d", workers)), Run: runner.Options{Outputs: results.OutSummary}})
	if err != nil {
		return Row{}, err
	}
	return Row{Kind: "sweep", Name: fmt.Sprintf("small-1d-summary-j%d", workers), GPUs: 1000, HorizonDays: smallRunHorizon.Hours() / 24,
		Runs: int64(n), Workers: int64(workers), WallS: time.Since(start).Seconds()}, nil
}

// smallRunRows measures the fixed cost, then the sweep with one worker and
// with one per CPU.
func smallRunRows(cfg *SuiteConfig) ([]Row, error) {
	dir := filepath.Join(cfg.RunsDir, "small-runs")
	if !cfg.KeepRuns {
		defer os.RemoveAll(dir)
	}
	fmt.Fprintf(cfg.progress(), "suite: small runs, %d of them: fixed cost\n", cfg.SmallRuns)
	fixed, err := measureFixedCost(cfg.SmallRuns, dir, cfg.Process)
	if err != nil {
		return nil, err
	}
	rows := []Row{fixed}
	workers := []int{1}
	if n := runtime.NumCPU(); n > 1 {
		workers = append(workers, n)
	}
	for _, w := range workers {
		fmt.Fprintf(cfg.progress(), "suite: small runs: a sweep of %d with %d worker(s)\n", cfg.SmallRuns, w)
		r, err := measureSweep(cfg.SmallRuns, w, dir)
		if err != nil {
			return rows, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}
