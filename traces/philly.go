package traces

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Philly's local time zone, even where the system has no tz database

	"neosim/sim"
)

// The philly adapter reads the Microsoft Philly job list that the Pollux
// (OSDI'21) authors derived from the raw Philly trace (Jeon et al., ATC'19):
// philly_jobs_pollux.csv in ../shared/traces/philly-2017, CC-BY-4.0.
//
// Format: CSV with the header timestamp,duration,num_gpus,gpu_time,cluster
// and one row per job:
//
//	timestamp  submit time, "YYYY-MM-DD HH:MM:SS" in Philly's local time
//	           (America/Los_Angeles: PDT, then PST after 2017-11-05)
//	duration   seconds the job ran, all its attempts summed (float)
//	num_gpus   GPUs it used (whole number ≥ 1)
//	gpu_time   duration × num_gpus, GPU-seconds: redundant, so it is checked
//	cluster    the virtual cluster (VC) hash, which becomes the tenant
//
// Quirks and choices:
//   - The rows are not sorted by time. The adapter reads the whole file at
//     Open, sorts it by submit instant (stably: ties keep file order) and
//     then emits the jobs. It is the one adapter that buffers, about 32
//     bytes per job (the 82,247 jobs take under 3 MB); row errors are
//     therefore returned by Open.
//   - Local times are converted to instants with the America/Los_Angeles
//     rules (embedded through time/tzdata). In the hour repeated when DST
//     ends (01:00–01:59 on 2017-11-05 happens twice) a time is taken as its
//     first occurrence (PDT); a time in the hour skipped when DST starts does
//     not exist and is an error.
//   - submit_s is seconds from the earliest submission, so the first job
//     arrives at 0.
//   - job_id is "philly-<row>", the 1-based data row in the file (file
//     order, not time order): unique and stable across reads.
//   - duration becomes the job's Work as recorded: trace GPU models map to
//     H100-SXM (speed 1.0) by default, so recorded durations replay as
//     recorded. The list names no GPU model, so jobs may run on any type.
//   - Every job is internal (segment internal, priority 0, no patience).
//   - gpu_time must equal duration × num_gpus within a relative 1e-9 (it
//     does in every row of the published file); a mismatch is an error, as
//     it means the columns are not what this adapter expects.
func init() {
	Register(Adapter{
		Name: "philly",
		Doc:  "Microsoft Philly job list philly_jobs_pollux.csv (timestamp, duration, num_gpus, gpu_time, cluster)",
		Detect: func(h []string) bool {
			return hasAll(h, phillyColumns...)
		},
		Open: func(path string, opts Options) (Source, error) { return OpenPhilly(path, opts) },
	})
}

var phillyColumns = []string{"timestamp", "duration", "num_gpus", "gpu_time", "cluster"}

// phillyZone is Philly's local time zone.
var phillyZone = func() *time.Location {
	z, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		panic("traces: no America/Los_Angeles zone despite time/tzdata: " + err.Error())
	}
	return z
}()

// phillyJob is one row, compact while the file is sorted.
type phillyJob struct {
	submit int64   // Unix seconds
	dur    float64 // seconds
	row    int32   // 1-based data row, for the job_id
	gpus   int32
	vc     int32 // index in PhillyReader.vcs
}

// PhillyReader replays a Philly job list (see the philly adapter above).
// It implements Source.
type PhillyReader struct {
	name  string
	jobs  []phillyJob
	vcs   []string
	first int64 // the earliest submission, Unix seconds
	i     int
}

var _ Source = (*PhillyReader)(nil)

// OpenPhilly reads a Philly job list whole and sorts it; a bad row is an
// *Error returned here.
func OpenPhilly(path string, opts Options) (*PhillyReader, error) {
	l := loc{file: path}
	b, err := openCSVFile(&l)
	if err != nil {
		return nil, err
	}
	defer b.close()
	return readPhilly(&l, b.(*csvBackend), opts)
}

func readPhilly(l *loc, b *csvBackend, opts Options) (*PhillyReader, error) {
	t, err := newTable(l, b, phillyColumns, nil, opts.Warn)
	if err != nil {
		return nil, err
	}
	const (
		cTime = iota
		cDur
		cGPUs
		cGPUTime
		cVC
	)
	r := &PhillyReader{name: "philly trace " + l.file}
	vcIndex := map[string]int32{}
	var day dayCache
	for {
		ok, err := t.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if len(r.jobs) == math.MaxInt32 {
			return nil, t.errAt(-1, "more than %d rows", math.MaxInt32)
		}
		submit, err := day.parse(t, cTime)
		if err != nil {
			return nil, err
		}
		dur, err := t.seconds(cDur, true)
		if err != nil {
			return nil, err
		}
		gpus, err := t.int(cGPUs, 1, math.MaxInt32, true)
		if err != nil {
			return nil, err
		}
		gt, err := t.float(cGPUTime)
		if err != nil {
			return nil, err
		}
		if want := dur * float64(gpus); math.Abs(gt-want) > 1e-9*math.Max(1, math.Abs(want)) {
			return nil, t.errAt(cGPUTime, "%s is not duration × num_gpus = %s × %d = %s",
				fmtNum(gt), fmtNum(dur), gpus, fmtNum(want))
		}
		vc := t.field(cVC)
		k, ok := vcIndex[vc]
		if !ok {
			k = int32(len(r.vcs))
			vcIndex[vc] = k
			name := strings.Clone(vc)
			if name == "" {
				name = DefaultTenant
			}
			r.vcs = append(r.vcs, name)
		}
		r.jobs = append(r.jobs, phillyJob{submit: submit, dur: dur, row: int32(len(r.jobs) + 1), gpus: int32(gpus), vc: k})
	}
	slices.SortStableFunc(r.jobs, func(a, b phillyJob) int { return cmp.Compare(a.submit, b.submit) })
	if len(r.jobs) > 0 {
		r.first = r.jobs[0].submit
		// The whole span must fit the canonical bound on times.
		if last := r.jobs[len(r.jobs)-1]; float64(last.submit-r.first) > maxSeconds {
			return nil, &Error{File: l.file, Field: "timestamp", Msg: fmt.Sprintf("submissions span more than %g s", maxSeconds)}
		}
	}
	return r, nil
}

// Name identifies the source, e.g. "philly trace philly_jobs_pollux.csv".
func (r *PhillyReader) Name() string { return r.name }

// Next fills s with the next job in submit order.
func (r *PhillyReader) Next(s *sim.JobSpec) bool {
	if r.i >= len(r.jobs) {
		return false
	}
	j := &r.jobs[r.i]
	r.i++
	*s = sim.JobSpec{
		ID:      "philly-" + strconv.Itoa(int(j.row)),
		Submit:  sim.Time(j.submit-r.first) * sim.Second,
		GPUs:    j.gpus,
		Milli:   1000,
		Tenant:  r.vcs[j.vc],
		Segment: sim.SegInternal,
		Work:    sim.FromSeconds(j.dur),
	}
	return true
}

// Err returns nil: rows were checked by OpenPhilly.
func (r *PhillyReader) Err() error { return nil }

// Close releases the buffered jobs.
func (r *PhillyReader) Close() error {
	r.jobs, r.i = nil, 0
	return nil
}

// Len returns the number of jobs in the list.
func (r *PhillyReader) Len() int { return len(r.jobs) }

// dayCache converts Philly timestamps, resolving each date's zone offsets
// once: the list has a few hundred dates and 82k rows.
type dayCache struct {
	date string
	midnight,
	dstEnd int64 // Unix seconds of the date's midnight; of its DST change, if any (else MaxInt64)
	before, after int64 // UTC offsets (s) before and after the change
}

// parse reads column c as "YYYY-MM-DD HH:MM:SS" in phillyZone and returns
// Unix seconds.
func (d *dayCache) parse(t *table, c int) (int64, error) {
	s := t.field(c)
	bad := func() (int64, error) {
		return 0, t.errAt(c, "%q is not a time like 2017-10-07 01:11:39", s)
	}
	if s == "" {
		return 0, t.errAt(c, "is empty; the column is required")
	}
	if len(s) != len("2006-01-02 15:04:05") || s[10] != ' ' {
		return bad()
	}
	hh, ok1 := atoi2(s[11:13])
	mm, ok2 := atoi2(s[14:16])
	ss, ok3 := atoi2(s[17:19])
	if !ok1 || !ok2 || !ok3 || s[13] != ':' || s[16] != ':' || hh > 23 || mm > 59 || ss > 59 {
		return bad()
	}
	if s[:10] != d.date {
		day, err := time.ParseInLocation("2006-01-02", s[:10], phillyZone)
		if err != nil {
			return bad()
		}
		d.date = strings.Clone(s[:10])
		d.midnight = day.Unix()
		_, off := day.Zone()
		d.before, d.after, d.dstEnd = int64(off), int64(off), math.MaxInt64
		// A zone change within the day (DST starts or ends): find it.
		if _, end := day.ZoneBounds(); !end.IsZero() && end.Before(day.AddDate(0, 0, 1)) {
			_, off2 := end.Zone()
			d.after, d.dstEnd = int64(off2), end.Unix()
		}
	}
	wall := int64(hh*3600 + mm*60 + ss) // seconds since local midnight
	// Midnight is at d.midnight in the day's first offset; a wall time is
	// an instant in that offset until the change, then in the new one.
	u := d.midnight + wall
	if u < d.dstEnd {
		return u, nil
	}
	// After the change the wall clock reads shift seconds less (clocks
	// fall back: shift > 0) or more (spring forward: shift < 0). A wall
	// time of the repeated hour thus came out above as its first
	// occurrence; one in the skipped hour does not exist.
	shift := d.before - d.after
	if shift < 0 && u < d.dstEnd-shift {
		return 0, t.errAt(c, "%s does not exist in America/Los_Angeles (clocks sprang forward)", s)
	}
	return u + shift, nil
}

// atoi2 reads two decimal digits.
func atoi2(s string) (int, bool) {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// table reads a CSV file by column name for the adapters of public traces:
// the same CSV handling as the canonical reader (a BOM, .csv.gz, quoting,
// error positions), with the source's own column names.
type table struct {
	loc  *loc
	b    *csvBackend
	idx  []int    // source column of each wanted column; -1: absent
	want []string // the wanted column names
	rec  []string
	line int64
}

// newTable maps a header to wanted columns: required ones must be there,
// optional ones may be; other columns are named in one warning line.
func newTable(l *loc, b *csvBackend, required, optional []string, warn io.Writer) (*table, error) {
	t := &table{loc: l, b: b, want: append(slices.Clip(required), optional...)}
	t.idx = make([]int, len(t.want))
	for i := range t.idx {
		t.idx[i] = -1
	}
	var unknown []string
	for i, h := range b.header {
		k := slices.Index(t.want, strings.ToLower(strings.TrimSpace(h)))
		if k < 0 {
			unknown = append(unknown, strconv.Quote(h))
			continue
		}
		if t.idx[k] >= 0 {
			return nil, &Error{File: l.file, Line: 1, Field: t.want[k],
				Msg: fmt.Sprintf("column %q appears twice (columns %d and %d)", t.want[k], t.idx[k]+1, i+1)}
		}
		t.idx[k] = i
	}
	var missing []string
	for k := range required {
		if t.idx[k] < 0 {
			missing = append(missing, strconv.Quote(t.want[k]))
		}
	}
	if len(missing) > 0 {
		what := "column"
		if len(missing) > 1 {
			what = "columns"
		}
		return nil, &Error{File: l.file, Field: strings.Trim(missing[0], `"`), fieldInMsg: true,
			Msg: fmt.Sprintf("missing required %s %s (header has: %s)", what, strings.Join(missing, ", "), strings.Join(b.header, ", "))}
	}
	if len(unknown) > 0 {
		if warn == nil {
			warn = os.Stderr
		}
		fmt.Fprintf(warn, "traces: %s: ignoring unknown columns %s (known: %s)\n",
			l.file, strings.Join(unknown, ", "), strings.Join(t.want, ", "))
	}
	return t, nil
}

// next reads the next record; false at the end or on an error.
func (t *table) next() (bool, error) {
	rec, err := t.b.cr.Read()
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, csvErr(t.loc, err, rec, len(t.b.header))
	}
	line, _ := t.b.cr.FieldPos(0)
	t.rec, t.line = rec, int64(line)
	return true, nil
}

// field returns wanted column k of the current record, trimmed ("" if the
// column is absent). It aliases the record: clone what you keep.
func (t *table) field(k int) string {
	if i := t.idx[k]; i >= 0 {
		return strings.TrimSpace(t.rec[i])
	}
	return ""
}

// errAt is an *Error at the current line about wanted column k (-1: none).
func (t *table) errAt(k int, format string, args ...any) *Error {
	field := ""
	if k >= 0 {
		field = t.want[k]
	}
	return t.loc.errAt(t.line, field, format, args...)
}

// float reads a finite number; empty is an error.
func (t *table) float(k int) (float64, error) {
	s := t.field(k)
	if s == "" {
		return 0, t.errAt(k, "is empty; the column is required")
	}
	v, err := parseFloat(s)
	if err != nil {
		return 0, t.errAt(k, "%q is not a number", s)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, t.errAt(k, "%s is not a finite number", fmtNum(v))
	}
	return v, nil
}

// seconds reads a time in seconds, ≥ 0 (> 0 and at least 1 µs if
// positive) and at most maxSeconds; empty is an error.
func (t *table) seconds(k int, positive bool) (float64, error) {
	v, err := t.float(k)
	switch {
	case err != nil:
		return 0, err
	case positive && v <= 0:
		return 0, t.errAt(k, "%s must be > 0", fmtNum(v))
	case v < 0:
		return 0, t.errAt(k, "%s must be ≥ 0", fmtNum(v))
	case v > maxSeconds:
		return 0, t.errAt(k, "%s is too large (at most %g s)", fmtNum(v), maxSeconds)
	case positive && sim.FromSeconds(v) < 1:
		return 0, t.errAt(k, "%s rounds to 0 µs; the shortest is 0.000001 s", fmtNum(v))
	}
	return v, nil
}

// int reads a whole number in [lo, hi] ("8.0" and "1e3" count as whole);
// an empty cell is an error if required, else 0 with no error.
func (t *table) int(k int, lo, hi int64, required bool) (int64, error) {
	s := t.field(k)
	if s == "" {
		if required {
			return 0, t.errAt(k, "is empty; the column is required")
		}
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := parseFloat(s)
		if ferr != nil || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
			return 0, t.errAt(k, "%q is not a whole number", s)
		}
		v = int64(f)
	}
	if v < lo || v > hi {
		if v < lo && hi == math.MaxInt32 {
			return 0, t.errAt(k, "%d must be ≥ %d", v, lo)
		}
		return 0, t.errAt(k, "%d is outside %d..%d", v, lo, hi)
	}
	return v, nil
}

// InternalOnly reports that every Philly job is internal work.
func (r *PhillyReader) InternalOnly() bool { return true }
