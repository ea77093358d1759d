package results

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// jobs.arrow's columns are filled as plain Go slices rather than through
// arrow-go's builders: a builder's Append pays a capacity check and a
// validity bit per value, and jobs.arrow takes 25 values per job, millions
// of jobs a run, on the writer's goroutine (a profile of the meta scenario
// put a tenth of the run's CPU there). Here an append is a slice append; a
// null also sets a bit in a bitmap of nulls. NewRecordBatch wraps the
// slices as Arrow arrays without copying, and the next batch's columns
// take memory the writing goroutine has given back (recycler).
//
// The arrays are those the builders made, buffer for buffer, so the files
// are byte for byte the same: a null's value slot is zero, a column without
// nulls has no validity bitmap (a null count of 0), and a validity bitmap
// is padded to 64 bytes with zero bits past the last row (what the IPC
// writer wrote of a builder's bitmap reserved for a whole batch).

// column is one column of the batch being filled.
type column interface {
	// newArray returns the rows appended since the last call as an Arrow
	// array of the column's type, and leaves the column empty. The array
	// owns their memory, which goes back to pool when it is released.
	newArray(pool memory.Allocator) arrow.Array
	// reserve makes room for rows more rows, in memory from pool.
	reserve(pool memory.Allocator, rows int)
}

// columns is a batch of columns, one per schema field; it makes a table's
// record batches as an *array.RecordBuilder does.
type columns struct {
	schema *arrow.Schema
	cols   []column // in schema order
	pool   recycler
}

// addColumn sets column i of c to col and returns col.
func addColumn[C column](c *columns, i int, col C) C {
	c.cols[i] = col
	return col
}

// Reserve makes room for rows more rows in every column.
func (c *columns) Reserve(rows int) {
	for _, col := range c.cols {
		col.reserve(&c.pool, rows)
	}
}

// NewRecordBatch returns the rows appended since the last call as a record
// batch and leaves the columns empty. Every column must have had a value
// or a null appended for each row.
func (c *columns) NewRecordBatch() arrow.RecordBatch {
	arrs := make([]arrow.Array, len(c.cols))
	for i, col := range c.cols {
		arrs[i] = col.newArray(&c.pool)
		if n := arrs[0].Len(); arrs[i].Len() != n {
			panic(fmt.Sprintf("results: column %s has %d rows, %s %d", c.schema.Field(i).Name, arrs[i].Len(), c.schema.Field(0).Name, n))
		}
	}
	rec := array.NewRecordBatch(c.schema, arrs, int64(arrs[0].Len()))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// Release does nothing: the columns hold Go memory only.
func (c *columns) Release() {}

// recycler is a memory.Allocator that keeps the memory given back to it
// for its next allocations. The columns' slices come from it and go back
// to it when the record batch that wraps them is released by the writing
// goroutine, once the encoder has written it (Arrow's reference counts say
// when): a run allocates and zeroes a few batches' worth of columns, not
// one per batch. Free may be called from another goroutine.
type recycler struct {
	mu   sync.Mutex
	free [][]byte
}

// Allocate returns the smallest kept slice that holds size bytes, or a new
// one. A kept slice's bytes are not zeroed.
func (r *recycler) Allocate(size int) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	best := -1
	for i, b := range r.free {
		if cap(b) >= size && (best < 0 || cap(b) < cap(r.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]byte, size)
	}
	b := r.free[best]
	r.free[best] = r.free[len(r.free)-1]
	r.free = r.free[:len(r.free)-1]
	return b[:size]
}

func (r *recycler) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	out := r.Allocate(size)
	copy(out, b)
	r.Free(b)
	return out
}

func (r *recycler) Free(b []byte) {
	if cap(b) == 0 {
		return
	}
	r.mu.Lock()
	r.free = append(r.free, b[:0])
	r.mu.Unlock()
}

// grow returns s with room for n more elements: s, or a copy in memory
// from pool.
func grow[T arrow.FixedWidthType](pool memory.Allocator, s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	var v T
	out := arrow.GetData[T](pool.Allocate((len(s) + n) * int(unsafe.Sizeof(v))))[:len(s)]
	copy(out, s)
	return out
}

// buffer wraps s as an Arrow buffer that gives s's memory back to pool
// when released.
func buffer[T arrow.FixedWidthType](pool memory.Allocator, s []T) *memory.Buffer {
	return memory.NewBufferWithAllocator(arrow.GetBytes(s), pool)
}

// nulls marks a column's null rows, a bit per row, grown as nulls come: the
// inverse of Arrow's validity bitmap, so that a value costs nothing.
type nulls struct {
	bits []byte
	n    int
}

func (m *nulls) add(row int) {
	for len(m.bits) <= row>>3 {
		m.bits = append(m.bits, 0)
	}
	bitutil.SetBit(m.bits, row)
	m.n++
}

// take returns the Arrow validity bitmap of a column of rows rows, in
// memory from pool (nil if no row is null), and its null count, and clears
// m.
func (m *nulls) take(pool memory.Allocator, rows int) (*memory.Buffer, int) {
	n := m.n
	if n == 0 {
		return nil, 0
	}
	used := int(bitutil.BytesForBits(int64(rows)))
	// Padded as the IPC writer pads a builder's bitmap (to 64 bytes).
	out := pool.Allocate((used + 63) &^ 63)
	clear(out[used:])
	for i := range used {
		var b byte
		if i < len(m.bits) {
			b = m.bits[i]
		}
		out[i] = ^b
	}
	if r := rows & 7; r != 0 {
		out[used-1] &= 1<<r - 1 // no bit past the last row
	}
	m.bits, m.n = m.bits[:0], 0
	return buffer(pool, out), n
}

// fixedColumn is a column of a fixed-width type: numbers, or the indices of
// a dictionary column.
type fixedColumn[T int8 | int32 | int64 | float64] struct {
	vals  []T
	nulls nulls
}

func (c *fixedColumn[T]) Append(v T) { c.vals = append(c.vals, v) }

// AppendNull appends a null, whose value slot is zero.
func (c *fixedColumn[T]) AppendNull() {
	c.nulls.add(len(c.vals))
	c.vals = append(c.vals, 0)
}

func (c *fixedColumn[T]) reserve(pool memory.Allocator, rows int) { c.vals = grow(pool, c.vals, rows) }

// newArrayOf returns the column's rows as an array of type typ, with the
// given dictionary (nil but for a dictionary column's indices), and leaves
// the column empty.
func (c *fixedColumn[T]) newArrayOf(pool memory.Allocator, typ arrow.DataType, dict *array.Data) arrow.Array {
	n := len(c.vals)
	valid, nullN := c.nulls.take(pool, n)
	bufs := []*memory.Buffer{valid, buffer(pool, c.vals)}
	c.vals = nil
	return makeArray(typ, n, bufs, nullN, dict)
}

func (c *fixedColumn[T]) newArray(pool memory.Allocator) arrow.Array {
	return c.newArrayOf(pool, arrow.GetDataType[T](), nil)
}

// makeArray returns an array of type typ over bufs, which it takes over,
// with the given dictionary (nil but for a dictionary column).
func makeArray(typ arrow.DataType, rows int, bufs []*memory.Buffer, nullN int, dict *array.Data) arrow.Array {
	d := array.NewDataWithDictionary(typ, rows, bufs, nullN, 0, dict)
	defer d.Release()
	for _, b := range bufs {
		if b != nil {
			b.Release() // d holds them
		}
	}
	return array.MakeFromData(d)
}

// boolColumn is a boolean column without nulls.
type boolColumn struct {
	bits []byte // a bit per row, set for true
	rows int
}

func (c *boolColumn) Append(v bool) {
	if c.rows&7 == 0 {
		c.bits = append(c.bits, 0)
	}
	if v {
		bitutil.SetBit(c.bits, c.rows)
	}
	c.rows++
}

func (c *boolColumn) reserve(pool memory.Allocator, rows int) {
	c.bits = grow(pool, c.bits, int(bitutil.BytesForBits(int64(rows))))
}

func (c *boolColumn) newArray(pool memory.Allocator) arrow.Array {
	a := makeArray(arrow.FixedWidthTypes.Boolean, c.rows, []*memory.Buffer{nil, buffer(pool, c.bits)}, 0, nil)
	c.bits, c.rows = nil, 0
	return a
}

// stringColumn is a utf8 column: the rows' bytes end to end, and where each
// row ends.
type stringColumn struct {
	offsets []int32 // row i is data[offsets[i]:offsets[i+1]]; offsets[0] = 0
	data    []byte
	nulls   nulls
	last    int // bytes in the last batch, the room the next one gets
}

func newStringColumn() *stringColumn { return &stringColumn{offsets: []int32{0}} }

// Append appends s. A batch holds far less than the 2 GiB of bytes that
// int32 offsets address (BatchRows job IDs, tenants or reasons).
func (c *stringColumn) Append(s string) {
	c.data = append(c.data, s...)
	c.offsets = append(c.offsets, int32(len(c.data)))
}

// AppendNull appends a null, an empty string in data.
func (c *stringColumn) AppendNull() {
	c.nulls.add(len(c.offsets) - 1)
	c.offsets = append(c.offsets, int32(len(c.data)))
}

func (c *stringColumn) reserve(pool memory.Allocator, rows int) {
	c.offsets = grow(pool, c.offsets, rows)
	c.data = grow(pool, c.data, c.last)
}

func (c *stringColumn) newArray(pool memory.Allocator) arrow.Array {
	n := len(c.offsets) - 1
	valid, nullN := c.nulls.take(pool, n)
	if c.data == nil {
		c.data = []byte{} // the builders' empty values buffer, not none
	}
	bufs := []*memory.Buffer{valid, buffer(pool, c.offsets), buffer(pool, c.data)}
	c.last = len(c.data)
	c.offsets, c.data = []int32{0}, nil
	return makeArray(arrow.BinaryTypes.String, n, bufs, nullN, nil)
}

// dictColumn is a dictionary-encoded string column with a fixed dictionary
// (DictValues), the same in every batch: its rows are indices into it.
type dictColumn struct {
	typ  *arrow.DictionaryType
	dict *array.Data // shared by every batch
	idx  fixedColumn[int8]
}

// newDictColumn returns a column of the given dictionary type whose
// dictionary holds values, in that order. It is the dictionary a
// BinaryDictionaryBuilder makes of them, so that the file's dictionary
// batches are the builder's.
func newDictColumn(mem memory.Allocator, typ *arrow.DictionaryType, values []string) *dictColumn {
	b := array.NewDictionaryBuilder(mem, typ).(*array.BinaryDictionaryBuilder)
	defer b.Release()
	vals := array.NewStringBuilder(mem)
	defer vals.Release()
	vals.AppendValues(values, nil)
	arr := vals.NewStringArray()
	defer arr.Release()
	if err := b.InsertStringDictValues(arr); err != nil {
		panic("results: " + err.Error())
	}
	empty := b.NewDictionaryArray()
	defer empty.Release()
	dict := empty.Dictionary().Data().(*array.Data)
	dict.Retain()
	return &dictColumn{typ: typ, dict: dict}
}

// AppendIndex appends the dictionary's i-th value. DictValues lists the
// values in the order of their enum (sim.Segment, sim.State,
// fleet.TypeID), so an enum value is its own index: appending it skips
// hashing the string. An index outside the dictionary would be a value the
// file cannot hold (the IPC file format has one dictionary per column for
// every batch).
func (c *dictColumn) AppendIndex(i int) {
	if i < 0 || i >= c.dict.Len() {
		panic(fmt.Sprintf("results: index %d is not in the fixed dictionary of its jobs column (%d values)", i, c.dict.Len()))
	}
	c.idx.Append(int8(i))
}

func (c *dictColumn) AppendNull() { c.idx.AppendNull() }

func (c *dictColumn) reserve(pool memory.Allocator, rows int) { c.idx.reserve(pool, rows) }

func (c *dictColumn) newArray(pool memory.Allocator) arrow.Array {
	return c.idx.newArrayOf(pool, c.typ, c.dict)
}
