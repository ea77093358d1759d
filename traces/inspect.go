package traces

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"neosim/sim"
	"neosim/sim/fleet"
)

// Skipper is a Source that skips some rows of its file. Skipped returns the
// rows skipped so far by reason; the counts are complete once Next has
// returned false.
type Skipper interface {
	Skipped() map[string]int64
}

// Stats summarizes a job trace as `neosim trace inspect` prints it.
type Stats struct {
	Path   string
	Format string // the adapter that read it
	Jobs   int64
	// FirstSubmit and LastSubmit bound the jobs' submit times.
	FirstSubmit, LastSubmit sim.Time
	GPUs                    map[int32]int64 // jobs by GPUs per job
	Fractional              int64           // jobs with gpu_milli < 1000
	// GPUHours is Σ gpus × gpu_milli/1000 × duration over the jobs, in
	// hours: the GPU time the trace asks for on H100s.
	GPUHours float64
	Duration Quantiles
	// Counts by tenant, segment, qos and GPU-type constraint ("any" when
	// none), largest first; each list holds every distinct value up to
	// maxDistinct, the rest counted under "(other)".
	Tenants, Segments, QoS, GPUTypes []Count
	// Skipped holds the rows the adapter skipped, by reason (Skipper).
	Skipped map[string]int64
}

// Quantiles of job durations in seconds. P50, P90 and P99 are nearest-rank
// quantiles: the p-quantile of n sorted values is value number ⌈p·n⌉, the
// smallest that at least a fraction p of the values do not exceed. (Other
// definitions, such as numpy's default linear interpolation, differ by at
// most the gap to the next value.)
type Quantiles struct {
	Min, P50, Mean, P90, P99, Max float64
}

// Count is how many jobs share a value.
type Count struct {
	Name string
	N    int64
}

// maxDistinct bounds the values counted per category, so that inspecting a
// trace with a distinct tenant per job stays bounded in memory.
const maxDistinct = 10_000

// SpanDays returns the time from the first to the last submission in days.
func (s *Stats) SpanDays() float64 {
	return (s.LastSubmit - s.FirstSubmit).Seconds() / 86400
}

// Inspect reads a trace through OpenAs (format "" or "auto" detects it)
// and summarizes it. Memory grows by 8 bytes per job, for exact quantiles.
func Inspect(path, format string, opts Options) (*Stats, error) {
	src, name, err := OpenAs(path, format, opts)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	st := &Stats{Path: path, Format: name, GPUs: map[int32]int64{}}
	tenants, segments, qos, types := counter{}, counter{}, counter{}, counter{}
	var durs []sim.Time
	var sum float64
	var s sim.JobSpec
	for src.Next(&s) {
		if st.Jobs == 0 {
			st.FirstSubmit = s.Submit
		}
		st.Jobs++
		st.LastSubmit = s.Submit
		st.GPUs[s.GPUs]++
		if s.Milli < fleet.FullGPU {
			st.Fractional++
		}
		sec := s.Work.Seconds()
		sum += sec
		st.GPUHours += float64(s.GPUs) * float64(s.Milli) / fleet.FullGPU * sec / 3600
		durs = append(durs, s.Work)
		tenants.add(s.Tenant)
		segments.add(s.Segment.String())
		if s.QoS != "" {
			qos.add(s.QoS)
		}
		if s.GPUTypes == 0 {
			types.add("any")
		} else {
			types.add(s.GPUTypes.String())
		}
	}
	if err := src.Err(); err != nil {
		return nil, err
	}
	if sk, ok := src.(Skipper); ok {
		st.Skipped = sk.Skipped()
	}
	if n := len(durs); n > 0 {
		slices.Sort(durs)
		rank := func(p float64) float64 {
			k := int(math.Ceil(p*float64(n))) - 1
			return durs[max(k, 0)].Seconds()
		}
		st.Duration = Quantiles{
			Min: durs[0].Seconds(), P50: rank(0.5), Mean: sum / float64(n),
			P90: rank(0.9), P99: rank(0.99), Max: durs[n-1].Seconds(),
		}
	}
	st.Tenants, st.Segments, st.QoS, st.GPUTypes = tenants.sorted(), segments.sorted(), qos.sorted(), types.sorted()
	return st, nil
}

type counter map[string]int64

func (c counter) add(k string) {
	if _, ok := c[k]; !ok && len(c) >= maxDistinct {
		k = "(other)"
	}
	c[k]++
}

func (c counter) sorted() []Count {
	out := make([]Count, 0, len(c))
	for k, n := range c {
		out = append(out, Count{k, n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// Print writes the summary for people; lists of counts show their top
// entries (top ≤ 0: all).
func (s *Stats) Print(w io.Writer, top int) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s\n", s.Path)
	fmt.Fprintf(tw, "format\t%s\n", s.Format)
	fmt.Fprintf(tw, "jobs\t%s\n", Thousands(s.Jobs))
	if s.Jobs > 0 {
		fmt.Fprintf(tw, "submits\t%s s to %s s (%.1f days)\n",
			fmtSeconds(s.FirstSubmit.Seconds()), fmtSeconds(s.LastSubmit.Seconds()), s.SpanDays())
		fmt.Fprintf(tw, "GPU-hours\t%s (Σ gpus × gpu_milli/1000 × duration)\n", fmtDecimal(s.GPUHours, 1))
		d := s.Duration
		fmt.Fprintf(tw, "duration (s)\tmin %s  p50 %s  mean %s  p90 %s  p99 %s  max %s\n",
			fmtSeconds(d.Min), fmtSeconds(d.P50), fmtDecimal(d.Mean, 1), fmtSeconds(d.P90), fmtSeconds(d.P99), fmtSeconds(d.Max))
		if s.Fractional > 0 {
			fmt.Fprintf(tw, "GPU shares\t%s jobs take a fraction of one GPU (gpu_milli < 1000)\n", Thousands(s.Fractional))
		}
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "GPUs per job\tjobs")
		keys := make([]int32, 0, len(s.GPUs))
		for k := range s.GPUs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(tw, "  %d\t%s\t%s\n", k, Thousands(s.GPUs[k]), s.percent(s.GPUs[k]))
		}
		s.printCounts(tw, "tenants", s.Tenants, top)
		s.printCounts(tw, "segments", s.Segments, top)
		s.printCounts(tw, "qos", s.QoS, top)
		s.printCounts(tw, "GPU types", s.GPUTypes, top)
	}
	if len(s.Skipped) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "skipped rows\trows")
		reasons := make([]string, 0, len(s.Skipped))
		for r := range s.Skipped {
			reasons = append(reasons, r)
		}
		slices.Sort(reasons)
		for _, r := range reasons {
			fmt.Fprintf(tw, "  %s\t%s\n", r, Thousands(s.Skipped[r]))
		}
	}
	return tw.Flush()
}

func (s *Stats) printCounts(w io.Writer, title string, cs []Count, top int) {
	if len(cs) == 0 {
		return
	}
	fmt.Fprintln(w)
	if top > 0 && len(cs) > top {
		fmt.Fprintf(w, "%s (%d; top %d)\tjobs\n", title, len(cs), top)
		cs = cs[:top]
	} else {
		fmt.Fprintf(w, "%s (%d)\tjobs\n", title, len(cs))
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", c.Name, Thousands(c.N), s.percent(c.N))
	}
}

func (s *Stats) percent(n int64) string {
	return strconv.FormatFloat(100*float64(n)/float64(s.Jobs), 'f', 1, 64) + "%"
}

// Thousands formats n with commas between groups of three digits.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fmtDecimal formats v with digits decimals and commas in the integer part.
func fmtDecimal(v float64, digits int) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', digits, 64)
	whole, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	out := Thousands(n)
	if frac != "" {
		out += "." + frac
	}
	if v < 0 {
		out = "-" + out
	}
	return out
}

// fmtSeconds formats a time in seconds: whole with commas, or to the
// microsecond.
func fmtSeconds(v float64) string {
	if v == math.Trunc(v) {
		return fmtDecimal(v, 0)
	}
	return strings.TrimRight(fmtDecimal(v, 6), "0")
}

// Converted reports a conversion.
type Converted struct {
	Format  string // the adapter that read the input
	Jobs    int64
	Skipped map[string]int64
}

// Convert reads a trace through OpenAs (format "" or "auto" detects it) and
// writes its jobs to out in the canonical format, by out's extension (see
// Create). It streams, as the input's adapter allows; on error no file is
// left at out.
func Convert(in, format, out string, opts Options) (Converted, error) {
	var res Converted
	if a, b := filepath.Clean(in), filepath.Clean(out); a == b {
		return res, &Error{File: out, Msg: "is the input: write the conversion to another file"}
	}
	src, name, err := OpenAs(in, format, opts)
	if err != nil {
		return res, err
	}
	defer src.Close()
	res.Format = name
	w, err := Create(out)
	if err != nil {
		return res, err
	}
	defer w.Abort()
	var s sim.JobSpec
	for src.Next(&s) {
		if err := w.Write(&s); err != nil {
			return res, err
		}
		res.Jobs++
	}
	if err := src.Err(); err != nil {
		return res, err
	}
	if sk, ok := src.(Skipper); ok {
		res.Skipped = sk.Skipped()
	}
	return res, w.Close()
}
