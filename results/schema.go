package results

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/apache/arrow-go/v18/arrow"

	"neosim/sim"
	"neosim/sim/econ"
	"neosim/sim/fleet"
)

// SchemaVersion is the version of the output schema, stored in every .arrow
// file's schema metadata under MetaSchemaVersion and in run.json. Adding a
// column keeps it; renaming, removing or repurposing a column, or changing
// its type or unit, bumps it.
const SchemaVersion = "4"

// Schema metadata keys of every .arrow file.
const (
	MetaSchemaVersion = "neosim.schema_version" // SchemaVersion
	MetaFile          = "neosim.file"           // "jobs", "timeseries" or "summary"
)

// File names in a run folder.
const (
	JobsFile       = "jobs.arrow"
	TimeseriesFile = "timeseries.arrow"
	SummaryFile    = "summary.arrow"
	RunFile        = "run.json"
)

// Column describes one column of an output file.
type Column struct {
	Name     string
	Type     arrow.DataType
	Nullable bool
	Unit     string // "s", "GPUs", "USD", …; "" for names, counts and codes
	Doc      string // one line; says what a null means when Nullable
}

// NamedSchema is one output file's schema with its column documentation.
type NamedSchema struct {
	Name    string // the MetaFile value: "jobs", "timeseries", "summary"
	File    string // file name in the run folder, e.g. "jobs.arrow"
	Doc     string // what a row is
	Schema  *arrow.Schema
	Columns []Column // in schema order
}

// Schemas returns the three .arrow files' schemas, in the order jobs,
// timeseries, summary. The result is shared: do not modify it.
func Schemas() []NamedSchema {
	return []NamedSchema{jobsSchema, timeseriesSchema, summarySchema}
}

// FormatSchemas writes the schemas as text tables (for `neosim schema`).
func FormatSchemas(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "output schema version %s (metadata key %s)\n", SchemaVersion, MetaSchemaVersion)
	for _, s := range append(Schemas(), comparisonSchema) {
		fmt.Fprintf(tw, "\n%s: %s\n", s.File, s.Doc)
		if s.File == ComparisonFile {
			fmt.Fprintf(tw, "  (a sweep's starts with variant utf8 and one column per swept scenario path, docs/scale-out.md)\n")
		}
		fmt.Fprintf(tw, "  column\ttype\tunit\tdescription\n")
		for _, c := range s.Columns {
			typ := c.Type.String()
			if c.Nullable {
				typ += "?"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Name, typ, c.Unit, c.Doc)
		}
	}
	fmt.Fprintf(tw, "\n(type? = nullable)\n")
	return tw.Flush()
}

func newSchema(name, file, doc string, cols []Column) NamedSchema {
	fields := make([]arrow.Field, len(cols))
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		if seen[c.Name] {
			panic("results: duplicate column " + c.Name + " in " + file)
		}
		seen[c.Name] = true
		fields[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: c.Nullable}
	}
	md := arrow.NewMetadata([]string{MetaSchemaVersion, MetaFile}, []string{SchemaVersion, name})
	return NamedSchema{Name: name, File: file, Doc: doc, Schema: arrow.NewSchema(fields, &md), Columns: cols}
}

// colName turns a segment or state name into a column-name suffix
// ("on-demand" → "on_demand").
func colName(s string) string { return strings.ReplaceAll(s, "-", "_") }

var (
	utf8    = arrow.BinaryTypes.String
	i32     = arrow.PrimitiveTypes.Int32
	i64     = arrow.PrimitiveTypes.Int64
	u64     = arrow.PrimitiveTypes.Uint64
	f64     = arrow.PrimitiveTypes.Float64
	boolean = arrow.FixedWidthTypes.Boolean
	// dict is a string column of a few known values, dictionary-encoded
	// with int8 indices and one fixed dictionary for the whole file
	// (DictValues): segment, state, gpu_type.
	dict    = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	segList = func() string {
		var n []string
		for s := sim.SegInternal; s < sim.NumSegments; s++ {
			n = append(n, s.String())
		}
		return strings.Join(n, ", ")
	}()
	stateList = func() string {
		var n []string
		for s := sim.State(0); s < sim.NumStates; s++ {
			n = append(n, s.String())
		}
		return strings.Join(n, ", ")
	}()
)

// DictValues returns the fixed dictionary of a dictionary-encoded column
// of jobs.arrow ("segment", "state", "gpu_type"), in index order, or nil
// for another column: every batch of a file carries the same dictionary
// (the Arrow IPC file format allows one per column).
func DictValues(column string) []string {
	var v []string
	switch column {
	case "segment":
		for s := range sim.NumSegments {
			v = append(v, s.String())
		}
	case "state":
		for s := range sim.NumStates {
			v = append(v, s.String())
		}
	case "gpu_type":
		for _, t := range fleet.Catalog {
			v = append(v, t.Name)
		}
	}
	return v
}

// Column indexes of jobs.arrow, in schema order.
const (
	jcID = iota
	jcSegment
	jcTenant
	jcGPUs
	jcMilli
	jcPriority
	jcGPUType
	jcSubmit
	jcStart
	jcEnd
	jcWait
	jcRun
	jcWork
	jcState
	jcReason
	jcPreemptions
	jcFailures
	jcGPUHours
	jcPrice
	jcRevenue
	jcLostGPUHours
	jcCustomer
	jcWaitCF
	jcInWindow
	jcTokens
	jcCount
)

var jobsSchema = newSchema("jobs", JobsFile, "one row per job, in the order jobs reached a terminal state", []Column{
	jcID:           {"job_id", utf8, false, "", "the job's ID from its trace or generator"},
	jcSegment:      {"segment", dict, false, "", "who the job is for: " + segList},
	jcTenant:       {"tenant", utf8, false, "", "team or customer; may be empty"},
	jcGPUs:         {"gpus", i32, false, "GPUs", "GPUs requested"},
	jcMilli:        {"gpu_milli", i32, false, "milli-GPU", "share of each GPU, 1..1000 (1000 = whole GPUs)"},
	jcPriority:     {"priority", i32, false, "", "priority from the source (larger = more important)"},
	jcGPUType:      {"gpu_type", dict, true, "", "GPU type of its last run (catalog name); null if it never ran"},
	jcSubmit:       {"submit_s", f64, false, "s", "submit time since the start of the run"},
	jcStart:        {"start_s", f64, true, "s", "first start time; null if it never started"},
	jcEnd:          {"end_s", f64, true, "s", "time it reached its terminal state; null if unfinished"},
	jcWait:         {"wait_s", f64, true, "s", "first start minus submit; null if it never started"},
	jcRun:          {"run_s", f64, false, "s", "time spent running, all runs together"},
	jcWork:         {"work_s", f64, false, "s", "work requested, as run time on H100s if never interrupted"},
	jcState:        {"state", dict, false, "", "terminal state: completed, rejected, abandoned, unfinished or declined"},
	jcReason:       {"reason", utf8, true, "", "why it was rejected, abandoned, declined or is unfinished; null if none"},
	jcPreemptions:  {"preemptions", i32, false, "", "times it was preempted"},
	jcFailures:     {"failures", i32, false, "", "times a failure killed it"},
	jcGPUHours:     {"gpu_hours", f64, false, "GPU-h", "GPU-hours held, all runs (a GPU share counts as that fraction)"},
	jcPrice:        {"price_usd_per_gpu_h", f64, false, "USD/GPU-h", "price per GPU-hour quoted at arrival and billed for every GPU-hour held (external jobs; 0 for internal)"},
	jcRevenue:      {"revenue_usd", f64, false, "USD", "price_usd_per_gpu_h × gpu_hours, or tokens served × the per-token price for serving jobs billed by token; 0 for internal jobs"},
	jcCustomer:     {"customer_id", utf8, true, "", "external customer (billing and support); null for internal work and jobs without one"},
	jcLostGPUHours: {"lost_gpu_hours", f64, false, "GPU-h", "part of gpu_hours that did not advance the job: work since the last checkpoint of interrupted runs, and restart overheads"},
	jcInWindow:     {"in_window", boolean, false, "", "submitted at or after the warm-up (summary warmup_s): counted in the summary's per-job statistics"},
	jcWaitCF:       {"wait_s_counterfactual", f64, true, "s", "internal jobs: wait_s in the counterfactual run (the same scenario and seed without external demand); null for external jobs, without a counterfactual (--counterfactual=false, or a run that is its own: no external demand, and a trace without external rows), or if it never started there"},
	jcTokens:       {"tokens", i64, true, "tokens", "serving jobs: the tokens (input + output) the autoscaler gave the replica to serve over its work (a completed job served them all; one cut short its share run_s / work_s, rounded down); null for other segments"},
})

// Column indexes of timeseries.arrow: five fixed columns, then one busy and
// one queued column per segment.
const (
	tcT = iota
	tcGPUsTotal
	tcBusy
	tcUtil
	tcQueued
	tcBusySeg                                        // + segment
	tcQueuedSeg = tcBusySeg + int(sim.NumSegments)   // + segment
	tcDown      = tcQueuedSeg + int(sim.NumSegments) // after the per-segment columns
	tcPower     = tcDown + 1
	tcSpot      = tcPower + 1
	tcRevRate   = tcSpot + 1
	tcCostRate  = tcRevRate + 1
	tcCount     = tcCostRate + 1 // number of columns
)

var timeseriesSchema = func() NamedSchema {
	cols := []Column{
		tcT:         {"t_s", f64, false, "s", "sample time since the start of the run"},
		tcGPUsTotal: {"gpus_total", i64, false, "GPUs", "GPUs in the fleet"},
		tcBusy:      {"busy_gpus", f64, false, "GPUs", "GPUs allocated to jobs, all segments (shares as fractions)"},
		tcUtil:      {"utilization", f64, true, "", "busy_gpus / gpus_total; null if the fleet is empty"},
		tcQueued:    {"queued_jobs", i64, false, "jobs", "jobs waiting in the queue, all segments"},
	}
	for s := sim.SegInternal; s < sim.NumSegments; s++ {
		cols = append(cols, Column{"busy_gpus_" + colName(s.String()), f64, false, "GPUs", "GPUs allocated to " + s.String() + " jobs"})
	}
	for s := sim.SegInternal; s < sim.NumSegments; s++ {
		cols = append(cols, Column{"queued_jobs_" + colName(s.String()), i64, false, "jobs", s.String() + " jobs waiting in the queue"})
	}
	cols = append(cols, Column{"gpus_down", i64, false, "GPUs", "GPUs on failed nodes under repair (neither busy nor free)"})
	cols = append(cols, Column{"power_kw", f64, true, "kW", "facility power at the sample (GPUs idle or busy × host factor × PUE; docs/economics.md); null without a ledger"})
	cols = append(cols, Column{"spot_price_usd_per_gpu_h", f64, true, "USD/GPU-h", "spot price the pricer would quote now for the fleet's first GPU type; null if the pricer does not say"})
	cols = append(cols, Column{"revenue_usd_per_hour", f64, false, "USD/h", "what the running external jobs are billed per hour"})
	cols = append(cols, Column{"cost_usd_per_hour", f64, true, "USD/h", "the whole fleet's cost rate: depreciation, overhead and power; null without a ledger"})
	if len(cols) != tcCount {
		panic("results: timeseries column count")
	}
	return newSchema("timeseries", TimeseriesFile, "one row per metrics sample (every sampling interval of simulated time)", cols)
}()

// summaryColumn is a summary.arrow column and how to read its value from a
// Summary: an int64, uint64, float64 (NaN = null) or string.
type summaryColumn struct {
	Column
	val func(s *Summary) any
}

var summaryColumns = func() []summaryColumn {
	c := []summaryColumn{
		{Column{"scenario", utf8, false, "", "scenario name"}, func(s *Summary) any { return s.Scenario }},
		{Column{"seed", u64, false, "", "root random seed"}, func(s *Summary) any { return s.Seed }},
		{Column{"allocator", utf8, false, "", "allocation policy name"}, func(s *Summary) any { return s.Allocator }},
		{Column{"pricer", utf8, false, "", "pricing policy name; empty if none"}, func(s *Summary) any { return s.Pricer }},
		{Column{"horizon_s", f64, true, "s", "simulated horizon; null if the run went on until every job ended"}, func(s *Summary) any { return s.HorizonS }},
		{Column{"end_s", f64, false, "s", "simulated time at the end of the run (the horizon, or the last event)"}, func(s *Summary) any { return s.EndS }},
		{Column{"warmup_s", f64, false, "s", "start of the measurement window (the scenario's warmup; 0: the whole run). Per-job statistics count the jobs submitted from it on (jobs.in_window); GPU-hours, revenue, costs and utilization count [warmup_s, end_s]"}, func(s *Summary) any { return s.WarmupS }},
		{Column{"mser5_warmup_s", f64, true, "s", "the warm-up the MSER-5 rule picks on the samples of the GPUs internal jobs hold (docs/economics.md, Warm-up); null if the run is too short to say"}, func(s *Summary) any { return s.MSER5WarmupS }},
		{Column{"gpus_total", i64, false, "GPUs", "GPUs in the fleet"}, func(s *Summary) any { return s.GPUsTotal }},
		{Column{"events", i64, false, "", "events the engine processed"}, func(s *Summary) any { return s.Events }},
		{Column{"jobs_total", i64, false, "jobs", "jobs submitted in the measurement window: every row of jobs.arrow without a warm-up (rows with in_window)"}, func(s *Summary) any { return s.Jobs }},
	}
	for st := sim.State(0); st < sim.NumStates; st++ {
		doc := "jobs that ended " + st.String()
		if !st.Terminal() {
			doc = "always 0: a non-terminal state, kept so the schema lists every state"
		}
		c = append(c, summaryColumn{Column{"jobs_" + colName(st.String()), i64, false, "jobs", doc},
			func(s *Summary) any { return s.JobsByState[st] }})
	}
	c = append(c,
		summaryColumn{Column{"gpu_hours", f64, false, "GPU-h", "GPU-hours held by all jobs inside the measurement window (Σ jobs.gpu_hours without a warm-up)"}, func(s *Summary) any { return s.GPUHours }},
		summaryColumn{Column{"utilization", f64, true, "", "gpu_hours / (gpus_total × (end_s − warmup_s) / 3600); null if that is 0"}, func(s *Summary) any { return s.Utilization }},
		summaryColumn{Column{"external_revenue_usd", f64, false, "USD", "Σ jobs.revenue_usd of the external segments"}, func(s *Summary) any { return s.ExternalRevenueUSD }},
		summaryColumn{Column{"lost_gpu_hours", f64, false, "GPU-h", "Σ jobs.lost_gpu_hours: GPU-hours lost to preemptions and failures"}, func(s *Summary) any { return s.LostGPUHours }},
		summaryColumn{Column{"preemptions", i64, false, "", "Σ jobs.preemptions"}, func(s *Summary) any { return s.Preemptions }},
		summaryColumn{Column{"job_failures", i64, false, "", "Σ jobs.failures: job runs killed by node failures"}, func(s *Summary) any { return s.JobFailures }},
		summaryColumn{Column{"node_failures", i64, false, "", "node failures during the run (each takes a node out of service until repaired)"}, func(s *Summary) any { return s.NodeFailures }},
		summaryColumn{Column{"jobs_after_horizon", i64, false, "jobs", "trace jobs submitted after the horizon: counted, not simulated (not in jobs.arrow); a canonical trace's are counted from its rows' structure, not their values"}, func(s *Summary) any { return s.JobsAfterHorizon }},
		summaryColumn{Column{"serving_tokens_demanded", i64, false, "tokens", "Σ jobs.tokens of the serving jobs submitted in the measurement window: the demand the autoscaler placed (a request trace's tokens, × trace_rate_scale)"}, func(s *Summary) any { return s.ServingTokensDemanded }},
		summaryColumn{Column{"serving_tokens_served", i64, false, "tokens", "the tokens those jobs served: all of a completed job's, run_s / work_s of one cut short (rounded down), none of one that never ran"}, func(s *Summary) any { return s.ServingTokensServed }},
	)
	waitCols := func(suffix, who string, seg func(s *Summary) *WaitStats) {
		c = append(c,
			summaryColumn{Column{"wait_mean_s" + suffix, f64, true, "s", "mean wait of " + who + " that started; null if none did"}, func(s *Summary) any { return seg(s).MeanS }},
			summaryColumn{Column{"wait_p50_s" + suffix, f64, true, "s", "median wait (empirical quantile) of " + who + " that started; null if none did"}, func(s *Summary) any { return seg(s).P50S }},
			summaryColumn{Column{"wait_p95_s" + suffix, f64, true, "s", "95th-percentile wait of " + who + " that started; null if none did"}, func(s *Summary) any { return seg(s).P95S }},
			summaryColumn{Column{"wait_p99_s" + suffix, f64, true, "s", "99th-percentile wait of " + who + " that started; null if none did"}, func(s *Summary) any { return seg(s).P99S }},
		)
	}
	c = append(c, summaryColumn{Column{"jobs_started", i64, false, "jobs", "jobs that started at least once (the wait statistics' sample)"}, func(s *Summary) any { return s.Wait.Started }})
	waitCols("", "all jobs", func(s *Summary) *WaitStats { return &s.Wait })
	for seg := sim.SegInternal; seg < sim.NumSegments; seg++ {
		n := colName(seg.String())
		c = append(c,
			summaryColumn{Column{"jobs_" + n, i64, false, "jobs", seg.String() + " jobs"}, func(s *Summary) any { return s.Segments[seg].Jobs }},
			summaryColumn{Column{"jobs_started_" + n, i64, false, "jobs", seg.String() + " jobs that started at least once"}, func(s *Summary) any { return s.Segments[seg].Wait.Started }},
		)
		waitCols("_"+n, seg.String()+" jobs", func(s *Summary) *WaitStats { return &s.Segments[seg].Wait })
		c = append(c, summaryColumn{Column{"slowdown_mean_" + n, f64, true, "", "mean bounded slowdown of the completed " + seg.String() +
			" jobs: (end − submit) / max(run time − lost time, 10 s), at least 1; null if none completed"}, func(s *Summary) any { return s.Segments[seg].SlowdownMean }})
	}
	c = append(c, summaryColumn{Column{"slowdown_mean_internal_counterfactual", f64, true, "", "slowdown_mean_internal in the counterfactual run; null if it was not run or no internal job completed there"},
		func(s *Summary) any {
			if s.Counterfactual == nil {
				return math.NaN()
			}
			return s.Counterfactual.InternalSlowdownMean
		}})
	c = append(c, econColumns()...)
	return c
}()

// costKinds are the cost model's kinds (econ.Costs), each with
// cost_<kind>_usd, external_cost_<kind>_usd and internal_cost_<kind>_usd
// columns (cost_capex/overhead/power/support_usd existed before).
var costKinds = []struct {
	name, doc string
	get       func(c econ.Costs) float64
}{
	{"capex", "depreciation (capex over each type's life)", func(c econ.Costs) float64 { return c.Capex }},
	{"capital", "cost of capital on the undepreciated capex (economic, not in the operating cost)", func(c econ.Costs) float64 { return c.Capital }},
	{"datacenter", "data-centre cost per MW-year of IT power", func(c econ.Costs) float64 { return c.Datacenter }},
	{"overhead", "network and operations overhead", func(c econ.Costs) float64 { return c.Overhead }},
	{"power", "facility energy cost", func(c econ.Costs) float64 { return c.Power }},
	{"support", "support of the external customers", func(c econ.Costs) float64 { return c.Support }},
	{"sales_ga", "sales, general and administrative (a share of external revenue)", func(c econ.Costs) float64 { return c.SalesGA }},
}

// econColumns are the margin ledger's summary columns (docs/economics.md).
// They are null when the run had no ledger.
func econColumns() []summaryColumn {
	num := func(name, unit, doc string, f func(r *econ.Report) float64) summaryColumn {
		return summaryColumn{Column{name, f64, true, unit, doc}, func(s *Summary) any {
			if s.Econ == nil {
				return math.NaN()
			}
			return f(s.Econ)
		}}
	}
	c := []summaryColumn{
		num("capacity_gpu_hours", "GPU-h", "gpus_total × end_s / 3600", func(r *econ.Report) float64 { return r.CapacityGPUHours }),
		num("idle_gpu_hours", "GPU-h", "capacity GPU-hours no job held", func(r *econ.Report) float64 { return r.IdleGPUHours }),
		num("external_share", "", "external segments' share of the busy GPU-hours; null if none were busy", func(r *econ.Report) float64 { return r.ExternalShare }),
		num("customers", "", "external customers whose jobs ran", func(r *econ.Report) float64 { return float64(len(r.Customers)) }),
		num("customer_months", "", "Σ customers' active time / 730 h (what support is charged on)", func(r *econ.Report) float64 { return r.CustomerMonths }),
		num("external_direct_cost_usd", "USD", "cost of revenue of the external business: depreciation, data centre, overhead and power of its GPU-hours (and of the idle capacity it pays for, cost.idle_cost and cost.dedicated_datacenters)", func(r *econ.Report) float64 { return r.External.Direct() }),
		num("external_cost_usd", "USD", "external direct cost + support + sales and G&A: the external business's operating cost (no cost of capital)", func(r *econ.Report) float64 { return r.External.Total() }),
		num("internal_cost_usd", "USD", "operating cost of internal GPU-hours and of the idle capacity the internal business keeps", func(r *econ.Report) float64 { return r.Internal.Total() }),
		num("idle_cost_usd", "USD", "operating cost of idle capacity (the part external pays, idle_external_cost_usd, is in external_cost_usd; the rest in internal_cost_usd)", func(r *econ.Report) float64 { return r.Idle.Total() }),
		num("internal_wait_gpu_hours", "GPU-h", "Σ internal jobs' GPUs × time queued", func(r *econ.Report) float64 { return r.InternalWaitGPUHours }),
		num("internal_wait_gpu_hours_counterfactual", "GPU-h", "Σ internal jobs' GPUs × time queued in the counterfactual run (the same scenario and seed without external demand); null if it was not run", func(r *econ.Report) float64 { return r.CounterfactualWaitGPUHours }),
		num("internal_delay_caused_gpu_hours", "GPU-h", "internal_wait_gpu_hours − internal_wait_gpu_hours_counterfactual: the internal delay selling added (may be negative in one run; read its mean over seeds); null without a counterfactual", func(r *econ.Report) float64 { return r.DelayCausedGPUHours }),
		num("internal_delay_caused_usd", "USD", "internal_delay_caused_gpu_hours × cost.delay_usd_per_gpu_hour; null without a counterfactual", func(r *econ.Report) float64 { return r.DelayCausedUSD }),
		num("net_value_usd", "USD", "external_revenue_usd − external_cost_usd − internal_delay_caused_usd: what selling added to the company in the run; null without a counterfactual", func(r *econ.Report) float64 { return r.NetValueUSD }),
		num("gross_margin", "", "(external revenue − external direct cost) / external revenue; null without revenue", func(r *econ.Report) float64 { return r.GrossMargin }),
		num("operating_margin", "", "(external revenue − external_cost_usd) / external revenue: an accounting margin, no cost of capital or delay inside; null without revenue", func(r *econ.Report) float64 { return r.OperatingMargin }),
		num("idle_external_cost_usd", "USD", "operating cost of the idle capacity the external business pays: dedicated data centres' idle GPUs, and with cost.idle_cost shared its share of idle spare GPUs", func(r *econ.Report) float64 { return r.IdleExternal.Total() }),
		num("dedicated_gpus", "", "GPUs in the data centres bought for the cloud (cost.dedicated_datacenters)", func(r *econ.Report) float64 { return float64(r.DedicatedGPUs) }),
		num("economic_margin", "", "(external revenue − external_cost_usd − external_cost_capital_usd) / external revenue: after the cost of capital; null without revenue", func(r *econ.Report) float64 { return r.EconomicMargin }),
		num("capital_used_usd", "USD", "the cloud's capital: mean undepreciated capex (capex / 2) of dedicated GPUs and of the spare GPUs it uses (by GPU-hours)", func(r *econ.Report) float64 { return r.CapitalUSD }),
		num("return_on_capital", "", "annualized (external revenue − external_cost_usd) / capital_used_usd; null without capital", func(r *econ.Report) float64 { return r.ReturnOnCapital }),
		num("cloud_annual_revenue_usd", "USD", "external revenue × 8760 / the window's hours", func(r *econ.Report) float64 { return r.CloudAnnualRevenueUSD }),
		num("cloud_incremental_cost_usd", "USD", "external_cost_usd less the costs of spare capacity the company bears anyway (its depreciation, data centre, overhead and idle power): what the cloud adds to the company's costs in the run", func(r *econ.Report) float64 { return r.CloudIncrementalCostUSD }),
		num("company_margin_without_cloud", "", "the core business's operating margin (scenario company.operating_margin)", func(r *econ.Report) float64 { return r.CompanyMarginWithout }),
		num("company_margin_with_cloud", "", "(core operating income + annualized (external revenue − cloud_incremental_cost_usd)) / (core revenue + cloud_annual_revenue_usd)", func(r *econ.Report) float64 { return r.CompanyMarginWith }),
		num("company_margin_delta_pts", "pt", "company_margin_with_cloud − company_margin_without_cloud, in percentage points", func(r *econ.Report) float64 { return r.CompanyMarginDeltaPts }),
		num("energy_mwh", "MWh", "facility energy over the run", func(r *econ.Report) float64 { return r.EnergyMWh }),
		num("avg_power_kw", "kW", "energy_mwh over the run's duration", func(r *econ.Report) float64 { return r.AvgPowerKW }),
	}
	for _, k := range costKinds {
		c = append(c,
			num("cost_"+k.name+"_usd", "USD", k.doc+", whole company", func(r *econ.Report) float64 { return k.get(r.Total) }),
			num("external_cost_"+k.name+"_usd", "USD", k.doc+", external business", func(r *econ.Report) float64 { return k.get(r.External) }),
			num("internal_cost_"+k.name+"_usd", "USD", k.doc+", internal business (idle it keeps included)", func(r *econ.Report) float64 { return k.get(r.Internal) }))
	}
	for seg := sim.SegInternal; seg < sim.NumSegments; seg++ {
		n := colName(seg.String())
		c = append(c,
			num("revenue_usd_"+n, "USD", seg.String()+" revenue: Σ of its jobs' revenue_usd, each rounded once to the micro-dollar (sim/money.go), summed exactly", func(r *econ.Report) float64 { return r.Segments[seg].RevenueUSD }),
			num("cost_usd_"+n, "USD", "direct cost (depreciation, data centre, overhead, power) of the "+seg.String()+" GPU-hours", func(r *econ.Report) float64 { return r.Segments[seg].Cost.Direct() }),
			num("margin_"+n, "", "(revenue − direct cost) / revenue of "+seg.String()+"; null without revenue", func(r *econ.Report) float64 {
				rev := r.Segments[seg].RevenueUSD
				if rev == 0 {
					return math.NaN()
				}
				return (rev - r.Segments[seg].Cost.Direct()) / rev
			}),
		)
	}
	return c
}

var summarySchema = func() NamedSchema {
	cols := make([]Column, len(summaryColumns))
	for i, c := range summaryColumns {
		cols[i] = c.Column
	}
	return newSchema("summary", SummaryFile, "one row per run", cols)
}()
