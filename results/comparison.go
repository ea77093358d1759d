package results

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"gonum.org/v1/gonum/stat/distuv"

	"neosim/sim"
)

// ComparisonFile is the file name of a comparison's table (`neosim compare`).
const ComparisonFile = "comparison.arrow"

// Metric is one number taken from each run of a comparison.
type Metric struct {
	Name  string // column-name prefix, e.g. "operating_margin"
	Unit  string
	Doc   string
	Value func(*Summary) float64 // NaN: no value for this run
}

// econOr returns f(s.Econ), or NaN without a ledger report.
func econOr(s *Summary, f func(*Summary) float64) float64 {
	if s.Econ == nil {
		return math.NaN()
	}
	return f(s)
}

// ComparisonMetrics are the metrics of comparison.arrow, in column order.
var ComparisonMetrics = []Metric{
	{"external_revenue", "USD", "revenue from the external segments", func(s *Summary) float64 {
		return econOr(s, func(s *Summary) float64 { return s.Econ.ExternalRevenueUSD })
	}},
	{"gross_margin", "", "(revenue − external direct cost) / revenue", func(s *Summary) float64 {
		return econOr(s, func(s *Summary) float64 { return s.Econ.GrossMargin })
	}},
	{"operating_margin", "", "(revenue − external total cost) / revenue", func(s *Summary) float64 {
		return econOr(s, func(s *Summary) float64 { return s.Econ.OperatingMargin })
	}},
	{"utilization", "", "busy GPU-hours / capacity GPU-hours", func(s *Summary) float64 { return s.Utilization }},
	{"internal_wait_mean", "s", "mean wait of the internal jobs that started", func(s *Summary) float64 {
		return s.Segments[sim.SegInternal].Wait.MeanS
	}},
	{"internal_wait_p99", "s", "99th percentile wait of the internal jobs that started", func(s *Summary) float64 {
		return s.Segments[sim.SegInternal].Wait.P99S
	}},
	{"internal_slowdown_mean", "", "mean bounded slowdown of the completed internal jobs", func(s *Summary) float64 {
		return s.Segments[sim.SegInternal].SlowdownMean
	}},
	{"preemptions", "", "Σ jobs' preemptions", func(s *Summary) float64 { return float64(s.Preemptions) }},
	{"lost_gpu_hours", "GPU-h", "GPU-hours lost to preemptions and failures", func(s *Summary) float64 { return s.LostGPUHours }},
}

// MetricStats are one metric's statistics over a policy pair's seeds.
// A NaN is a null in comparison.arrow.
type MetricStats struct {
	Mean, CI95         float64
	DiffMean, DiffCI95 float64 // of the per-seed differences pair − baseline
}

// ComparisonRow is one (allocator, pricer) pair of a comparison.
type ComparisonRow struct {
	Allocator, Pricer string
	Runs              int
	Metrics           []MetricStats // in ComparisonMetrics order
	Pareto            bool
}

// MeanCI95 returns the mean of xs and the half-width of its 95% confidence
// interval, t(0.975, n−1) · s / √n with s the sample standard deviation
// (Student t). NaN values are skipped; the half-width is NaN when fewer
// than 2 values remain, and the mean is NaN when none does.
func MeanCI95(xs []float64) (mean, half float64) {
	var n, sum float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			n++
			sum += x
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	mean = sum / n
	if n < 2 {
		return mean, math.NaN()
	}
	var ss float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			ss += (x - mean) * (x - mean)
		}
	}
	sd := math.Sqrt(ss / (n - 1))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975)
	return mean, t * sd / math.Sqrt(n)
}

// Pareto marks the points on the Pareto frontier of (up ↑, down ↓): a
// point is on it unless another is at least as good on both and better on
// one. Points with a NaN coordinate are never on it.
func Pareto(up, down []float64) []bool {
	on := make([]bool, len(up))
	for i := range up {
		if math.IsNaN(up[i]) || math.IsNaN(down[i]) {
			continue
		}
		on[i] = true
		for j := range up {
			if j == i || math.IsNaN(up[j]) || math.IsNaN(down[j]) {
				continue
			}
			if up[j] >= up[i] && down[j] <= down[i] && (up[j] > up[i] || down[j] < down[i]) {
				on[i] = false
				break
			}
		}
	}
	return on
}

// ComparisonSchema is comparison.arrow's schema: allocator, pricer, runs,
// then for each metric <name>_mean, _ci95, _diff_mean, _diff_ci95, then
// pareto.
func ComparisonSchema() NamedSchema { return comparisonSchema }

var comparisonSchema = func() NamedSchema {
	cols := []Column{
		{"allocator", utf8, false, "", "allocation policy"},
		{"pricer", utf8, false, "", "pricing policy"},
		{"runs", i64, false, "", "runs (seeds) of the pair"},
	}
	for _, m := range ComparisonMetrics {
		cols = append(cols,
			Column{m.Name + "_mean", f64, true, m.Unit, "mean over seeds of " + m.Doc + "; null: no run had a value"},
			Column{m.Name + "_ci95", f64, true, m.Unit, "half-width of the mean's 95% Student-t interval; null with fewer than 2 values"},
			Column{m.Name + "_diff_mean", f64, true, m.Unit, "mean over seeds of (this pair − baseline), same seed"},
			Column{m.Name + "_diff_ci95", f64, true, m.Unit, "half-width of the difference's 95% Student-t interval"},
		)
	}
	cols = append(cols, Column{"pareto", arrow.FixedWidthTypes.Boolean, false, "",
		"on the Pareto frontier of (operating_margin_mean ↑, internal_wait_p99_mean ↓)"})
	return newSchema("comparison", ComparisonFile, "one row per (allocator, pricer) pair of `neosim compare`", cols)
}()

// WriteComparison writes rows to dir/comparison.arrow through a temporary
// file renamed into place, so that a reader never sees a partial file.
func WriteComparison(dir string, rows []ComparisonRow) (err error) {
	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, comparisonSchema.Schema)
	defer b.Release()
	f64or := func(fb *array.Float64Builder, v float64) {
		if math.IsNaN(v) {
			fb.AppendNull()
		} else {
			fb.Append(v)
		}
	}
	for _, r := range rows {
		if len(r.Metrics) != len(ComparisonMetrics) {
			panic("results: comparison row with the wrong number of metrics")
		}
		b.Field(0).(*array.StringBuilder).Append(r.Allocator)
		b.Field(1).(*array.StringBuilder).Append(r.Pricer)
		b.Field(2).(*array.Int64Builder).Append(int64(r.Runs))
		for i, m := range r.Metrics {
			f64or(b.Field(3+4*i).(*array.Float64Builder), m.Mean)
			f64or(b.Field(4+4*i).(*array.Float64Builder), m.CI95)
			f64or(b.Field(5+4*i).(*array.Float64Builder), m.DiffMean)
			f64or(b.Field(6+4*i).(*array.Float64Builder), m.DiffCI95)
		}
		b.Field(3 + 4*len(ComparisonMetrics)).(*array.BooleanBuilder).Append(r.Pareto)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	final := filepath.Join(dir, ComparisonFile)
	tmp := filepath.Join(dir, "."+ComparisonFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	buf := bufio.NewWriter(f)
	w, err := ipc.NewFileWriter(buf, ipc.WithSchema(comparisonSchema.Schema), ipc.WithAllocator(mem))
	if err != nil {
		return fmt.Errorf("results: %s: %w", tmp, err)
	}
	if err := w.Write(rec); err != nil {
		return fmt.Errorf("results: writing %s: %w", tmp, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("results: closing %s: %w", tmp, err)
	}
	if err := buf.Flush(); err != nil {
		return fmt.Errorf("results: writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("results: syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("results: closing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	return nil
}
