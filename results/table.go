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
// good compression and fast scans, small enough that the builders stay a
// few MB.
const BatchRows = 65536

// Compression of the data files, in one place: the codec of the Arrow IPC
// files' buffers and of the Parquet files' column chunks. docs/output-schema.md
// names it; change both together.
var (
	ipcCodec     = ipc.WithZstd()
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

// table is one data file being written: a temporary file, an encoder over it
// and the column builders of the current batch.
type table struct {
	tmp, final string
	f          *os.File
	buf        *bufio.Writer
	w          encoder
	b          *array.RecordBuilder
	rows       int // rows in the current batch
	batches    int // batches written
	reserve    int // rows to reserve in the builders for each batch
}

func openTable(dir string, s NamedSchema, format Format, mem memory.Allocator, reserve int) (*table, error) {
	name := format.File(s.Name)
	t := &table{tmp: filepath.Join(dir, "."+name+".tmp"), final: filepath.Join(dir, name), reserve: reserve}
	f, err := os.OpenFile(t.tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	t.f = f
	t.buf = bufio.NewWriterSize(f, 1<<20)
	switch format {
	case FormatParquet:
		t.w, err = newParquetEncoder(t.buf, s.Schema, mem)
	default:
		// Compression runs serially (the default): it keeps the output
		// deterministic and leaves the other cores to other runs of a sweep.
		t.w, err = ipc.NewFileWriter(t.buf, ipc.WithSchema(s.Schema), ipc.WithAllocator(mem), ipcCodec)
	}
	if err != nil {
		f.Close()
		os.Remove(t.tmp)
		return nil, fmt.Errorf("results: %s: %w", t.tmp, err)
	}
	t.b = array.NewRecordBuilder(mem, s.Schema)
	if reserve > 0 {
		t.b.Reserve(reserve)
	}
	return t, nil
}

// flush writes the pending rows as one record batch. With force it writes
// even an empty batch (so that every Arrow file holds at least one batch,
// which some readers handle better than none; the Parquet encoder skips it).
func (t *table) flush(force bool) error {
	if t.rows == 0 && !force {
		return nil
	}
	rec := t.b.NewRecordBatch() // resets the builders
	if t.reserve > 0 {
		t.b.Reserve(t.reserve)
	}
	err := t.w.Write(rec)
	rec.Release()
	t.rows = 0
	t.batches++
	if err != nil {
		return fmt.Errorf("results: writing %s: %w", t.tmp, err)
	}
	return nil
}

// finish writes the last batch and the footer and syncs the file to disk.
func (t *table) finish() error {
	t.reserve = 0 // no batch follows
	if err := t.flush(t.batches == 0); err != nil {
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

// discard closes and removes the temporary file.
func (t *table) discard() {
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
