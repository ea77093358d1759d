package advise

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"

	"neosim/runner"
	"neosim/sim"
	"neosim/sim/fleet"
)

// report.html is one self-contained page: inline CSS, the plots as inline
// SVG, no script and no link to fetch.
var reportTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>neosim advise: {{.Scenario}}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 84rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; }
.rec { font-size: 1.2rem; background: #eef6ee; border-left: 6px solid #2a7a2a; padding: 0.8rem 1rem; }
.rec.none { background: #fbeeee; border-color: #a33; }
table { border-collapse: collapse; font-size: 0.8rem; margin: 1rem 0; width: 100%; }
figure { max-width: 64rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: right; }
th { background: #f3f3f3; }
td.l, th.l { text-align: left; }
tr.recommended td { background: #e4f3e4; font-weight: bold; }
tr.tied td { background: #fff7dd; }
tr.infeasible td { color: #999; }
figure { margin: 1rem 0; }
figure svg { width: 100%; height: auto; }
code, pre { background: #f6f6f6; padding: 0.1rem 0.3rem; }
pre { padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; }
dt { font-weight: bold; }
</style>
</head>
<body>
<h1>How much to sell, at what price: {{.Scenario}}</h1>
<p id="recommendation" class="rec{{if not .HasRec}} none{{end}}">{{.Sentence}}</p>
<p>{{.Evidence}}</p>
<h2>Trade-offs</h2>
{{range .Figures}}<figure>{{.SVG}}<figcaption>{{.Title}}</figcaption></figure>
{{end}}
<h2>Candidates</h2>
<p>Every candidate ran on the seeds {{.SeedBase}}, {{.SeedBase}}+1, … (common random numbers); the search added
seeds only to candidates still in contention. Means with 95% confidence half-widths over each candidate's seeds,
per 30-day month of the measurement window. A candidate eliminated after a few seeds has its own mean over those
seeds only: the column "vs recommended, paired" compares it with the recommendation on the same seeds.</p>
<table id="candidates">
<tr><th>#</th><th class="l">allocator</th><th class="l">pricer</th><th>internal share</th><th>price ×</th><th>seeds</th><th class="l">status</th>
<th>net value (USD/month)</th><th>vs recommended, paired (USD/month)</th><th>delay caused (GPU-h/month)</th><th>slowdown increase</th><th>revenue (USD/month)</th><th>gross margin</th><th>operating margin</th></tr>
{{range .Rows}}<tr class="{{.Status}}"><td>{{.Index}}</td><td class="l">{{.Allocator}}</td><td class="l">{{.Pricer}}</td><td>{{.Share}}</td><td>{{.Multiplier}}</td><td>{{.Seeds}}</td><td class="l">{{.Status}}</td>
<td>{{.Net}}</td><td>{{.Diff}}</td><td>{{.Delay}}</td><td>{{.Slowdown}}</td><td>{{.Revenue}}</td><td>{{.Gross}}</td><td>{{.Operating}}</td></tr>
{{end}}</table>
<h2>Assumptions</h2>
<dl>
{{range .Assumptions}}<dt>{{.K}}</dt><dd>{{.V}}</dd>
{{end}}</dl>
<h2>Method</h2>
<p>{{.Method}} (docs/advise.md). Confidence {{.Confidence}}; indifference zone {{.Delta}} per month; first stage
{{.FirstStage}} seeds per candidate; {{.Runs}} runs in {{.Wall}} with {{.Jobs}} at once. Stopped: {{.Stop}}.</p>
<h2>Reproduce</h2>
<pre id="command">{{.Command}}</pre>
<p>neosim {{.Version}}, advice schema version {{.SchemaVersion}}. Files beside this page: advice.json, advice.arrow,
the plots as PNG and SVG (docs/output-schema.md, "advise").</p>
</body>
</html>
`))

type reportRow struct {
	Index                                                 int
	Allocator, Pricer, Share, Multiplier, Status          string
	Seeds                                                 int
	Net, Diff, Delay, Slowdown, Revenue, Gross, Operating string
}

type kv struct{ K, V string }

// WriteReport writes report.html into dir.
func (r *Result) WriteReport(dir, command string, figs []Figure) error {
	var b bytes.Buffer
	if err := r.report(&b, command, figs); err != nil {
		return err
	}
	return renameio.WriteFile(filepath.Join(dir, ReportHTML), b.Bytes(), 0o644)
}

func (r *Result) report(w io.Writer, command string, figs []Figure) error {
	type fig struct {
		Title string
		SVG   template.HTML
	}
	var fs []fig
	for _, f := range figs {
		svg := string(f.SVG)
		if i := strings.Index(svg, "<svg"); i > 0 {
			svg = svg[i:] // drop the XML declaration and doctype
		}
		fs = append(fs, fig{f.Title, template.HTML(svg)}) // our own renderer's output
	}
	var rows []reportRow
	for i := range r.Candidates {
		c := &r.Candidates[i]
		st := c.Stats()
		share := "—"
		if !math.IsNaN(c.Share) {
			share = fmtNum(c.Share)
		}
		pm := func(name string, f func(float64) string) string {
			s := st[name]
			if math.IsNaN(s.CI95) {
				return f(s.Mean)
			}
			return f(s.Mean) + " ± " + f(s.CI95)
		}
		rows = append(rows, reportRow{Index: i, Allocator: c.Allocator, Pricer: c.Pricer, Share: share, Multiplier: fmtNum(c.Multiplier),
			Seeds: len(c.Obs), Status: r.status(i),
			Net: pm(measures[0].name, grouped), Diff: diffStr(r.diffStat(i, netValue)), Delay: pm(measures[1].name, grouped), Slowdown: pm(measures[2].name, pctOrNA),
			Revenue: pm(measures[3].name, grouped), Gross: pm(measures[4].name, pctOrNA), Operating: pm(measures[5].name, pctOrNA)})
	}
	data := map[string]any{
		"Scenario": r.Base.Name, "HasRec": r.Recommended >= 0, "Sentence": r.Sentence(), "Evidence": r.evidence(),
		"Figures": fs, "Rows": rows, "SeedBase": r.Options.SeedBase, "Assumptions": r.assumptions(),
		"Method": Method, "Confidence": pct(1 - r.Options.Alpha), "Delta": usd(r.Delta), "FirstStage": r.Options.FirstStage,
		"Runs": r.Runs, "Wall": r.Wall.Round(1e8).String(), "Jobs": r.Options.Jobs, "Stop": r.Stop,
		"Command": command, "Version": runner.Version, "SchemaVersion": SchemaVersion,
	}
	return reportTmpl.Execute(w, data)
}

func diffStr(s Stat) string {
	if math.IsNaN(s.Mean) {
		return "—"
	}
	if math.IsNaN(s.CI95) {
		return grouped(s.Mean)
	}
	return grouped(s.Mean) + " ± " + grouped(s.CI95)
}

func pctOrNA(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f%%", x*100)
}

// evidence says how the recommendation compares with the rest.
func (r *Result) evidence() string {
	n := len(r.Candidates)
	elim, excl := 0, 0
	for i := range r.Candidates {
		switch r.Candidates[i].Status {
		case Eliminated:
			elim++
		case Excluded:
			excl++
		}
	}
	s := fmt.Sprintf("%d candidates: %d eliminated on net value, %d beyond the delay budget", n, elim, excl)
	if len(r.Tied) > 0 {
		s += fmt.Sprintf(", %d still tied with the recommendation when the search stopped", len(r.Tied))
	}
	if len(r.Identical) > 0 {
		s += fmt.Sprintf(", %d with results identical to it on every seed (the same decision in effect: the largest internal share is recommended)", len(r.Identical))
	}
	return s + "."
}

// assumptions lists what the recommendation rests on.
func (r *Result) assumptions() []kv {
	s := r.Base
	o := &r.Options
	out := []kv{{"scenario", s.Name}}
	if f, err := runner.BuildFleet(s, io.Discard); err == nil {
		var types, prices []string
		for _, t := range f.Types() {
			types = append(types, fleet.Catalog[t].Name)
			prices = append(prices, fmt.Sprintf("%s $%.3f", fleet.Catalog[t].Name, fleet.Catalog[t].ListUSDPerHour))
		}
		out = append(out, kv{"fleet", fmt.Sprintf("%s GPUs (%s)", grouped(float64(f.GPUs())), strings.Join(types, ", "))},
			kv{"list prices", "on-demand per GPU-hour before the multiplier: " + strings.Join(prices, ", ") +
				"; spot and reserved from them by the price book (docs/pricing.md)"})
		var capex []string
		for _, t := range f.Types() {
			capex = append(capex, fmt.Sprintf("%s $%s", fleet.Catalog[t].Name, grouped(s.Cost.Capex(t))))
		}
		c := s.Cost
		out = append(out, kv{"costs", fmt.Sprintf("capex %s over %g years, cost of capital %g%% a year, data centre $%s per MW-year, overhead %g%%, PUE %g, $%g/kWh, support $%g per customer-month, sales & G&A %g%% of revenue, internal delay priced at $%g per GPU-hour (docs/economics.md)",
			strings.Join(capex, ", "), c.LifeYears, c.CostOfCapital*100, grouped(c.DatacenterUSDPerMWYear), c.OverheadFraction*100, c.PUE, c.USDPerKWh,
			c.SupportUSDPerCustomerMonth, c.SalesGAFraction*100, c.DelayUSDPerGPUHour)})
	}
	out = append(out,
		kv{"horizon", sim.Time(s.Horizon).String()},
		kv{"warm-up", sim.Time(s.Warmup).String() + " (left out of every statistic; the month is 30 days of the window horizon − warm-up)"},
		kv{"seeds", fmt.Sprintf("from %d; %d per candidate at first, up to %d", o.SeedBase, o.FirstStage, r.maxSeeds())},
		kv{"decision space", fmt.Sprintf("allocators %s; pricers %s; internal shares %s; price multipliers %s",
			strings.Join(o.Space.Allocators, ", "), strings.Join(o.Space.Pricers, ", "), nums(o.Space.Shares), nums(o.Space.Multipliers))},
		kv{"delay budget", r.bounds()},
	)
	return out
}

func (r *Result) maxSeeds() int {
	m := 0
	for i := range r.Candidates {
		m = max(m, len(r.Candidates[i].Obs))
	}
	return m
}

func (r *Result) bounds() string {
	var b []string
	if d := r.Options.MaxDelayGPUHoursPerMonth; !math.IsNaN(d) {
		b = append(b, grouped(d)+" GPU-hours of internal delay caused per month")
	}
	if d := r.Options.MaxSlowdownIncrease; !math.IsNaN(d) {
		b = append(b, pctOrNA(d)+" increase of the internal mean bounded slowdown")
	}
	if len(b) == 0 {
		return "none"
	}
	return strings.Join(b, "; ") + fmt.Sprintf(" (tolerance %s of each)", pct(r.Options.Tolerance))
}

func nums(xs []float64) string {
	if len(xs) == 0 {
		return "—"
	}
	var s []string
	for _, x := range xs {
		s = append(s, fmtNum(x))
	}
	return strings.Join(s, ", ")
}
