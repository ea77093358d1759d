package traces

import (
	"math"
	"strconv"
	"strings"

	"neosim/sim"
	"neosim/sim/fleet"
)

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

// checkUnique rejects a job_id that an earlier row had, exactly.
func (r *Reader) checkUnique(id string) error {
	first, dup, err := r.ids.add(id, r.earlier)
	if err != nil {
		return err
	}
	if dup {
		return r.fieldErr(cJobID, "duplicate job_id %q (first on %s)", id, r.where(first))
	}
	return nil
}

// earlier reads the file again up to the current row and returns the rows
// whose job_id has hash h.
func (r *Reader) earlier(h uint64) ([]idAt, error) {
	var rows []idAt
	reached := false
	err := r.scan(cJobID, func(c *cell, pos int64) bool {
		if pos >= r.line {
			reached = true
			return false
		}
		id := c.s
		if c.kind == cellInt {
			id = strconv.FormatInt(c.i, 10)
		}
		if c.kind != cellNone && r.ids.hash(id) == h {
			rows = append(rows, idAt{strings.Clone(id), pos})
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if !reached || len(rows) == 0 {
		return nil, r.errAt(r.line, "", "an earlier row vanished while reading the file again (was the file changed?)")
	}
	return rows, nil
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

// number returns a numeric cell's value: ok is false for an empty cell, err
// is parseFloat's for text that is not a number.
func (x *cell) number() (v float64, ok bool, err error) {
	switch x.kind {
	case cellInt:
		return float64(x.i), true, nil
	case cellFloat:
		return x.f, true, nil
	case cellStr:
		v, err = parseFloat(x.s)
		return v, err == nil, err
	}
	return 0, false, nil
}

// float returns a numeric cell as a float64; ok is false for an empty cell.
func (r *Reader) float(c col) (v float64, ok bool, err error) {
	x := &r.cells[c]
	v, ok, err = x.number()
	if err != nil {
		return 0, false, r.fieldErr(c, "%q is not a number", x.s)
	}
	if !ok {
		return 0, false, nil
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
			if f, perr = parseFloat(x.s); perr != nil {
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

// fmtNum formats a number for a message, as short as it reads back.
func fmtNum(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}
