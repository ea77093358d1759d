package traces

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"neosim/sim"
	"neosim/sim/fleet"
)

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
// 64Ki rows at a time, plus 8 to 21 bytes per job for the duplicate check.
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

	ids uniqueIDs // the job_ids so far

	tenants  memo[string]
	qoses    memo[string]
	types    memo[fleet.TypeSet]
	segments memo[sim.Segment]

	err  error
	done bool
}

var (
	_ sim.Source   = (*Reader)(nil)
	_ InternalOnly = (*Reader)(nil)
)

// InternalOnly reports that the trace has no segment column: every job is
// internal.
func (r *Reader) InternalOnly() bool { return r.idx[cSegment] < 0 }

// CountRest counts the rows after the last one Next read, reading their
// structure but not their fields, and ends the Reader: a replay with a
// horizon counts the trace's jobs after it, which it does not simulate. A
// row that breaks the file's structure stops the count with its error.
func (r *Reader) CountRest() (n int64, err error) {
	if r.done || r.err != nil {
		return 0, r.err
	}
	r.done = true
	for {
		ok, err := r.b.next(&r.cells)
		if !ok || err != nil {
			return n, err
		}
		n++
	}
}

// ExternalRows reports whether a row of the trace is external work, reading
// only the segment column, up to the first such row, on a backend of its
// own: it may run beside Next. Without a segment column there is none. A
// file it cannot read, or a segment it cannot parse, counts as external
// (Next reports the problem): the caller then keeps its counterfactual.
func (r *Reader) ExternalRows() bool {
	if r.idx[cSegment] < 0 {
		return false
	}
	external := false
	internal := "" // the last segment text seen: internal
	err := r.scan(cSegment, func(c *cell, _ int64) bool {
		switch c.kind {
		case cellNone:
			return true
		case cellStr:
			if c.s == internal {
				return true
			}
			if g, err := sim.ParseSegment(c.s); err == nil && !g.External() {
				internal = strings.Clone(c.s)
				return true
			}
		}
		external = true
		return false
	})
	return external || err != nil
}

// LastSubmit returns the latest submit_s of the trace, reading only that
// column on a backend of its own; ok is false if a value does not read as
// a time (Next reports it).
func (r *Reader) LastSubmit() (last sim.Time, ok bool) {
	ok = true
	err := r.scan(cSubmit, func(c *cell, _ int64) bool {
		v, isNum, err := c.number()
		if err != nil || !isNum || !(v >= 0 && v <= maxSeconds) {
			ok = false
			return false
		}
		last = max(last, sim.FromSeconds(v))
		return true
	})
	return last, ok && err == nil
}

// scan reads column c of the rows in order, on a backend of its own (it may
// run beside Next), and calls visit with each cell and its row's position
// until it returns false.
func (r *Reader) scan(c col, visit func(c *cell, pos int64) bool) error {
	b, err := r.reopen()
	if err != nil {
		return err
	}
	defer b.close()
	var idx [numCols]int
	for k := range idx {
		idx[k] = -1
	}
	idx[c] = r.idx[c]
	if err := b.bind(&idx); err != nil {
		return err
	}
	var row [numCols]cell
	for {
		ok, err := b.next(&row)
		if !ok || err != nil {
			return err
		}
		if !visit(&row[c], b.pos()) {
			return nil
		}
	}
}

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
	r.ids = newUniqueIDs()
	return nil
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
