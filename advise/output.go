package advise

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/renameio/v2"

	"neosim/results"
	"neosim/runner"
	"neosim/sim"
)

// SchemaVersion is the version of advice.json and advice.arrow
// (docs/output-schema.md, "advise"), stored as advice.json's
// advice_schema_version and in advice.arrow's schema metadata.
const SchemaVersion = "1"

// Output file names.
const (
	AdviceJSON   = "advice.json"
	AdviceArrow  = "advice.arrow"
	ReportHTML   = "report.html"
	metaVersion  = "neosim.advice_schema_version"
	metaFileKey  = "neosim.file"
	metaFileName = "advice"
)

// Stat is a measure's mean over a candidate's seeds and the half-width of
// its 95% confidence interval (Student t); NaN is null in the files.
type Stat struct{ Mean, CI95 float64 }

// MarshalJSON writes {"mean": …, "ci95": …}, NaN as null.
func (s Stat) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]*float64{"mean": num(s.Mean), "ci95": num(s.CI95)})
}

func num(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// stat computes f's Stat over obs.
func statOf(obs []Obs, f func(*Obs) float64) Stat {
	xs := make([]float64, len(obs))
	for i := range obs {
		xs[i] = f(&obs[i])
	}
	m, h := results.MeanCI95(xs)
	return Stat{m, h}
}

// measure is one column family of advice.arrow and a key of advice.json.
type measure struct {
	name string
	f    func(*Obs) float64
}

var measures = []measure{
	{"net_value_usd_per_month", netValue},
	{"internal_delay_caused_gpu_hours_per_month", delayCaused},
	{"internal_slowdown_increase", slowdownIncrease},
	{"external_revenue_usd_per_month", func(o *Obs) float64 { return o.ExternalRevenue }},
	{"gross_margin", func(o *Obs) float64 { return o.GrossMargin }},
	{"operating_margin", func(o *Obs) float64 { return o.OperatingMargin }},
	{"utilization", func(o *Obs) float64 { return o.Utilization }},
	{"company_margin_with_cloud", func(o *Obs) float64 { return o.CompanyMarginWith }},
	{"company_margin_without_cloud", func(o *Obs) float64 { return o.CompanyMarginWithout }},
}

// Stats returns the candidate's statistics by measure name.
func (c *CandidateResult) Stats() map[string]Stat {
	out := make(map[string]Stat, len(measures))
	for _, m := range measures {
		out[m.name] = statOf(c.Obs, m.f)
	}
	return out
}

// decision is a candidate as advice.json writes it.
type decision struct {
	Candidate       int      `json:"candidate"`
	InternalShare   *float64 `json:"internal_share"`
	PriceMultiplier float64  `json:"price_multiplier"`
	Allocator       string   `json:"allocator"`
	Pricer          string   `json:"pricer"`
}

func (r *Result) decision(i int) *decision {
	if i < 0 {
		return nil
	}
	c := r.Candidates[i]
	return &decision{i, num(c.Share), c.Multiplier, c.Allocator, c.Pricer}
}

// Advice is advice.json (docs/output-schema.md, "advise").
type Advice struct {
	SchemaVersion  string    `json:"advice_schema_version"`
	NeosimVersion  string    `json:"neosim_version"`
	Scenario       string    `json:"scenario"`
	Recommended    *decision `json:"recommended"`
	Recommendation string    `json:"recommendation"`
	NetValue       *Stat     `json:"net_value_usd_per_month"`
	DelayCaused    *Stat     `json:"internal_delay_caused_gpu_hours_per_month"`
	Slowdown       *Stat     `json:"internal_slowdown_increase"`
	Revenue        *Stat     `json:"external_revenue_usd_per_month"`
	GrossMargin    *Stat     `json:"gross_margin"`
	OperatingMrg   *Stat     `json:"operating_margin"`
	// The company's margin with and without the cloud business: null
	// until the summary carries the company view (docs/output-schema.md).
	CompanyMarginWith    *Stat      `json:"company_margin_with_cloud"`
	CompanyMarginWithout *Stat      `json:"company_margin_without_cloud"`
	Separated            bool       `json:"separated"`
	Stop                 string     `json:"stop"`
	Tied                 []decision `json:"tied"`
	Identical            []decision `json:"identical"`
	Method               string     `json:"method"`
	Alpha                float64    `json:"alpha"`
	Indifference         float64    `json:"indifference_usd_per_month"`
	FirstStage           int        `json:"first_stage_seeds"`
	Bounds               struct {
		MaxDelay    *float64 `json:"max_delay_gpu_hours_per_month"`
		MaxSlowdown *float64 `json:"max_slowdown_increase"`
		Tolerance   float64  `json:"tolerance"`
	} `json:"bounds"`
	Budget struct {
		Runs      *int     `json:"runs"`
		TimeS     *float64 `json:"time_s"`
		RunsUsed  int      `json:"runs_used"`
		WallS     float64  `json:"wall_s"`
		Jobs      int      `json:"jobs"`
		Exhausted bool     `json:"exhausted"`
	} `json:"budget"`
	SeedBase          uint64      `json:"seed_base"`
	SeedsPerCandidate []seedCount `json:"seeds_per_candidate"`
	HorizonS          float64     `json:"horizon_s"`
	WarmupS           float64     `json:"warmup_s"`
	MonthDays         int         `json:"month_days"`
	Command           string      `json:"command"`
}

type seedCount struct {
	Candidate int    `json:"candidate"`
	Label     string `json:"label"`
	Seeds     int    `json:"seeds"`
	Status    string `json:"status"`
}

// Advice builds advice.json's content; command is the command line that
// reproduces it.
func (r *Result) Advice(command string) *Advice {
	a := &Advice{SchemaVersion: SchemaVersion, NeosimVersion: runner.Version, Scenario: r.Base.Name,
		Recommended: r.decision(r.Recommended), Recommendation: r.Sentence(), Separated: r.Separated, Stop: r.Stop,
		Tied: []decision{}, Identical: []decision{}, Method: Method, Alpha: r.Options.Alpha, Indifference: r.Delta,
		FirstStage: r.Options.FirstStage, SeedBase: r.Options.SeedBase, HorizonS: sim.Time(r.Base.Horizon).Seconds(),
		WarmupS: sim.Time(r.Base.Warmup).Seconds(), MonthDays: 30, Command: command}
	if r.Recommended >= 0 {
		st := r.Candidates[r.Recommended].Stats()
		pick := func(name string) *Stat { s := st[name]; return &s }
		a.NetValue, a.DelayCaused, a.Slowdown = pick(measures[0].name), pick(measures[1].name), pick(measures[2].name)
		a.Revenue, a.GrossMargin, a.OperatingMrg = pick(measures[3].name), pick(measures[4].name), pick(measures[5].name)
		a.CompanyMarginWith, a.CompanyMarginWithout = pick("company_margin_with_cloud"), pick("company_margin_without_cloud")
	}
	for _, i := range r.Tied {
		a.Tied = append(a.Tied, *r.decision(i))
	}
	for _, i := range r.Identical {
		a.Identical = append(a.Identical, *r.decision(i))
	}
	a.Bounds.MaxDelay, a.Bounds.MaxSlowdown = num(r.Options.MaxDelayGPUHoursPerMonth), num(r.Options.MaxSlowdownIncrease)
	a.Bounds.Tolerance = r.Options.Tolerance
	if r.Options.BudgetRuns > 0 {
		a.Budget.Runs = &r.Options.BudgetRuns
	}
	if r.Options.BudgetTime > 0 {
		a.Budget.TimeS = num(r.Options.BudgetTime.Seconds())
	}
	a.Budget.RunsUsed, a.Budget.WallS, a.Budget.Jobs = r.Runs, r.Wall.Seconds(), r.Options.Jobs
	a.Budget.Exhausted = strings.HasPrefix(r.Stop, "budget")
	for i := range r.Candidates {
		c := &r.Candidates[i]
		a.SeedsPerCandidate = append(a.SeedsPerCandidate, seedCount{i, c.Label(), len(c.Obs), r.status(i)})
	}
	return a
}

// status is a candidate's status column: recommended, tied, eliminated,
// infeasible or identical.
func (r *Result) status(i int) string {
	switch {
	case i == r.Recommended:
		return "recommended"
	case contains(r.Identical, i):
		return "identical"
	case contains(r.Tied, i):
		return "tied"
	}
	return r.Candidates[i].Status.String()
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Sentence is the recommendation in one sentence.
func (r *Result) Sentence() string {
	if r.Recommended < 0 {
		return "No candidate meets the delay budget: sell nothing, or relax the budget (" + r.Stop + ")."
	}
	c := r.Candidates[r.Recommended]
	st := c.Stats()
	nv, d := st[measures[0].name], st[measures[1].name]
	var what string
	if math.IsNaN(c.Share) {
		what = fmt.Sprintf("Use the %s allocator", c.Allocator)
	} else {
		what = fmt.Sprintf("Keep %s of the fleet for internal training (sell up to %s)", pct(c.Share), pct(1-c.Share))
	}
	sep := "separated from every other candidate at 95%"
	if !r.Separated {
		sep = fmt.Sprintf("not separated: %s, %d other candidate(s) still tied", r.Stop, len(r.Tied))
	}
	return fmt.Sprintf("%s at %s× list prices (%s pricer): net value %s ± %s per month, internal delay caused %s ± %s GPU-hours per month (%s).",
		what, fmtNum(c.Multiplier), c.Pricer, usd(nv.Mean), usd(nv.CI95), grouped(d.Mean), grouped(d.CI95), sep)
}

func pct(x float64) string { return fmtNum(math.Round(x*1000)/10) + "%" }

// usd prints dollars with thousands separators.
func usd(x float64) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	if x < 0 {
		return "−$" + grouped(-x)
	}
	return "$" + grouped(x)
}

// grouped prints x rounded to a whole number with thousands separators.
func grouped(x float64) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	neg := x < 0
	s := fmt.Sprintf("%.0f", math.Abs(x))
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	if neg && s != "0" {
		return "−" + b.String()
	}
	return b.String()
}

// WriteJSON writes advice.json into dir.
func (r *Result) WriteJSON(dir, command string) error {
	b, err := json.MarshalIndent(r.Advice(command), "", "  ")
	if err != nil {
		return err
	}
	return renameio.WriteFile(filepath.Join(dir, AdviceJSON), append(b, '\n'), 0o644)
}

// ArrowSchema is advice.arrow's schema: one row per candidate.
func ArrowSchema() *arrow.Schema {
	fields := []arrow.Field{
		{Name: "candidate", Type: arrow.PrimitiveTypes.Int64},
		{Name: "allocator", Type: arrow.BinaryTypes.String},
		{Name: "pricer", Type: arrow.BinaryTypes.String},
		{Name: "internal_share", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "price_multiplier", Type: arrow.PrimitiveTypes.Float64},
		{Name: "seeds", Type: arrow.PrimitiveTypes.Int64},
		{Name: "status", Type: arrow.BinaryTypes.String},
		{Name: "decided_at_seeds", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "delay_bound", Type: arrow.BinaryTypes.String},
		{Name: "slowdown_bound", Type: arrow.BinaryTypes.String},
		{Name: "net_value_vs_recommended_usd_per_month_mean", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "net_value_vs_recommended_usd_per_month_ci95", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}
	for _, m := range measures {
		fields = append(fields,
			arrow.Field{Name: m.name + "_mean", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
			arrow.Field{Name: m.name + "_ci95", Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	}
	md := arrow.NewMetadata([]string{metaVersion, metaFileKey}, []string{SchemaVersion, metaFileName})
	return arrow.NewSchema(fields, &md)
}

// WriteArrow writes advice.arrow into dir.
func (r *Result) WriteArrow(dir string) error {
	b := array.NewRecordBuilder(memory.NewGoAllocator(), ArrowSchema())
	defer b.Release()
	f64 := func(i int, v float64) {
		fb := b.Field(i).(*array.Float64Builder)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			fb.AppendNull()
		} else {
			fb.Append(v)
		}
	}
	for i := range r.Candidates {
		c := &r.Candidates[i]
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(c.Allocator)
		b.Field(2).(*array.StringBuilder).Append(c.Pricer)
		f64(3, c.Share)
		f64(4, c.Multiplier)
		b.Field(5).(*array.Int64Builder).Append(int64(len(c.Obs)))
		b.Field(6).(*array.StringBuilder).Append(r.status(i))
		if c.DecidedAt > 0 {
			b.Field(7).(*array.Int64Builder).Append(int64(c.DecidedAt))
		} else {
			b.Field(7).AppendNull()
		}
		b.Field(8).(*array.StringBuilder).Append(c.Delay.String())
		b.Field(9).(*array.StringBuilder).Append(c.Slowdown.String())
		d := r.diffStat(i, netValue)
		f64(10, d.Mean)
		f64(11, d.CI95)
		for k, m := range measures {
			s := statOf(c.Obs, m.f)
			f64(12+2*k, s.Mean)
			f64(13+2*k, s.CI95)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return results.WriteArrowFile(filepath.Join(dir, AdviceArrow), rec)
}

// Write writes every output into dir (made if needed): advice.json,
// advice.arrow, the plots and report.html. It returns the files written.
func (r *Result) Write(dir, command string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := r.WriteJSON(dir, command); err != nil {
		return nil, err
	}
	if err := r.WriteArrow(dir); err != nil {
		return nil, err
	}
	figs, err := r.Figures()
	if err != nil {
		return nil, err
	}
	files := []string{filepath.Join(dir, AdviceJSON), filepath.Join(dir, AdviceArrow)}
	for _, f := range figs {
		for _, ext := range []string{".png", ".svg"} {
			data := f.PNG
			if ext == ".svg" {
				data = f.SVG
			}
			p := filepath.Join(dir, f.Name+ext)
			if err := renameio.WriteFile(p, data, 0o644); err != nil {
				return nil, err
			}
			files = append(files, p)
		}
	}
	if err := r.WriteReport(dir, command, figs); err != nil {
		return nil, err
	}
	return append(files, filepath.Join(dir, ReportHTML)), nil
}
