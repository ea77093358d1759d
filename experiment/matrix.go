package experiment

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/renameio/v2"

	"neosim/results"
	"neosim/runner"
	"neosim/scenario"
)

// Pair is one (allocator, pricer) combination of a comparison.
type Pair struct {
	Allocator string `json:"allocator"`
	Pricer    string `json:"pricer"`
}

func (p Pair) String() string { return p.Allocator + "/" + p.Pricer }

// Variant is one point of a sweep's parameter space: the base scenario with
// some settings changed. A comparison has one variant with no name.
type Variant struct {
	Name   string // the run folders' variant=NAME partition; "" in a comparison
	Values []any  // the sweep parameters' values (float64 or string), in parameter order
	// load returns a fresh copy of the variant's scenario (runs change the
	// scenario they are given, so they cannot share one).
	load func() (*scenario.Scenario, error)
	// ownParams: the variant sets allocator_params (pricer_params) itself,
	// so they apply to every allocator (pricer) of the sweep, not only to
	// the scenario's own.
	ownAllocParams, ownPricerParams bool
	// digest is the SHA-256 of the variant's resolved scenario (see
	// setDigests): two folders hold runs of the same variant only if their
	// manifests agree on it (a changed horizon is another sweep).
	digest string
}

// Cell is one (variant, pair) of a matrix: a row of comparison.arrow.
type Cell struct {
	Variant string
	Pair
}

func (c Cell) String() string {
	if c.Variant == "" {
		return c.Pair.String()
	}
	return c.Variant + "/" + c.Pair.String()
}

// matrix is the runs of a comparison or sweep: variants × pairs × seeds.
// Run k is cell k / len(seeds) (variant-major, then pair) with seed
// k % len(seeds); a shard i of n runs the k with k % n == i.
type matrix struct {
	Name     string               `json:"name"`
	Params   []results.SweepParam `json:"params"` // nil: a comparison (no variant partition)
	Variants []Variant            `json:"-"`
	Pairs    []Pair               `json:"pairs"`
	Seeds    []uint64             `json:"seeds"`
	Baseline int                  `json:"baseline"` // cell index
	// CellSeeds[c], with a precision target, is the number of seeds cell c
	// ran: the first CellSeeds[c] of Seeds. nil: every cell ran every seed.
	CellSeeds []int `json:"cell_seeds,omitempty"`
}

func (m *matrix) cells() int { return len(m.Variants) * len(m.Pairs) }

// runs is the number of runs of the matrix: every cell with every seed,
// or, after a precision target, each cell with its own.
func (m *matrix) runs() int {
	if m.CellSeeds == nil {
		return m.cells() * len(m.Seeds)
	}
	n := 0
	for _, k := range m.CellSeeds {
		n += k
	}
	return n
}

// cellSeeds is the number of seeds cell c ran (all, without a precision
// target).
func (m *matrix) cellSeeds(c int) int {
	if m.CellSeeds == nil {
		return len(m.Seeds)
	}
	return m.CellSeeds[c]
}

func (m *matrix) cell(c int) Cell {
	return Cell{m.Variants[c/len(m.Pairs)].Name, m.Pairs[c%len(m.Pairs)]}
}

// RunDir is a run's folder in a comparison's or sweep's dataset (hive
// partitioning: key=value folders; variant= only in a sweep).
func RunDir(out string, c Cell, seed uint64) string {
	dir := out
	if c.Variant != "" {
		dir = filepath.Join(dir, "variant="+c.Variant)
	}
	return filepath.Join(dir, "allocator="+c.Allocator, "pricer="+c.Pricer, "seed="+strconv.FormatUint(seed, 10))
}

// ManifestFile is the file in a comparison's or sweep's folder that says
// which runs make it up, so that `neosim merge` knows when shards are
// complete.
const ManifestFile = "manifest.json"

// manifest is ManifestFile's content.
type manifest struct {
	matrix
	Variants []manifestVariant `json:"variants"`
}

type manifestVariant struct {
	Name     string `json:"name"`
	Values   []any  `json:"values"`
	Scenario string `json:"scenario_sha256"`
}

func (m *matrix) manifest() ([]byte, error) {
	man := manifest{matrix: *m}
	for _, v := range m.Variants {
		man.Variants = append(man.Variants, manifestVariant{v.Name, v.Values, v.digest})
	}
	b, err := json.MarshalIndent(man, "", "  ")
	return append(b, '\n'), err
}

// setDigests fingerprints every variant's resolved scenario (loaded, its
// defaults filled, marshalled).
func (m *matrix) setDigests() error {
	for i := range m.Variants {
		s, err := m.Variants[i].load()
		if err != nil {
			return err
		}
		s.EnsureDefaults()
		b, err := s.Marshal()
		if err != nil {
			return err
		}
		m.Variants[i].digest = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return nil
}

// readManifest reads dir's manifest; the variants it returns cannot load
// scenarios (merging needs only their names and values).
func readManifest(dir string) (*matrix, []byte, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (is %s the output folder of neosim sweep or compare?)", err, dir)
	}
	var man manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&man); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	m := man.matrix
	for _, v := range man.Variants {
		vals := make([]any, len(v.Values))
		for i, x := range v.Values {
			switch x := x.(type) {
			case json.Number:
				f, err := x.Float64()
				if err != nil {
					return nil, nil, fmt.Errorf("%s: variant %q: %w", path, v.Name, err)
				}
				vals[i] = f
			case string:
				vals[i] = x
			default:
				return nil, nil, fmt.Errorf("%s: variant %q: value %v is neither a number nor a string", path, v.Name, x)
			}
		}
		m.Variants = append(m.Variants, Variant{Name: v.Name, Values: vals, digest: v.Scenario})
	}
	if len(m.Variants) == 0 || len(m.Pairs) == 0 || len(m.Seeds) == 0 || m.Baseline < 0 || m.Baseline >= m.cells() {
		return nil, nil, fmt.Errorf("%s: no variants, pairs or seeds, or a baseline out of range", path)
	}
	if m.CellSeeds != nil {
		if len(m.CellSeeds) != m.cells() {
			return nil, nil, fmt.Errorf("%s: cell_seeds has %d entries, want one per cell (%d)", path, len(m.CellSeeds), m.cells())
		}
		for _, n := range m.CellSeeds {
			if n < 1 || n > len(m.Seeds) {
				return nil, nil, fmt.Errorf("%s: cell_seeds %d out of [1, %d]", path, n, len(m.Seeds))
			}
		}
	}
	return &m, b, nil
}

// writeManifest writes m's manifest to out, or checks that the one already
// there (another shard's) is the same. With replace (a whole comparison or
// sweep, run again into its folder with other settings), a different
// manifest is replaced and the run folders it lists are removed (the
// new runs rewrite them anyway, and none may be resumed), so that the folder
// holds one dataset; a shard never replaces one (shards of different sweeps
// in one folder are a mistake).
func (m *matrix) writeManifest(out string, replace bool) error {
	b, err := m.manifest()
	if err != nil {
		return err
	}
	path := filepath.Join(out, ManifestFile)
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, b):
		return nil
	case err == nil && !replace:
		return fmt.Errorf("%s describes another sweep or comparison: use another output folder, or remove it", path)
	case err == nil:
		if err := m.removeStale(out); err != nil {
			return err
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	return renameio.WriteFile(path, b, 0o644)
}

// removeStale removes the run folders of the comparison whose manifest is
// in out, and the folders they leave empty.
func (m *matrix) removeStale(out string) error {
	prev, _, err := readManifest(out)
	if err != nil {
		return err
	}
	for c := range prev.cells() {
		for _, seed := range prev.Seeds {
			dir := RunDir(out, prev.cell(c), seed)
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			// Remove fails, harmlessly, on a folder that is not empty.
			for p := filepath.Dir(dir); p != filepath.Clean(out) && os.Remove(p) == nil; p = filepath.Dir(p) {
			}
		}
	}
	return nil
}

// Shard is a slice of a matrix's runs: shard Index of Count (0 ≤ Index <
// Count). The zero value and {0, 1} mean every run.
type Shard struct{ Index, Count int }

func (s Shard) whole() bool { return s.Count <= 1 }

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// shardRuns returns the indexes of a shard's runs.
func (m *matrix) shardRuns(sh Shard) []int {
	var ks []int
	for k := range m.cells() * len(m.Seeds) {
		if sh.whole() || k%sh.Count == sh.Index {
			ks = append(ks, k)
		}
	}
	return ks
}

// RunDone reports one finished run of a comparison or sweep.
type RunDone struct {
	Cell
	Seed    uint64
	Out     string
	Wall    time.Duration // the run's
	Elapsed time.Duration // since the matrix started
	// Done and Total are the runs done and to do in this process (this
	// shard); with a precision target Total grows as seeds are added.
	Done, Total int
}

// execOptions are how to execute a matrix.
type execOptions struct {
	Out   string
	Jobs  int
	Shard Shard
	Warn  io.Writer
	Done  func(RunDone)
	Run   runner.Options // per-run options besides Out and Warn (e.g. the format)
	// Resume keeps the runs of this shard already complete in Out (in the
	// same format) and runs only the others.
	Resume bool
	// Precision, if set, adds seeds until every cell's net value is known
	// well enough (precision.go); not with shards or Resume.
	Precision Precision
}

// execute runs this shard's runs of m, opt.Jobs at once, and returns the
// metric values of each (values[cell][seed], nil for runs of other shards)
// and the summaries likewise. The first run error stops it.
func (m *matrix) execute(opt execOptions, prog *runCounter) (values [][][]float64, sums [][]results.Summary, err error) {
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, nil, err
	}
	// A stale table must not outlive a comparison that fails.
	if err := os.Remove(filepath.Join(opt.Out, results.ComparisonFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	if err := m.writeManifest(opt.Out, opt.Shard.whole()); err != nil {
		return nil, nil, err
	}
	nSeeds := len(m.Seeds)
	values = make([][][]float64, m.cells())
	sums = make([][]results.Summary, m.cells())
	for c := range values {
		values[c] = make([][]float64, nSeeds)
		sums[c] = make([]results.Summary, nSeeds)
	}
	mine := m.shardRuns(opt.Shard) // this shard's runs still to run
	if opt.Resume {
		var done map[int][]float64
		mine, done = m.resume(opt.Out, opt.Shard, opt.Run.Format)
		for k, v := range done {
			values[k/nSeeds][k%nSeeds] = v
		}
	}
	return values, sums, m.runAll(mine, values, sums, opt, prog)
}

// runCounter counts a matrix's finished runs for RunDone, across the
// rounds of a precision target.
type runCounter struct {
	started     time.Time
	done, total int
}

// runAll runs the runs ks of m (run k is cell k / len(m.Seeds), seed
// k % len(m.Seeds)), opt.Jobs at once, into values and sums. The first run
// error stops it.
func (m *matrix) runAll(ks []int, values [][][]float64, sums [][]results.Summary, opt execOptions, prog *runCounter) error {
	if len(ks) == 0 {
		return nil
	}
	nSeeds := len(m.Seeds)
	prog.total += len(ks)
	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	jobs = max(1, min(jobs, len(ks)))
	// With a run per core, runs go faster inline than piped (runner.Options.Inline).
	opt.Run.Inline = opt.Run.Inline || jobs > 1
	// Runs that differ only in the pricer share their counterfactual
	// (summaries only: runner.Counterfactuals).
	if opt.Run.Counterfactuals == nil {
		opt.Run.Counterfactuals = runner.NewCounterfactuals()
	}
	var (
		next   atomic.Int64 // index in ks of the next run to start
		failed atomic.Bool
		mu     sync.Mutex // guards errs, prog and calls to opt.Done
		warnMu sync.Mutex // serializes the runs' writes to opt.Warn
		errs   = make([]error, len(ks))
		wg     sync.WaitGroup
	)
	work := func() {
		defer wg.Done()
		for !failed.Load() {
			i := int(next.Add(1) - 1)
			if i >= len(ks) {
				return
			}
			k := ks[i]
			ci, si := k/nSeeds, k%nSeeds
			cell, seed := m.cell(ci), m.Seeds[si]
			dir := RunDir(opt.Out, cell, seed)
			res, err := m.runOne(ci, seed, dir, opt, runWarn(opt.Warn, &warnMu, cell, seed))
			mu.Lock()
			if err != nil {
				errs[i] = fmt.Errorf("run %s: %w", RunLabel(cell, seed), err)
				failed.Store(true)
			} else {
				values[ci][si] = results.MetricValues(&res.Summary)
				sums[ci][si] = res.Summary
				prog.done++
				if opt.Done != nil {
					opt.Done(RunDone{Cell: cell, Seed: seed, Out: dir, Wall: res.Wall, Elapsed: time.Since(prog.started), Done: prog.done, Total: prog.total})
				}
			}
			mu.Unlock()
		}
	}
	wg.Add(jobs)
	for range jobs {
		go work()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err // the first in run order, whatever finished first
		}
	}
	return nil
}

// resume splits a shard's runs into those still to run and those already
// complete in out, with their metric values.
func (m *matrix) resume(out string, sh Shard, format results.Format) (todo []int, done map[int][]float64) {
	done = map[int][]float64{}
	for _, k := range m.shardRuns(sh) {
		dir := RunDir(out, m.cell(k/len(m.Seeds)), m.Seeds[k%len(m.Seeds)])
		if v, ok := resumable(dir, format); ok {
			done[k] = v
		} else {
			todo = append(todo, k)
		}
	}
	return todo, done
}

// resumable returns the metric values of a complete run in dir written in
// format, or false if there is none (or it cannot be read: it is run again).
func resumable(dir string, format results.Format) ([]float64, bool) {
	if !complete(dir) {
		return nil, false
	}
	v, err := results.ReadMetricValues(filepath.Join(dir, format.File("summary")))
	return v, err == nil
}

// RunLabel names a run as its folder does: [variant=V ]allocator=A
// pricer=P seed=N.
func RunLabel(c Cell, seed uint64) string {
	s := fmt.Sprintf("allocator=%s pricer=%s seed=%d", c.Allocator, c.Pricer, seed)
	if c.Variant != "" {
		s = "variant=" + c.Variant + " " + s
	}
	return s
}

func (m *matrix) runOne(ci int, seed uint64, dir string, opt execOptions, warn io.Writer) (*runner.Result, error) {
	v := m.Variants[ci/len(m.Pairs)]
	pr := m.Pairs[ci%len(m.Pairs)]
	s, err := v.load()
	if err != nil {
		return nil, err
	}
	s.EnsureDefaults()
	if pr.Allocator != s.Allocator && !v.ownAllocParams {
		s.AllocatorParams = nil
	}
	if pr.Pricer != s.Pricer && !v.ownPricerParams {
		s.PricerParams = nil
	}
	s.Allocator, s.Pricer, s.Seed = pr.Allocator, pr.Pricer, seed
	ro := opt.Run
	ro.Out, ro.Warn = dir, warn
	return runner.Run(s, ro)
}

// runWarn returns a writer that passes a run's warnings to w, each line
// prefixed with the run's label, so that a warning among hundreds of runs
// (and two workers' interleaved lines) says which run it is about. Each
// Write goes to w in one call, under mu, which the writers of all the
// runs share. A nil w stays nil (warnings discarded).
func runWarn(w io.Writer, mu *sync.Mutex, c Cell, seed uint64) io.Writer {
	if w == nil {
		return nil
	}
	return &labelWriter{w: w, mu: mu, label: "run " + RunLabel(c, seed) + ": "}
}

type labelWriter struct {
	w     io.Writer
	mu    *sync.Mutex
	label string
}

func (l *labelWriter) Write(p []byte) (int, error) {
	var b []byte
	for line := range bytes.Lines(p) {
		b = append(append(b, l.label...), line...)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// rows aggregates values[cell][seed] into comparison rows.
func (m *matrix) rows(values [][][]float64) []results.ComparisonRow {
	rows := Aggregate(values, m.Baseline)
	for c := range rows {
		cell := m.cell(c)
		rows[c].Variant, rows[c].Allocator, rows[c].Pricer = cell.Variant, cell.Allocator, cell.Pricer
		if m.Params != nil {
			rows[c].Params = m.Variants[c/len(m.Pairs)].Values
		}
	}
	return rows
}

// metricIndex returns the index in results.ComparisonMetrics of the metric
// named name.
func metricIndex(name string) int {
	for i, m := range results.ComparisonMetrics {
		if m.Name == name {
			return i
		}
	}
	panic("experiment: no comparison metric " + name)
}

var (
	netValueIdx     = metricIndex("net_value")
	delayCausedIdx  = metricIndex("internal_delay_caused")
	allMetricsCount = len(results.ComparisonMetrics)
)

// Aggregate computes the comparison rows (all but the names) from
// values[cell][seed] (results.MetricValues of each run; cell c's runs are
// the first len(values[c]) seeds, and the baseline has at least as many
// as any cell): each metric's mean and 95% CI over the cell's seeds, the
// mean and CI of the per-seed differences against values[baseline] on
// those seeds, the Pareto frontier of (net value ↑, caused delay ↓), and
// which cells are tied with the best (see tiedWithBest).
func Aggregate(values [][][]float64, baseline int) []results.ComparisonRow {
	rows := make([]results.ComparisonRow, len(values))
	up := make([]float64, len(values))
	down := make([]float64, len(values))
	for c, runs := range values {
		rows[c].Runs = len(runs)
		rows[c].Metrics = make([]results.MetricStats, allMetricsCount)
		for mi := range allMetricsCount {
			st := &rows[c].Metrics[mi]
			st.Mean, st.CI95 = results.MeanCI95(column(runs, mi))
			st.DiffMean, st.DiffCI95 = pairedDiff(runs, values[baseline], mi)
		}
		up[c], down[c] = rows[c].Metrics[netValueIdx].Mean, rows[c].Metrics[delayCausedIdx].Mean
	}
	for c, on := range results.Pareto(up, down) {
		rows[c].Pareto = on
	}
	for c, tied := range tiedWithBest(values, netValueIdx) {
		rows[c].TiedWithBest = tied
	}
	return rows
}

// column returns metric mi of each run.
func column(runs [][]float64, mi int) []float64 {
	xs := make([]float64, len(runs))
	for k, r := range runs {
		xs[k] = r[mi]
	}
	return xs
}

// pairedDiff returns the mean and 95% CI half-width of metric mi's per-seed
// difference a − b over the seeds both have (the first min(len(a), len(b))).
func pairedDiff(a, b [][]float64, mi int) (mean, half float64) {
	n := min(len(a), len(b))
	d := make([]float64, n)
	for k := range n {
		d[k] = a[k][mi] - b[k][mi]
	}
	return results.MeanCI95(d)
}

// tiedWithBest marks the cell with the highest mean of metric mi and every
// cell the seeds cannot tell from it: the 95% CI of the paired per-seed
// difference (cell − best, over the seeds both have) spans 0, or has no
// width (fewer than 2 common seeds). The test is paired (common random
// numbers): the variation the cells share cancels, so it separates cells
// whose own intervals overlap. Cells without a mean are never tied.
func tiedWithBest(values [][][]float64, mi int) []bool {
	tied := make([]bool, len(values))
	best, bestMean := -1, math.Inf(-1)
	means := make([]float64, len(values))
	for c, runs := range values {
		means[c], _ = results.MeanCI95(column(runs, mi))
		if !math.IsNaN(means[c]) && means[c] > bestMean {
			best, bestMean = c, means[c]
		}
	}
	if best < 0 {
		return tied
	}
	for c, runs := range values {
		if math.IsNaN(means[c]) {
			continue
		}
		st := results.MetricStats{}
		st.DiffMean, st.DiffCI95 = pairedDiff(runs, values[best], mi)
		tied[c] = c == best || !st.DiffSignificant()
	}
	return tied
}
