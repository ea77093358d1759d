package traces

import (
	"strconv"
	"strings"
)

// Error is a problem with a trace or node-list file, located so that a user
// can fix it: the file, the line (or row) and the field.
//
// Its message reads like
//
//	traces: jobs.csv:17: field "gpus": "eight" is not a whole number
//	traces: jobs.parquet: row 17: field "gpus": -1 must be ≥ 1
//	traces: jobs.csv: missing required column "duration_s" (header has: job_id, submit_s, gpus)
type Error struct {
	File string // the path as the caller gave it
	// Line is the physical line of a CSV file (the header is line 1) or the
	// 1-based data row of an Arrow or Parquet file (see Row); 0 when the
	// error concerns the whole file (its header or schema).
	Line int64
	// Row reports that Line counts data rows of an Arrow or Parquet file
	// rather than text lines.
	Row   bool
	Field string // the column, or "" when the error is not about one field
	Msg   string
	// Err is the underlying error (an I/O or decoding error), if any.
	Err error

	fieldInMsg bool // Msg already names Field
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("traces: ")
	b.WriteString(e.File)
	switch {
	case e.Line > 0 && e.Row:
		b.WriteString(": row ")
		b.WriteString(strconv.FormatInt(e.Line, 10))
	case e.Line > 0:
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(e.Line, 10))
	}
	if e.Field != "" && !e.fieldInMsg {
		b.WriteString(": field ")
		b.WriteString(strconv.Quote(e.Field))
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }
