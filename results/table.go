package results

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BatchRows is the number of rows per record batch of jobs.arrow and
// timeseries.arrow: large enough for good compression and fast scans, small
// enough that the builders stay a few MB.
const BatchRows = 65536

// table is one .arrow file being written: a temporary file, an IPC file
// writer over it and the column builders of the current batch.
type table struct {
	tmp, final string
	f          *os.File
	buf        *bufio.Writer
	w          *ipc.FileWriter
	b          *array.RecordBuilder
	rows       int // rows in the current batch
	batches    int // batches written
	reserve    int // rows to reserve in the builders for each batch
}

func openTable(dir string, s NamedSchema, mem memory.Allocator, reserve int) (*table, error) {
	t := &table{tmp: filepath.Join(dir, "."+s.File+".tmp"), final: filepath.Join(dir, s.File), reserve: reserve}
	f, err := os.OpenFile(t.tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	t.f = f
	t.buf = bufio.NewWriterSize(f, 1<<20)
	// Compression runs serially (the default): it keeps the output
	// deterministic and leaves the other cores to other runs of a sweep.
	t.w, err = ipc.NewFileWriter(t.buf, ipc.WithSchema(s.Schema), ipc.WithAllocator(mem), ipc.WithZstd())
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
// even an empty batch (so that every file holds at least one batch, which
// some readers handle better than none).
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
