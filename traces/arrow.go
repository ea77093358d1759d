package traces

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// batchRows is the number of rows per record batch read from Parquet and
// written to Arrow and Parquet files.
var batchRows = 1 << 16 // a variable so that tests can cross batch boundaries with few rows

// batchSource yields record batches; a batch stays valid until the next
// call to next, and the source owns it.
type batchSource interface {
	schema() *arrow.Schema
	// use selects the schema fields that will be read (Parquet reads only
	// those) and returns each one's position in the batches next returns.
	use(fields []int) ([]int, error)
	next() (arrow.RecordBatch, error) // nil, nil at the end
	close() error
}

// arrowBackend reads rows out of record batches, one batch in memory at a
// time.
type arrowBackend struct {
	loc  *loc
	src  batchSource
	cols [numCols]colView // the current batch's columns
	pick [numCols]int     // column of each canonical column in a batch
	i, n int              // next row of the current batch, its length
	row  int64            // 1-based row of the last row returned
}

// colView reads a column of the current batch. Its type is resolved once
// per batch, so that reading a cell is an index into a typed slice rather
// than a type switch on an interface.
type colView struct {
	kind  viewKind
	nulls bool        // the column has nulls: check each cell
	arr   arrow.Array // nil: the column is absent
	i64   []int64
	i32   []int32
	i16   []int16
	f64   []float64
	str   *array.String // viewString; viewDict: the dictionary
	idx   []int32       // viewDict: indices into str
}

type viewKind uint8

const (
	viewAbsent viewKind = iota
	viewInt64
	viewInt32
	viewInt16
	viewFloat64
	viewString
	viewDict  // strings, dictionary-encoded with int32 indices
	viewOther // any other type checkArrowType admits: arrowCell
)

func newColView(a arrow.Array) colView {
	if a == nil {
		return colView{}
	}
	v := colView{kind: viewOther, arr: a, nulls: a.NullN() > 0}
	switch a := a.(type) {
	case *array.Int64:
		v.kind, v.i64 = viewInt64, a.Int64Values()
	case *array.Int32:
		v.kind, v.i32 = viewInt32, a.Int32Values()
	case *array.Int16:
		v.kind, v.i16 = viewInt16, a.Int16Values()
	case *array.Float64:
		v.kind, v.f64 = viewFloat64, a.Float64Values()
	case *array.String:
		v.kind, v.str = viewString, a
	case *array.Dictionary:
		ix, ok1 := a.Indices().(*array.Int32)
		d, ok2 := a.Dictionary().(*array.String)
		if ok1 && ok2 {
			v.kind, v.idx, v.str = viewDict, ix.Int32Values(), d
		}
	}
	return v
}

// fill sets *x to row i's cell.
func (v *colView) fill(x *cell, i int) {
	if v.nulls && v.arr.IsNull(i) {
		x.kind = cellNone
		return
	}
	switch v.kind {
	case viewAbsent:
		x.kind = cellNone
	case viewInt64:
		x.kind, x.i = cellInt, v.i64[i]
	case viewInt32:
		x.kind, x.i = cellInt, int64(v.i32[i])
	case viewInt16:
		x.kind, x.i = cellInt, int64(v.i16[i])
	case viewFloat64:
		x.kind, x.f = cellFloat, v.f64[i]
	case viewString:
		*x = strCell(v.str.Value(i))
	case viewDict:
		*x = strCell(v.str.Value(int(v.idx[i])))
	default:
		*x = arrowCell(v.arr, i)
	}
}

func (b *arrowBackend) columns() []string {
	fs := b.src.schema().Fields()
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return names
}

func (b *arrowBackend) bind(idx *[numCols]int) error {
	var fields []int
	fs := b.src.schema().Fields()
	for c, i := range idx {
		b.pick[c] = -1
		if i < 0 {
			continue
		}
		if err := checkArrowType(b.loc, col(c), fs[i].Type); err != nil {
			return err
		}
		b.pick[c] = len(fields)
		fields = append(fields, i)
	}
	pos, err := b.src.use(fields)
	if err != nil {
		return err
	}
	for c := range b.pick {
		if b.pick[c] >= 0 {
			b.pick[c] = pos[b.pick[c]]
		}
	}
	return nil
}

// checkArrowType accepts any integer or floating-point type for a numeric
// column and string types (plain, large, view or dictionary-encoded) for a
// text column; job_id may also be an integer.
func checkArrowType(l *loc, c col, t arrow.DataType) error {
	numeric := isNumeric(t)
	text := isText(t)
	switch {
	case colKinds[c] != kindString && numeric:
		return nil
	case colKinds[c] == kindString && text:
		return nil
	case c == cJobID && isInteger(t):
		return nil
	}
	want := "a number (any integer or floating-point type)"
	if colKinds[c] == kindString {
		want = "a string"
	}
	return &Error{File: l.file, Field: colNames[c], Msg: fmt.Sprintf("column type %s cannot hold the field: it must be %s", t, want)}
}

func isInteger(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

func isNumeric(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return isInteger(t)
}

func isText(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	case arrow.DICTIONARY:
		return isText(t.(*arrow.DictionaryType).ValueType)
	}
	return false
}

func (b *arrowBackend) next(row *[numCols]cell) (bool, error) {
	for b.i >= b.n {
		rec, err := b.src.next()
		if err != nil {
			return false, b.loc.errAt(b.row+1, "", "cannot read the record batch").wrap(err)
		}
		if rec == nil {
			b.cols = [numCols]colView{}
			return false, nil
		}
		for c, p := range b.pick {
			b.cols[c] = colView{}
			if p >= 0 {
				b.cols[c] = newColView(rec.Column(p))
			}
		}
		b.i, b.n = 0, int(rec.NumRows())
	}
	for c := range b.cols {
		b.cols[c].fill(&row[c], b.i)
	}
	b.i++
	b.row++
	return true, nil
}

// arrowCell reads row i of a column. Strings alias the batch's buffers.
func arrowCell(a arrow.Array, i int) cell {
	if a == nil || a.IsNull(i) {
		return cell{}
	}
	switch a := a.(type) {
	case *array.String:
		return strCell(a.Value(i))
	case *array.LargeString:
		return strCell(a.Value(i))
	case *array.StringView:
		return strCell(a.Value(i))
	case *array.Dictionary:
		return arrowCell(a.Dictionary(), a.GetValueIndex(i))
	case *array.Int8:
		return cell{kind: cellInt, i: int64(a.Value(i))}
	case *array.Int16:
		return cell{kind: cellInt, i: int64(a.Value(i))}
	case *array.Int32:
		return cell{kind: cellInt, i: int64(a.Value(i))}
	case *array.Int64:
		return cell{kind: cellInt, i: a.Value(i)}
	case *array.Uint8:
		return cell{kind: cellInt, i: int64(a.Value(i))}
	case *array.Uint16:
		return cell{kind: cellInt, i: int64(a.Value(i))}
	case *array.Uint32:
		return cell{kind: cellInt, i: int64(a.Value(i))}
	case *array.Uint64:
		if v := a.Value(i); v <= math.MaxInt64 {
			return cell{kind: cellInt, i: int64(v)}
		} else {
			return cell{kind: cellFloat, f: float64(v)}
		}
	case *array.Float16:
		return cell{kind: cellFloat, f: float64(a.Value(i).Float32())}
	case *array.Float32:
		return cell{kind: cellFloat, f: float64(a.Value(i))}
	case *array.Float64:
		return cell{kind: cellFloat, f: a.Value(i)}
	}
	// checkArrowType admits only the types above.
	panic(fmt.Sprintf("traces: unexpected Arrow array %T", a))
}

func strCell(s string) cell {
	s = trimSpace(s)
	if s == "" {
		return cell{}
	}
	return cell{kind: cellStr, s: s}
}

func (b *arrowBackend) pos() int64  { return b.row }
func (b *arrowBackend) shared() int { return -1 }
func (b *arrowBackend) close() error {
	b.cols = [numCols]colView{}
	return b.src.close()
}

func (e *Error) wrap(err error) *Error {
	e.Err = err
	return e
}

// openIPC opens an Arrow IPC file; if it is not in the file format, or
// stream is set, it reads the IPC stream format.
func openIPC(l *loc, stream bool) (backend, error) {
	f, err := os.Open(l.file)
	if err != nil {
		return nil, &Error{File: l.file, Msg: "cannot open", Err: unwrapPath(err)}
	}
	var src batchSource
	if !stream {
		fr, ferr := ipc.NewFileReader(f, ipc.WithAllocator(newPool()))
		if ferr == nil {
			src = &ipcFileSource{f: f, r: fr}
		} else if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, &Error{File: l.file, Msg: "cannot read", Err: err}
		} else if sr, serr := ipc.NewReader(bufio.NewReaderSize(f, 1<<16), ipc.WithAllocator(newPool())); serr == nil {
			src = &ipcStreamSource{f: f, r: sr}
		} else {
			f.Close()
			return nil, &Error{File: l.file, Msg: "not an Arrow IPC file", Err: ferr}
		}
	} else {
		sr, err := ipc.NewReader(bufio.NewReaderSize(f, 1<<16), ipc.WithAllocator(newPool()))
		if err != nil {
			f.Close()
			return nil, &Error{File: l.file, Msg: "not an Arrow IPC stream", Err: err}
		}
		src = &ipcStreamSource{f: f, r: sr}
	}
	return &arrowBackend{loc: l, src: src}, nil
}

type ipcFileSource struct {
	f *os.File
	r *ipc.FileReader
	k int
}

func (s *ipcFileSource) schema() *arrow.Schema           { return s.r.Schema() }
func (s *ipcFileSource) use(fields []int) ([]int, error) { return fields, nil }
func (s *ipcFileSource) next() (arrow.RecordBatch, error) {
	if s.k >= s.r.NumRecords() {
		return nil, nil
	}
	rec, err := s.r.RecordBatch(s.k) // released by the reader at the next call
	s.k++
	return rec, err
}
func (s *ipcFileSource) close() error {
	s.r.Close()
	return s.f.Close()
}

type ipcStreamSource struct {
	f *os.File
	r *ipc.Reader
}

func (s *ipcStreamSource) schema() *arrow.Schema           { return s.r.Schema() }
func (s *ipcStreamSource) use(fields []int) ([]int, error) { return fields, nil }
func (s *ipcStreamSource) next() (arrow.RecordBatch, error) {
	if s.r.Next() {
		return s.r.RecordBatch(), nil
	}
	return nil, s.r.Err()
}
func (s *ipcStreamSource) close() error {
	s.r.Release()
	return s.f.Close()
}

// openParquet opens a Parquet file for reading batch by batch, buffering
// pages rather than whole column chunks.
func openParquet(l *loc) (backend, error) {
	mem := newPool()
	props := parquet.NewReaderProperties(mem)
	props.BufferedStreamEnabled = true
	props.BufferSize = 1 << 18
	pf, err := file.OpenParquetFile(l.file, false, file.WithReadProps(props))
	if err != nil {
		return nil, &Error{File: l.file, Msg: "not a readable Parquet file", Err: unwrapPath(err)}
	}
	// Read the text columns other than job_id as dictionaries: their
	// values repeat, and a dictionary column decodes each distinct string
	// once rather than once per row.
	aprops := pqarrow.ArrowReadProperties{BatchSize: int64(batchRows)}
	leaves := pf.MetaData().Schema
	for i := range leaves.NumColumns() {
		c := leaves.Column(i)
		k := lookupCol(strings.ToLower(strings.TrimSpace(c.Name())))
		if c.PhysicalType() == parquet.Types.ByteArray && k > cJobID && colKinds[k] == kindString {
			aprops.SetReadDict(i, true)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, aprops, mem)
	if err != nil {
		pf.Close()
		return nil, &Error{File: l.file, Msg: "cannot map the Parquet schema to Arrow", Err: err}
	}
	sc, err := fr.Schema()
	if err != nil {
		pf.Close()
		return nil, &Error{File: l.file, Msg: "cannot map the Parquet schema to Arrow", Err: err}
	}
	return &arrowBackend{loc: l, src: &parquetSource{loc: l, pf: pf, fr: fr, sc: sc}}, nil
}

type parquetSource struct {
	loc *loc
	pf  *file.Reader
	fr  *pqarrow.FileReader
	sc  *arrow.Schema
	rr  pqarrow.RecordReader
}

func (s *parquetSource) schema() *arrow.Schema { return s.sc }

func (s *parquetSource) use(fields []int) ([]int, error) {
	leaves := make([]int, len(fields))
	for k, i := range fields {
		sf := s.fr.Manifest.Fields[i]
		if !sf.IsLeaf() {
			return nil, &Error{File: s.loc.file, Field: sf.Field.Name, Msg: "a nested column cannot hold the field"}
		}
		leaves[k] = sf.ColIndex
	}
	rr, err := s.fr.GetRecordReader(context.Background(), leaves, nil)
	if err != nil {
		return nil, &Error{File: s.loc.file, Msg: "cannot read the Parquet columns", Err: err}
	}
	s.rr = rr
	// The record reader orders fields its own way: find them by name.
	got := rr.Schema().Fields()
	pos := make([]int, len(fields))
	for k, i := range fields {
		pos[k] = -1
		for j, f := range got {
			if f.Name == s.sc.Field(i).Name {
				pos[k] = j
			}
		}
		if pos[k] < 0 {
			return nil, &Error{File: s.loc.file, Field: s.sc.Field(i).Name, Msg: "column missing from the Parquet reader's output (field " + strconv.Itoa(i) + ")"}
		}
	}
	return pos, nil
}

func (s *parquetSource) next() (arrow.RecordBatch, error) {
	if s.rr.Next() {
		return s.rr.RecordBatch(), nil
	}
	return nil, s.rr.Err()
}

func (s *parquetSource) close() error {
	if s.rr != nil {
		s.rr.Release()
		s.rr = nil
	}
	return s.pf.Close()
}

// pool is a memory.Allocator that recycles buffers. A reader releases each
// record batch before it decodes the next, so in steady state the batches'
// buffers come back from the pool rather than from new allocations that
// the garbage collector must then clear and sweep. The free buffers sit in
// sync.Pools shared by all readers, which the collector empties, so idle
// memory is not kept.
type pool struct{}

// freeBufs holds free buffers by capacity class: 64<<k bytes.
var freeBufs [40]sync.Pool

func newPool() *pool { return &pool{} }

// poolClass returns k such that 64<<k is the smallest class holding size.
func poolClass(size int) int {
	k := 0
	for 64<<k < size {
		k++
	}
	return k
}

// Allocate returns size zeroed bytes, 64-byte aligned as Arrow expects.
func (p *pool) Allocate(size int) []byte {
	k := poolClass(size)
	if k < len(freeBufs) {
		if b, ok := freeBufs[k].Get().(*[]byte); ok {
			buf := (*b)[:size]
			clear(buf)
			return buf
		}
	}
	c := 64 << k
	buf := make([]byte, c+64)
	shift := int(-uintptr(unsafe.Pointer(unsafe.SliceData(buf))) & 63)
	return buf[shift : shift+size : shift+c]
}

// Reallocate grows b to size bytes, keeping its contents.
func (p *pool) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:])
		}
		return b
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free returns b to the pool if it came from one.
func (p *pool) Free(b []byte) {
	c := cap(b)
	if c < 64 || c&(c-1) != 0 || uintptr(unsafe.Pointer(unsafe.SliceData(b)))&63 != 0 {
		return
	}
	if k := poolClass(c); k < len(freeBufs) {
		b = b[:0]
		freeBufs[k].Put(&b)
	}
}
