package traces

import (
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"neosim/sim"
	"neosim/sim/fleet"
)

// col is a canonical column.
type col int

// Canonical columns, in the order writers emit them.
const (
	cJobID col = iota
	cSubmit
	cGPUs
	cDuration
	cMilli
	cType
	cTenant
	cSegment
	cPriority
	cPatience
	cQoS
	cCPU
	cMem
	numCols
)

var colNames = [numCols]string{
	"job_id", "submit_s", "gpus", "duration_s",
	"gpu_milli", "gpu_type", "tenant", "segment", "priority", "patience_s",
	"qos", "cpu_milli", "memory_mib",
}

// numRequired: the first numRequired canonical columns are required.
const numRequired = 4

type colKind uint8

const (
	kindString colKind = iota
	kindInt
	kindFloat
)

var colKinds = [numCols]colKind{
	kindString, kindFloat, kindInt, kindFloat,
	kindInt, kindString, kindString, kindString, kindInt, kindFloat,
	kindString, kindInt, kindInt,
}

// Columns returns the canonical column names in the order writers emit
// them; the first four (job_id, submit_s, gpus, duration_s) are required.
func Columns() []string { return colNames[:] }

// maxSeconds bounds every time field (about 31,700 years) so that a sum of
// a few times cannot overflow sim.Time's int64 microseconds (±2.9e5 years).
const maxSeconds = 1e12

// DefaultTenant is the tenant of a job whose tenant cell is empty.
const DefaultTenant = "internal"

// Options tunes a Reader.
type Options struct {
	// Warn receives warnings (one line each), such as the list of unknown
	// columns that are ignored. Nil means os.Stderr.
	Warn io.Writer
	// Models maps GPU model names of a trace or node list (P100, G2, …) to
	// catalog types, ahead of fleet.DefaultModels (see fleet.ResolveModel).
	// Nil: the defaults alone.
	Models map[string]string
}

// Format is a trace file format.
type Format int

// Formats, chosen by file extension (see FormatOf).
const (
	FormatUnknown     Format = iota
	FormatCSV                // .csv, or .csv.gz (gzip-compressed)
	FormatArrow              // .arrow, .ipc, .feather: Arrow IPC file format (the stream format is accepted too)
	FormatArrowStream        // .arrows: Arrow IPC stream format
	FormatParquet            // .parquet, .pq
)

func (f Format) String() string {
	switch f {
	case FormatCSV:
		return "csv"
	case FormatArrow:
		return "arrow"
	case FormatArrowStream:
		return "arrow-stream"
	case FormatParquet:
		return "parquet"
	}
	return "unknown"
}

// FormatOf returns the format a path's extension selects (case-insensitive).
func FormatOf(path string) Format {
	p := strings.ToLower(path)
	switch {
	case strings.HasSuffix(p, ".csv"), strings.HasSuffix(p, ".csv.gz"):
		return FormatCSV
	case strings.HasSuffix(p, ".arrow"), strings.HasSuffix(p, ".ipc"), strings.HasSuffix(p, ".feather"):
		return FormatArrow
	case strings.HasSuffix(p, ".arrows"):
		return FormatArrowStream
	case strings.HasSuffix(p, ".parquet"), strings.HasSuffix(p, ".pq"):
		return FormatParquet
	}
	return FormatUnknown
}

const extensions = ".csv, .csv.gz, .arrow, .ipc, .feather, .arrows, .parquet, .pq"

// cell is one value of a row as a backend found it.
type cell struct {
	kind cellKind
	s    string
	i    int64
	f    float64
}

type cellKind uint8

const (
	cellNone  cellKind = iota // absent column, empty cell or null
	cellStr                   // s
	cellInt                   // i
	cellFloat                 // f
)

// backend reads rows of one file format.
type backend interface {
	// columns returns the names in the header or schema.
	columns() []string
	// bind selects the source column of each canonical column (-1 when
	// absent). It may reject a column whose type cannot hold the field.
	bind(idx *[numCols]int) error
	// next fills row with the next row's cells. It returns false at the
	// end (with a nil error) or on an error (an *Error).
	next(row *[numCols]cell) (bool, error)
	// pos returns the current row's location: the CSV line where the record
	// starts, or the 1-based row of an Arrow or Parquet file.
	pos() int64
	// shared returns the size of the memory that the current row's string
	// cells share (CSV: the record), or -1 if they alias buffers that are
	// reused and must be copied to be kept.
	shared() int
	close() error
}

// loc is the file a backend reads, for its errors.
type loc struct {
	file string
	row  bool // positions are Arrow/Parquet rows, not CSV lines
}

func (l *loc) errAt(line int64, field, format string, args ...any) *Error {
	return &Error{File: l.file, Line: line, Row: l.row, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Reader streams the jobs of a canonical trace file. It implements
// sim.Source. Memory stays bounded: one CSV record or one record batch of
// 64Ki rows at a time, plus 10 to 20 bytes per job for the duplicate check.
type Reader struct {
	loc
	name   string
	b      backend
	reopen func() (backend, error) // a fresh backend over the same bytes
	idx    [numCols]int
	cells  [numCols]cell

	line     int64 // position of the current row
	last     sim.Time
	lastLine int64

	hash     func(id string) uint64
	seen     hashSet          // hashes of the job_ids so far
	collided map[string]int64 // ids whose hash collided with another id's → their rows

	tenants  memo[string]
	qoses    memo[string]
	types    memo[fleet.TypeSet]
	segments memo[sim.Segment]

	err  error
	done bool
}

var _ sim.Source = (*Reader)(nil)

// Open opens a trace and reads its header or schema; the format follows the
// extension (see FormatOf). Header problems, such as a missing required
// column, are returned here; row problems are returned by Err after Next
// stops. Close the Reader when done.
func Open(path string, opts Options) (*Reader, error) {
	r := &Reader{loc: loc{file: path}, name: "trace " + path}
	format := FormatOf(path)
	switch format {
	case FormatCSV:
		r.reopen = func() (backend, error) { return openCSVFile(&r.loc) }
	case FormatArrow, FormatArrowStream:
		r.row = true
		r.reopen = func() (backend, error) { return openIPC(&r.loc, format == FormatArrowStream) }
	case FormatParquet:
		r.row = true
		r.reopen = func() (backend, error) { return openParquet(&r.loc) }
	default:
		return nil, &Error{File: path, Msg: fmt.Sprintf("unknown trace format %q (extensions: %s)", filepath.Ext(path), extensions)}
	}
	if err := r.init(opts); err != nil {
		return nil, err
	}
	return r, nil
}

// newReader makes a Reader over a backend factory (tests and fuzzing read
// CSV from memory through it).
func newReader(l loc, name string, reopen func(*loc) (backend, error), opts Options) (*Reader, error) {
	r := &Reader{loc: l, name: name}
	r.reopen = func() (backend, error) { return reopen(&r.loc) }
	if err := r.init(opts); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Reader) init(opts Options) error {
	b, err := r.reopen()
	if err != nil {
		return err
	}
	idx, err := resolveColumns(&r.loc, b.columns(), opts.Warn)
	if err == nil {
		err = b.bind(&idx)
	}
	if err != nil {
		b.close()
		return err
	}
	r.b, r.idx = b, idx
	seed := maphash.MakeSeed()
	r.hash = func(id string) uint64 { return maphash.String(seed, id) }
	return nil
}

// resolveColumns maps header names to canonical columns. Names match after
// trimming spaces, case-insensitively. Unknown columns are reported in one
// warning line.
func resolveColumns(l *loc, names []string, warn io.Writer) ([numCols]int, error) {
	var idx [numCols]int
	for c := range idx {
		idx[c] = -1
	}
	var unknown []string
	for i, n := range names {
		key := strings.ToLower(strings.TrimSpace(n))
		c := lookupCol(key)
		if c < 0 {
			unknown = append(unknown, strconv.Quote(n))
			continue
		}
		if idx[c] >= 0 {
			return idx, &Error{File: l.file, Line: headerLine(l), Field: colNames[c],
				Msg: fmt.Sprintf("column %q appears twice (columns %d and %d)", colNames[c], idx[c]+1, i+1)}
		}
		idx[c] = i
	}
	var missing []string
	for c := col(0); c < numRequired; c++ {
		if idx[c] < 0 {
			missing = append(missing, strconv.Quote(colNames[c]))
		}
	}
	if len(missing) > 0 {
		first := strings.Trim(missing[0], `"`)
		what, has := "column", "header has"
		if len(missing) > 1 {
			what = "columns"
		}
		if l.row {
			has = "schema has"
		}
		return idx, &Error{File: l.file, Field: first, fieldInMsg: true,
			Msg: fmt.Sprintf("missing required %s %s (%s: %s)", what, strings.Join(missing, ", "), has, strings.Join(names, ", "))}
	}
	if len(unknown) > 0 {
		if warn == nil {
			warn = os.Stderr
		}
		fmt.Fprintf(warn, "traces: %s: ignoring unknown columns %s (known: %s)\n",
			l.file, strings.Join(unknown, ", "), strings.Join(colNames[:], ", "))
	}
	return idx, nil
}

func headerLine(l *loc) int64 {
	if l.row {
		return 0
	}
	return 1
}

func lookupCol(key string) col {
	for c, n := range colNames {
		if n == key {
			return col(c)
		}
	}
	return -1
}

// Name identifies the source, e.g. "trace testdata/jobs.csv".
func (r *Reader) Name() string { return r.name }

// Err returns the error that stopped Next, or nil at a clean end.
func (r *Reader) Err() error { return r.err }

// Close releases the file. It is safe to call more than once.
func (r *Reader) Close() error {
	r.done = true
	if r.b == nil {
		return nil
	}
	err := r.b.close()
	r.b = nil
	return err
}

// Next fills s with the next job and reports whether there was one. At the
// end of the trace, or at the first bad row, it returns false; Err tells
// which.
func (r *Reader) Next(s *sim.JobSpec) bool {
	if r.done || r.err != nil {
		return false
	}
	ok, err := r.b.next(&r.cells)
	if err == nil && ok {
		r.line = r.b.pos()
		err = r.convert(s)
	}
	if err != nil {
		r.err = err
		ok = false
	}
	if !ok {
		r.done = true
	}
	return ok
}

// convert validates the current row and fills s.
func (r *Reader) convert(s *sim.JobSpec) error {
	id, err := r.id()
	if err != nil {
		return err
	}
	submit, err := r.seconds(cSubmit, true, false)
	if err != nil {
		return err
	}
	gpus, _, err := r.int(cGPUs, 1, math.MaxInt32)
	if err != nil {
		return err
	}
	work, err := r.seconds(cDuration, true, true)
	if err != nil {
		return err
	}
	milli, ok, err := r.int(cMilli, 1, fleet.FullGPU)
	if err != nil {
		return err
	}
	if !ok {
		milli = fleet.FullGPU
	}
	typ, err := r.gpuType()
	if err != nil {
		return err
	}
	seg, err := r.segment()
	if err != nil {
		return err
	}
	prio, _, err := r.int(cPriority, math.MinInt32, math.MaxInt32)
	if err != nil {
		return err
	}
	patience, err := r.seconds(cPatience, false, false)
	if err != nil {
		return err
	}
	cpu, _, err := r.int(cCPU, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	mem, _, err := r.int(cMem, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	if submit < r.last {
		return r.fieldErr(cSubmit, "%s is before the previous row's %s (%s): the canonical format must be sorted by submit_s",
			fmtNum(submit.Seconds()), fmtNum(r.last.Seconds()), r.where(r.lastLine))
	}
	if err := r.checkUnique(id); err != nil {
		return err
	}
	r.last, r.lastLine = submit, r.line
	*s = sim.JobSpec{
		ID:        id,
		Submit:    submit,
		GPUs:      int32(gpus),
		Milli:     uint16(milli),
		GPUTypes:  typ,
		Tenant:    r.intern(cTenant, &r.tenants, DefaultTenant),
		Segment:   seg,
		Priority:  int32(prio),
		Work:      work,
		Patience:  patience,
		QoS:       r.intern(cQoS, &r.qoses, ""),
		CPUMilli:  int32(cpu),
		MemoryMiB: int32(mem),
	}
	return nil
}

// where names a position for a message: "line 5" or "row 5".
func (r *Reader) where(pos int64) string {
	if r.row {
		return "row " + strconv.FormatInt(pos, 10)
	}
	return "line " + strconv.FormatInt(pos, 10)
}

func (r *Reader) fieldErr(c col, format string, args ...any) *Error {
	return r.errAt(r.line, colNames[c], format, args...)
}

func (r *Reader) missing(c col) *Error {
	return r.fieldErr(c, "is empty; the column is required")
}

// id returns the job_id, copied unless it shares a small CSV record.
func (r *Reader) id() (string, error) {
	c := &r.cells[cJobID]
	switch c.kind {
	case cellInt:
		return strconv.FormatInt(c.i, 10), nil
	case cellStr:
		// A CSV record is one allocation that its fields share: keeping the
		// id as a substring keeps the record alive. That is cheaper than a
		// copy while the record is small; copy when it is large.
		if n := r.b.shared(); n < 0 || n > 2*len(c.s)+64 {
			return strings.Clone(c.s), nil
		}
		return c.s, nil
	}
	return "", r.missing(cJobID)
}

// float returns a numeric cell as a float64; ok is false for an empty cell.
func (r *Reader) float(c col) (v float64, ok bool, err error) {
	x := &r.cells[c]
	switch x.kind {
	case cellNone:
		return 0, false, nil
	case cellInt:
		return float64(x.i), true, nil
	case cellFloat:
		v = x.f
	case cellStr:
		v, err = strconv.ParseFloat(x.s, 64)
		if err != nil {
			return 0, false, r.fieldErr(c, "%q is not a number", x.s)
		}
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, r.fieldErr(c, "%s is not a finite number", fmtNum(v))
	}
	return v, true, nil
}

// seconds reads a time column: finite, ≥ 0 (> 0 and at least 1 µs if
// positive), at most maxSeconds.
func (r *Reader) seconds(c col, required, positive bool) (sim.Time, error) {
	v, ok, err := r.float(c)
	if err != nil {
		return 0, err
	}
	if !ok {
		if required {
			return 0, r.missing(c)
		}
		return 0, nil
	}
	switch {
	case positive && v <= 0:
		return 0, r.fieldErr(c, "%s must be > 0", fmtNum(v))
	case v < 0:
		return 0, r.fieldErr(c, "%s must be ≥ 0", fmtNum(v))
	case v > maxSeconds:
		return 0, r.fieldErr(c, "%s is too large (at most %g s)", fmtNum(v), maxSeconds)
	}
	t := sim.FromSeconds(v)
	if positive && t < 1 {
		return 0, r.fieldErr(c, "%s rounds to 0 µs; the shortest is 0.000001 s", fmtNum(v))
	}
	return t, nil
}

// int reads a whole-number column within [lo, hi]; ok is false for an empty
// cell, which is an error for a required column.
func (r *Reader) int(c col, lo, hi int64) (v int64, ok bool, err error) {
	x := &r.cells[c]
	switch x.kind {
	case cellNone:
		if c < numRequired {
			return 0, false, r.missing(c)
		}
		return 0, false, nil
	case cellInt:
		v = x.i
	case cellFloat, cellStr:
		f := x.f
		if x.kind == cellStr {
			var perr error
			if v, perr = strconv.ParseInt(x.s, 10, 64); perr == nil {
				break
			}
			// Accept whole numbers written as floats ("8.0", "1e3"), as
			// tools that store integers as floats write them.
			if f, perr = strconv.ParseFloat(x.s, 64); perr != nil {
				return 0, false, r.fieldErr(c, "%q is not a whole number", x.s)
			}
		}
		if f != math.Trunc(f) || math.IsInf(f, 0) || f < -(1<<63) || f >= 1<<63 {
			return 0, false, r.fieldErr(c, "%s is not a whole number", fmtNum(f))
		}
		v = int64(f)
	}
	if v < lo || v > hi {
		if hi == math.MaxInt32 && (lo == 0 || lo == 1) {
			if v < lo {
				return 0, false, r.fieldErr(c, "%d must be ≥ %d", v, lo)
			}
			return 0, false, r.fieldErr(c, "%d is too large (at most %d)", v, hi)
		}
		return 0, false, r.fieldErr(c, "%d is outside %d..%d", v, lo, hi)
	}
	return v, true, nil
}

// text returns a string cell; ok is false for an empty cell.
func (r *Reader) text(c col) (string, bool) {
	x := &r.cells[c]
	switch x.kind {
	case cellStr:
		return x.s, true
	case cellInt:
		return strconv.FormatInt(x.i, 10), true
	}
	return "", false
}

// memo caches the values parsed from a text column, keyed by the raw cell,
// so that a steady stream of rows neither allocates nor parses. A column
// holds few distinct values that repeat, so a small direct-mapped table
// keyed by the length and end bytes answers most lookups with one string
// comparison, in front of a map. The map stops growing at maxCache keys.
type memo[V any] struct {
	slots [64]memoEntry[V]
	m     map[string]memoEntry[V]
}

type memoEntry[V any] struct {
	key string // a copy that the memo owns; "" marks an empty slot
	v   V
}

// maxCache bounds the distinct keys a memo keeps.
const maxCache = 4096

func memoSlot(s string) int {
	return (len(s)*7 + int(s[0])*3 + int(s[len(s)-1])) & 63
}

// get returns the value for a non-empty key.
func (m *memo[V]) get(s string) (V, bool) {
	e := &m.slots[memoSlot(s)]
	if e.key == s {
		return e.v, true
	}
	if f, ok := m.m[s]; ok {
		*e = f
		return f.v, true
	}
	var zero V
	return zero, false
}

// put records the value for a non-empty key; key must not alias memory
// that is reused.
func (m *memo[V]) put(key string, v V) {
	e := memoEntry[V]{key, v}
	m.slots[memoSlot(key)] = e
	if m.m == nil {
		m.m = map[string]memoEntry[V]{}
	}
	if len(m.m) < maxCache {
		m.m[key] = e
	}
}

func (r *Reader) gpuType() (fleet.TypeSet, error) {
	s, ok := r.text(cType)
	if !ok {
		return 0, nil
	}
	if t, ok := r.types.get(s); ok {
		return t, nil
	}
	t, err := fleet.ParseTypeSet(s)
	if err != nil {
		return 0, r.fieldErr(cType, "%v", err)
	}
	r.types.put(strings.Clone(s), t)
	return t, nil
}

func (r *Reader) segment() (sim.Segment, error) {
	s, ok := r.text(cSegment)
	if !ok {
		return sim.SegInternal, nil
	}
	if g, ok := r.segments.get(s); ok {
		return g, nil
	}
	g, err := sim.ParseSegment(s)
	if err != nil {
		return 0, r.fieldErr(cSegment, "%v", err)
	}
	r.segments.put(strings.Clone(s), g)
	return g, nil
}

// intern returns a text column's value (def if empty), sharing one copy
// of each distinct value through cache.
func (r *Reader) intern(c col, cache *memo[string], def string) string {
	s, ok := r.text(c)
	if !ok {
		return def
	}
	if t, ok := cache.get(s); ok {
		return t
	}
	t := strings.Clone(s)
	cache.put(t, t)
	return t
}

// checkUnique records id and rejects it if an earlier row had it. The table
// keeps a 64-bit hash of each id, not the id: on a hash match the file is
// read again up to the first row with that hash to tell a duplicate from a
// collision, so the check is exact while costing 10 to 20 bytes per job.
func (r *Reader) checkUnique(id string) error {
	h := r.hash(id)
	if !r.seen.add(h) {
		return nil
	}
	if line, ok := r.collided[id]; ok {
		return r.dupErr(id, line)
	}
	prev, first, err := r.firstWithHash(h)
	if err != nil {
		return err
	}
	if prev == id {
		return r.dupErr(id, first)
	}
	// Two ids with the same hash (odds about n²/2^65 for n jobs).
	if r.collided == nil {
		r.collided = map[string]int64{}
	}
	if _, ok := r.collided[prev]; !ok {
		r.collided[prev] = first
	}
	r.collided[strings.Clone(id)] = r.line
	return nil
}

func (r *Reader) dupErr(id string, first int64) error {
	return r.fieldErr(cJobID, "duplicate job_id %q (first on %s)", id, r.where(first))
}

// firstWithHash reads the file again up to the first row whose job_id has
// hash h, and returns that id and its position.
func (r *Reader) firstWithHash(h uint64) (string, int64, error) {
	b, err := r.reopen()
	if err != nil {
		return "", 0, err
	}
	defer b.close()
	if err := b.bind(&r.idx); err != nil {
		return "", 0, err
	}
	var row [numCols]cell
	for {
		ok, err := b.next(&row)
		if err != nil {
			return "", 0, err
		}
		if !ok || b.pos() >= r.line {
			return "", 0, r.errAt(r.line, "", "an earlier row vanished while reading the file again (was the file changed?)")
		}
		c := row[cJobID]
		id := c.s
		if c.kind == cellInt {
			id = strconv.FormatInt(c.i, 10)
		}
		if c.kind != cellNone && r.hash(id) == h {
			return strings.Clone(id), b.pos(), nil
		}
	}
}

// hashSet is a set of 64-bit hashes: open addressing with linear probing
// in a table at most 3/4 full, 8 bytes a slot, so 10.7 to 21.3 bytes per
// hash (a Go map takes about twice that).
type hashSet struct {
	slots []uint64 // 0 marks an empty slot
	n     int      // hashes in slots
	zero  bool     // whether the set holds 0
}

// add inserts h and reports whether the set held it already.
func (s *hashSet) add(h uint64) (had bool) {
	if h == 0 {
		had, s.zero = s.zero, true
		return had
	}
	if 4*(s.n+1) > 3*len(s.slots) {
		old := s.slots
		s.slots = make([]uint64, max(1024, 2*len(old)))
		s.n = 0
		for _, o := range old {
			if o != 0 {
				s.add(o)
			}
		}
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			s.slots[i] = h
			s.n++
			return false
		}
	}
}

// fmtNum formats a number for a message, as short as it reads back.
func fmtNum(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
