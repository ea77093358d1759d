package results

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

// BatchRows is the number of rows per record batch of jobs.arrow and
// timeseries.arrow (per row group of the Parquet files): large enough for
// good compression and fast scans, small enough that the columns stay a
// few MB.
const BatchRows = 65536

// Compression of the data files, in one place: the codec of the Arrow IPC
// files' buffers and of the Parquet files' column chunks.
// docs/output-schema.md names them; change it with them. Arrow IPC uses LZ4
// frames (Arrow's LZ4_FRAME codec, pyarrow's default for Feather): about 3x
// cheaper to write than zstd at its default level, for files about a fifth
// larger (docs/performance.md). Parquet, for data lakes that keep files
// long, stays zstd.
var (
	ipcCodec     = ipc.WithLZ4()
	parquetCodec = compress.Codecs.Zstd
)

// Format is the encoding of a run's data files (jobs, timeseries, summary).
// The rows, columns, types, nullability and schema metadata are the same in
// every format; only the file encoding differs. The zero value is FormatArrow.
type Format uint8

const (
	// FormatArrow: Arrow IPC files (jobs.arrow, …), the default.
	FormatArrow Format = iota
	// FormatParquet: Parquet files (jobs.parquet, …), for data lakes.
	FormatParquet

	numFormats
)

var formatNames = [numFormats]string{FormatArrow: "arrow", FormatParquet: "parquet"}

// String returns the format's name, also its file extension without the dot:
// "arrow" or "parquet".
func (f Format) String() string {
	if f < numFormats {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// Formats returns the names of the formats, the default first (for flag help).
func Formats() []string { return formatNames[:] }

// ParseFormat returns the format named s ("arrow" or "parquet").
func ParseFormat(s string) (Format, error) {
	for f, name := range formatNames {
		if s == name {
			return Format(f), nil
		}
	}
	return 0, fmt.Errorf("results: unknown output format %q (choose %s)", s, strings.Join(Formats(), " or "))
}

// File returns the file name of a data file in this format: File("jobs") is
// "jobs.arrow" or "jobs.parquet".
func (f Format) File(name string) string { return name + "." + f.String() }

func (f Format) valid() error {
	if f >= numFormats {
		return fmt.Errorf("results: unknown output format %v", f)
	}
	return nil
}

// encoder encodes record batches into one file: an Arrow IPC file writer, or
// a Parquet writer that makes each batch a row group. Close writes the footer
// (it does not close the file underneath).
type encoder interface {
	Write(arrow.RecordBatch) error
	Close() error
}

var _ encoder = (*ipc.FileWriter)(nil)

// batchBuilder fills a table's record batches: an *array.RecordBuilder, or
// the columns of jobs.arrow (columns.go).
type batchBuilder interface {
	// NewRecordBatch returns the rows appended since the last call; the
	// next rows go to a new batch.
	NewRecordBatch() arrow.RecordBatch
	// Reserve makes room for n more rows.
	Reserve(n int)
	Release()
}

var _ batchBuilder = (*array.RecordBuilder)(nil)

// table is one data file being written: a temporary file, an encoder over it
// and the builder of the current batch.
//
// A full batch is handed to a goroutine that compresses and writes it while
// the engine fills the next one (the simulation's one loop is the critical
// path; on a 2-core machine this took compression and the write system calls
// off it). Batches go through a channel in order and the one goroutine
// writes them in that order, so the file is byte-identical to a serial
// write. At most asyncBatches batches wait, so memory stays bounded.
type table struct {
	tmp, final string
	f          *os.File
	buf        *bufio.Writer
	w          encoder
	b          batchBuilder
	rows       int // rows in the current batch
	batches    int // batches written
	reserve    int // rows to reserve in the builder for each batch

	recs   chan arrow.RecordBatch // to the writing goroutine; nil before the first batch
	done   chan error             // the goroutine's first error, or nil when recs closed
	failed error                  // the first write error; no batch is written after it
}

// asyncBatches is how many full batches may wait for the writing goroutine
// before the engine blocks: two keep it busy without holding much memory
// (a jobs.arrow batch is about 10 MB before compression).
const asyncBatches = 2

// openTable opens the temporary file of s's table, whose batches b fills
// (the table releases it).
func openTable(dir string, s NamedSchema, format Format, mem memory.Allocator, b batchBuilder, reserve int) (*table, error) {
	name := format.File(s.Name)
	t := &table{tmp: filepath.Join(dir, "."+name+".tmp"), final: filepath.Join(dir, name), reserve: reserve}
	f, err := os.OpenFile(t.tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		b.Release()
		return nil, fmt.Errorf("results: %w", err)
	}
	t.f = f
	// A jobs file writes megabytes per batch; the others are small.
	bufSize := 64 << 10
	if reserve > 1 {
		bufSize = 1 << 20
	}
	t.buf = bufio.NewWriterSize(newWritebackFile(f), bufSize)
	switch format {
	case FormatParquet:
		t.w, err = newParquetEncoder(t.buf, s.Schema, mem)
	default:
		// Compression within a batch runs serially (the default), which
		// keeps the output deterministic; whole batches are written by one
		// goroutine (see table).
		t.w, err = ipc.NewFileWriter(t.buf, ipc.WithSchema(s.Schema), ipc.WithAllocator(mem), ipcCodec)
	}
	if err != nil {
		b.Release()
		f.Close()
		os.Remove(t.tmp)
		return nil, fmt.Errorf("results: %s: %w", t.tmp, err)
	}
	t.b = b
	if reserve > 0 {
		t.b.Reserve(reserve)
	}
	return t, nil
}

// flush hands the pending rows, as one record batch, to the writing
// goroutine. With force it writes even an empty batch (so that every Arrow
// file holds at least one batch, which some readers handle better than none;
// the Parquet encoder skips it). It returns an error the goroutine met
// writing an earlier batch, if any.
func (t *table) flush(force bool) error {
	if t.rows == 0 && !force {
		return nil
	}
	rec := t.b.NewRecordBatch() // empties the builder
	if t.reserve > 0 {
		t.b.Reserve(t.reserve)
	}
	t.rows = 0
	t.batches++
	if t.failed != nil {
		rec.Release()
		return t.failed
	}
	if t.recs == nil {
		t.recs = make(chan arrow.RecordBatch, asyncBatches)
		t.done = make(chan error, 1)
		go t.writeBatches(t.recs, t.done)
	}
	select {
	case err := <-t.done: // the goroutine stopped on an error
		rec.Release()
		close(t.recs)
		t.recs, t.failed = nil, err
		return err
	case t.recs <- rec:
		return nil
	}
}

// writeBatches writes the batches it receives, in order, until recs closes;
// then it sends nil on done. If a write fails it sends the error at once and
// releases the batches that follow unwritten.
func (t *table) writeBatches(recs <-chan arrow.RecordBatch, done chan<- error) {
	var err error
	for rec := range recs {
		if err == nil {
			if werr := t.w.Write(rec); werr != nil {
				err = fmt.Errorf("results: writing %s: %w", t.tmp, werr)
				done <- err
			}
		}
		rec.Release()
	}
	if err == nil {
		done <- nil
	}
}

// wait closes the channel to the writing goroutine and waits for it to
// finish writing the batches sent; it returns the first write error, if any.
func (t *table) wait() error {
	if t.recs == nil {
		return t.failed
	}
	close(t.recs)
	t.recs = nil
	if err := <-t.done; err != nil {
		t.failed = err
	}
	return t.failed
}

// finish writes the last batch and the footer and syncs the file to disk.
func (t *table) finish() error {
	t.reserve = 0 // no batch follows
	if err := t.flush(t.batches == 0); err != nil {
		return err
	}
	if err := t.wait(); err != nil {
		return err
	}
	if err := t.w.Close(); err != nil {
		return fmt.Errorf("results: closing %s: %w", t.tmp, err)
	}
	if err := t.buf.Flush(); err != nil {
		return fmt.Errorf("results: writing %s: %w", t.tmp, err)
	}
	if err := t.f.Sync(); err != nil {
		return fmt.Errorf("results: syncing %s: %w", t.tmp, err)
	}
	err := t.f.Close()
	t.f = nil
	if err != nil {
		return fmt.Errorf("results: closing %s: %w", t.tmp, err)
	}
	return nil
}

// discard stops the writing goroutine, closes and removes the temporary
// file.
func (t *table) discard() {
	t.wait()
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
	os.Remove(t.tmp)
}

func (t *table) release() {
	if t.b != nil {
		t.b.Release()
		t.b = nil
	}
}
