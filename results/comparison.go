package results

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"gonum.org/v1/gonum/stat/distuv"
)

// ComparisonFile is the file name of a comparison's table (`neosim compare`).
const ComparisonFile = "comparison.arrow"

// Metric is one number taken from each run of a comparison: a numeric
// column of summary.arrow, so that a comparison computed from the runs in
// memory and one computed from their files (`neosim merge`) agree exactly.
type Metric struct {
	Name   string // column-name prefix in comparison.arrow, e.g. "operating_margin"
	Column string // the summary.arrow column it is read from
	// Minus, if set, is a second summary.arrow column subtracted from
	// Column's value (a derived metric such as the caused slowdown).
	Minus string
	Unit  string
	Doc   string
}

// ComparisonMetrics are the metrics of comparison.arrow, in column order.
var ComparisonMetrics = []Metric{
	{"external_revenue", "external_revenue_usd", "", "USD", "revenue from the external segments"},
	{"gross_margin", "gross_margin", "", "", "(revenue − external direct cost) / revenue"},
	{"operating_margin", "operating_margin", "", "", "(revenue − external cash cost) / revenue"},
	{"net_value", "net_value_usd", "", "USD", "revenue − external direct cost − support − the internal delay selling caused, in dollars (a decision metric)"},
	{"internal_delay_caused", "internal_delay_caused_gpu_hours", "", "GPU-h", "internal waiting selling added, against the same run without external demand (a decision metric)"},
	{"internal_slowdown_counterfactual", "slowdown_mean_internal_counterfactual", "", "", "mean bounded slowdown of the completed internal jobs without external demand"},
	{"utilization", "utilization", "", "", "busy GPU-hours / capacity GPU-hours"},
	{"internal_wait_mean", "wait_mean_s_internal", "", "s", "mean wait of the internal jobs that started"},
	{"internal_wait_p99", "wait_p99_s_internal", "", "s", "99th percentile wait of the internal jobs that started (a noisy statistic: a tail quantile over few seeds; not for ranking)"},
	{"internal_slowdown_mean", "slowdown_mean_internal", "", "", "mean bounded slowdown of the completed internal jobs (a decision metric)"},
	{"preemptions", "preemptions", "", "", "Σ jobs' preemptions"},
	{"lost_gpu_hours", "lost_gpu_hours", "", "GPU-h", "GPU-hours lost to preemptions and failures"},
	{"internal_slowdown_caused", "slowdown_mean_internal", "slowdown_mean_internal_counterfactual", "", "internal mean bounded slowdown minus the same run's without external demand (a decision metric)"},
	{"company_margin_with_cloud", "company_margin_with_cloud", "", "", "the company's operating margin with the cloud business (without it: company_margin_without_cloud in summary.arrow)"},
	{"company_margin_delta", "company_margin_delta_pts", "", "pt", "company margin with the cloud − without it, in percentage points"},
	{"return_on_capital", "return_on_capital", "", "", "the cloud's annualized operating profit / the capital it uses"},
}

// metricColumns[i] are ComparisonMetrics[i]'s Column and Minus indexes in
// summaryColumns (Minus: -1 when unset).
var metricColumns = func() [][2]int {
	find := func(m Metric, name string) int {
		for k, c := range summaryColumns {
			if c.Name == name {
				return k
			}
		}
		panic("results: comparison metric " + m.Name + " reads the unknown summary column " + name)
	}
	idx := make([][2]int, len(ComparisonMetrics))
	for i, m := range ComparisonMetrics {
		idx[i] = [2]int{find(m, m.Column), -1}
		if m.Minus != "" {
			idx[i][1] = find(m, m.Minus)
		}
	}
	return idx
}()

// MetricValues returns the value of each of ComparisonMetrics for a run (NaN:
// no value), exactly as ReadMetricValues reads them back from its
// summary.arrow.
func MetricValues(s *Summary) []float64 {
	num := func(i, k int) float64 {
		switch v := summaryColumns[k].val(s).(type) {
		case float64:
			return v
		case int64:
			return float64(v)
		}
		panic("results: comparison metric " + ComparisonMetrics[i].Name + " is not numeric")
	}
	vals := make([]float64, len(ComparisonMetrics))
	for i, k := range metricColumns {
		vals[i] = num(i, k[0])
		if k[1] >= 0 {
			vals[i] -= num(i, k[1])
		}
	}
	return vals
}

// RunSummaryFile returns the path of the summary file of the run in dir:
// summary.arrow or summary.parquet, whichever the run wrote.
func RunSummaryFile(dir string) (string, error) {
	path := DataFile(dir, "summary")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("results: %s has no summary file (%s or %s)", dir, FormatArrow.File("summary"), FormatParquet.File("summary"))
	}
	return path, nil
}

// ReadMetricValues reads the value of each of ComparisonMetrics from a
// run's summary file (summary.arrow or summary.parquet; one row; a null is
// NaN).
func ReadMetricValues(path string) ([]float64, error) {
	r, err := OpenBatches(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	rec, err := r.Next()
	if err == io.EOF {
		return nil, fmt.Errorf("results: %s: no rows, want 1 (a summary file has one row)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	if rec.NumRows() != 1 {
		return nil, fmt.Errorf("results: %s: %d rows, want 1", path, rec.NumRows())
	}
	column := func(name string) (float64, error) {
		idx := rec.Schema().FieldIndices(name)
		if len(idx) != 1 {
			return 0, fmt.Errorf("results: %s: no column %q (written by an older neosim?)", path, name)
		}
		col := rec.Column(idx[0])
		if col.IsNull(0) {
			return math.NaN(), nil
		}
		switch col := col.(type) {
		case *array.Float64:
			return col.Value(0), nil
		case *array.Int64:
			return float64(col.Value(0)), nil
		}
		return 0, fmt.Errorf("results: %s: column %q is %s, want float64 or int64", path, name, col.DataType())
	}
	vals := make([]float64, len(ComparisonMetrics))
	for i, m := range ComparisonMetrics {
		if vals[i], err = column(m.Column); err != nil {
			return nil, err
		}
		if m.Minus != "" {
			minus, err := column(m.Minus)
			if err != nil {
				return nil, err
			}
			vals[i] -= minus
		}
	}
	return vals, nil
}

// MetricStats are one metric's statistics over a policy pair's seeds.
// A NaN is a null in comparison.arrow.
type MetricStats struct {
	Mean, CI95         float64
	DiffMean, DiffCI95 float64 // of the per-seed differences pair − baseline
}

// DiffSignificant reports whether the 95% CI of the paired difference
// against the baseline excludes 0: false when it spans 0 (not significant:
// the seeds cannot tell the pair from the baseline) or has no width (fewer
// than 2 seeds, or no values).
func (s MetricStats) DiffSignificant() bool {
	return !math.IsNaN(s.DiffCI95) && !math.IsNaN(s.DiffMean) && math.Abs(s.DiffMean) > s.DiffCI95
}

// ComparisonRow is one (allocator, pricer) pair of a comparison, or one
// (variant, allocator, pricer) cell of a sweep.
type ComparisonRow struct {
	// Variant names the sweep variant ("" in a comparison) and Params are
	// its parameter values (float64 or string), in the order of the sweep's
	// parameters.
	Variant           string
	Params            []any
	Allocator, Pricer string
	// Runs is the number of seeds the row's statistics are over: the first
	// Runs of the comparison's seeds (with a precision target, each row's
	// own number).
	Runs    int
	Metrics []MetricStats // in ComparisonMetrics order
	// Pareto: on the frontier of (net value ↑, caused delay ↓).
	Pareto bool
	// TiedWithBest: the row with the highest mean net value, or one the
	// seeds cannot tell from it (the 95% CI of the paired difference in
	// net value spans 0).
	TiedWithBest bool
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
// pareto and tied_with_best.
func ComparisonSchema() NamedSchema { return comparisonSchema }

var comparisonSchema = func() NamedSchema {
	cols := []Column{
		{"allocator", utf8, false, "", "allocation policy"},
		{"pricer", utf8, false, "", "pricing policy"},
		{"runs", i64, false, "", "runs (seeds) of the pair: the first `runs` seeds (with --precision, the seeds this pair needed)"},
	}
	for _, m := range ComparisonMetrics {
		cols = append(cols,
			Column{m.Name + "_mean", f64, true, m.Unit, "mean over seeds of " + m.Doc + "; null: no run had a value"},
			Column{m.Name + "_ci95", f64, true, m.Unit, "half-width of the mean's 95% Student-t interval; null with fewer than 2 values"},
			Column{m.Name + "_diff_mean", f64, true, m.Unit, "mean over seeds of (this pair − baseline), same seed"},
			Column{m.Name + "_diff_ci95", f64, true, m.Unit, "half-width of the difference's 95% Student-t interval"},
		)
	}
	cols = append(cols,
		Column{"pareto", arrow.FixedWidthTypes.Boolean, false, "",
			"on the Pareto frontier of (net_value_mean ↑, internal_delay_caused_mean ↓)"},
		Column{"tied_with_best", arrow.FixedWidthTypes.Boolean, false, "",
			"the highest net_value_mean, or indistinguishable from it (paired 95% CI of the difference spans 0)"})
	return newSchema("comparison", ComparisonFile, "one row per (allocator, pricer) pair of `neosim compare`", cols)
}()

// SweepParam is a swept scenario parameter: a column of a sweep's
// comparison.arrow, float64 if every value is a number, else utf8.
type SweepParam struct {
	Path    string `json:"path"` // e.g. "allocator_params.internal_share"
	Numeric bool   `json:"numeric"`
}

// WriteComparison writes rows to dir/comparison.arrow through a temporary
// file renamed into place, so that a reader never sees a partial file. With
// params (a sweep), the table starts with a `variant` column and one column
// per parameter, named by its path, before ComparisonSchema's columns.
func WriteComparison(dir string, params []SweepParam, rows []ComparisonRow) error {
	mem := memory.NewGoAllocator()
	schema := comparisonSchema.Schema
	lead := 0
	if params != nil {
		fields := []arrow.Field{{Name: "variant", Type: utf8}}
		for _, p := range params {
			typ := arrow.DataType(utf8)
			if p.Numeric {
				typ = f64
			}
			fields = append(fields, arrow.Field{Name: p.Path, Type: typ})
		}
		lead = len(fields)
		md := schema.Metadata()
		schema = arrow.NewSchema(append(fields, schema.Fields()...), &md)
	}
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	f64or := func(fb *array.Float64Builder, v float64) {
		if math.IsNaN(v) {
			fb.AppendNull()
		} else {
			fb.Append(v)
		}
	}
	for _, r := range rows {
		if len(r.Metrics) != len(ComparisonMetrics) || (params != nil && len(r.Params) != len(params)) {
			panic("results: comparison row with the wrong number of metrics or parameters")
		}
		if params != nil {
			b.Field(0).(*array.StringBuilder).Append(r.Variant)
			for i, v := range r.Params {
				switch v := v.(type) {
				case float64:
					b.Field(1 + i).(*array.Float64Builder).Append(v)
				case string:
					b.Field(1 + i).(*array.StringBuilder).Append(v)
				default:
					panic(fmt.Sprintf("results: sweep parameter value %v (%T)", v, v))
				}
			}
		}
		b.Field(lead + 0).(*array.StringBuilder).Append(r.Allocator)
		b.Field(lead + 1).(*array.StringBuilder).Append(r.Pricer)
		b.Field(lead + 2).(*array.Int64Builder).Append(int64(r.Runs))
		for i, m := range r.Metrics {
			f64or(b.Field(lead+3+4*i).(*array.Float64Builder), m.Mean)
			f64or(b.Field(lead+4+4*i).(*array.Float64Builder), m.CI95)
			f64or(b.Field(lead+5+4*i).(*array.Float64Builder), m.DiffMean)
			f64or(b.Field(lead+6+4*i).(*array.Float64Builder), m.DiffCI95)
		}
		b.Field(lead + 3 + 4*len(ComparisonMetrics)).(*array.BooleanBuilder).Append(r.Pareto)
		b.Field(lead + 4 + 4*len(ComparisonMetrics)).(*array.BooleanBuilder).Append(r.TiedWithBest)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	return WriteArrowFile(filepath.Join(dir, ComparisonFile), rec)
}
