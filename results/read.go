package results

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// DataFile returns the path of a run's data file name (jobs, timeseries,
// summary) in dir: name.arrow, or name.parquet if only that exists (a run
// written with FormatParquet). With neither it returns name.arrow, so that
// opening it fails naming the usual file.
func DataFile(dir, name string) string {
	arrowPath := filepath.Join(dir, FormatArrow.File(name))
	if _, err := os.Stat(arrowPath); err != nil {
		pq := filepath.Join(dir, FormatParquet.File(name))
		if _, err := os.Stat(pq); err == nil {
			return pq
		}
	}
	return arrowPath
}

// Batches reads an output file, Arrow IPC or Parquet, one record batch at a
// time.
type Batches struct {
	Schema *arrow.Schema
	next   func() (arrow.RecordBatch, error)
	close  func()
}

// Next returns the next record batch, valid until the next call, or io.EOF
// after the last.
func (b *Batches) Next() (arrow.RecordBatch, error) { return b.next() }

// Close releases the reader and closes the file.
func (b *Batches) Close() { b.close() }

// OpenBatches opens an Arrow IPC file, or a Parquet file if path ends in
// .parquet, read a row group's worth (BatchRows) at a time.
func OpenBatches(path string) (*Batches, error) {
	mem := memory.NewGoAllocator()
	if strings.HasSuffix(path, ".parquet") {
		pf, err := file.OpenParquetFile(path, false, file.WithReadProps(parquet.NewReaderProperties(mem)))
		if err != nil {
			return nil, fmt.Errorf("results: %s: not a Parquet file: %w", path, err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: BatchRows}, mem)
		if err != nil {
			pf.Close()
			return nil, fmt.Errorf("results: %s: %w", path, err)
		}
		rr, err := fr.GetRecordReader(context.Background(), nil, nil)
		if err != nil {
			pf.Close()
			return nil, fmt.Errorf("results: %s: %w", path, err)
		}
		return &Batches{
			Schema: rr.Schema(),
			next: func() (arrow.RecordBatch, error) {
				if rr.Next() {
					return rr.RecordBatch(), nil
				}
				if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
					return nil, err
				}
				return nil, io.EOF
			},
			close: func() { rr.Release(); pf.Close() },
		}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(mem))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("results: %s: not an Arrow IPC file: %w", path, err)
	}
	b := 0
	return &Batches{
		Schema: r.Schema(),
		next: func() (arrow.RecordBatch, error) {
			if b >= r.NumRecords() {
				return nil, io.EOF
			}
			b++
			return r.RecordBatch(b - 1)
		},
		close: func() { r.Close(); f.Close() },
	}, nil
}
