package traces

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"strings"
)

// csvBackend reads CSV with encoding/csv, reusing its record slice: the only
// allocation per row is the record's string, which its fields share.
type csvBackend struct {
	loc    *loc
	closer []io.Closer
	cr     *csv.Reader
	header []string
	bound  []boundCol // the columns read, in canonical order
	line   int64
	bytes  int
}

func openCSVFile(l *loc) (backend, error) {
	f, err := os.Open(l.file)
	if err != nil {
		return nil, &Error{File: l.file, Msg: "cannot open", Err: unwrapPath(err)}
	}
	var r io.Reader = bufio.NewReaderSize(f, 1<<16)
	closers := []io.Closer{f}
	if strings.HasSuffix(strings.ToLower(l.file), ".gz") {
		z, err := gzip.NewReader(r)
		if err != nil {
			f.Close()
			return nil, &Error{File: l.file, Msg: "not a gzip file", Err: err}
		}
		closers = append(closers, z)
		r = bufio.NewReaderSize(z, 1<<16)
	}
	b, err := newCSV(l, r)
	if err != nil {
		f.Close()
		return nil, err
	}
	b.closer = closers
	return b, nil
}

// unwrapPath drops the *PathError wrapper, whose path the Error repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// newCSV reads the header from r.
func newCSV(l *loc, r io.Reader) (*csvBackend, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = 0 // the header's field count, enforced on every row
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: l.file, Msg: "empty file: the first line must be a header naming the columns"}
	}
	if err != nil {
		return nil, csvErr(l, err, nil, 0)
	}
	header := make([]string, len(rec))
	for i, h := range rec {
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF") // a byte-order mark
		}
		header[i] = strings.Clone(h)
	}
	return &csvBackend{loc: l, cr: cr, header: header, line: 1}, nil
}

// csvErr turns an encoding/csv error into an *Error.
func csvErr(l *loc, err error, rec []string, want int) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: l.file, Msg: "read failed", Err: err}
	}
	if errors.Is(pe.Err, csv.ErrFieldCount) {
		return l.errAt(int64(pe.StartLine), "", "has %d fields; the header has %d", len(rec), want)
	}
	return l.errAt(int64(pe.Line), "", "malformed CSV at column %d: %v", pe.Column, pe.Err)
}

func (b *csvBackend) columns() []string { return b.header }

// boundCol is a canonical column c and its field i in a record.
type boundCol struct {
	c col
	i int
}

// bind records the columns to read. next writes only those cells of a row:
// the others stay empty (cellNone) as long as the row is only ever filled
// under one binding, as a Reader's is.
func (b *csvBackend) bind(idx *[numCols]int) error {
	b.bound = b.bound[:0]
	for c, i := range idx {
		if i >= 0 {
			b.bound = append(b.bound, boundCol{col(c), i})
		}
	}
	return nil
}

func (b *csvBackend) next(row *[numCols]cell) (bool, error) {
	rec, err := b.cr.Read()
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, csvErr(b.loc, err, rec, len(b.header))
	}
	line, _ := b.cr.FieldPos(0)
	b.line = int64(line)
	n := 0
	for _, f := range rec {
		n += len(f)
	}
	b.bytes = n
	for _, bc := range b.bound {
		if s := trimSpace(rec[bc.i]); s == "" {
			row[bc.c] = cell{}
		} else {
			row[bc.c] = cell{kind: cellStr, s: s}
		}
	}
	return true, nil
}

func (b *csvBackend) pos() int64  { return b.line }
func (b *csvBackend) shared() int { return b.bytes }

func (b *csvBackend) close() error {
	var err error
	for i := len(b.closer) - 1; i >= 0; i-- {
		if e := b.closer[i].Close(); e != nil && err == nil {
			err = e
		}
	}
	b.closer = nil
	return err
}

// trimSpace is strings.TrimSpace with a fast path for the usual cell,
// which starts and ends with a printable ASCII byte.
func trimSpace(s string) string {
	if n := len(s); n > 0 && s[0] > ' ' && s[0] < 0x7f && s[n-1] > ' ' && s[n-1] < 0x7f {
		return s
	}
	return strings.TrimSpace(s)
}
