package results

import (
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// parquetEncoder writes each record batch as one row group of a Parquet
// file, so that the file streams like the Arrow IPC one: only the current
// row group's column chunks are held in memory.
//
// The Parquet schema is derived from the Arrow schema by pqarrow: utf8 →
// BYTE_ARRAY (String), int32/int64 → INT32/INT64, uint64 → INT64
// (unsigned), float64 → DOUBLE; a non-nullable field is REQUIRED, a nullable
// one OPTIONAL. The Arrow schema's metadata (neosim.schema_version,
// neosim.file) becomes the file's key/value metadata, next to the standard
// ARROW:schema key (the serialized Arrow schema, as pyarrow writes it), from
// which Arrow readers (arrow-go, pyarrow) restore the exact schema with its
// metadata; readers that ignore it (polars, DuckDB) derive the same types from
// the Parquet schema and read the neosim keys from the key/value metadata.
//
// The output is deterministic: the writer records no time, and its
// created_by string names the arrow-go version only.
type parquetEncoder struct {
	w *pqarrow.FileWriter
}

func newParquetEncoder(out io.Writer, s *arrow.Schema, mem memory.Allocator) (*parquetEncoder, error) {
	props := parquet.NewWriterProperties(
		parquet.WithAllocator(mem),
		parquet.WithCompression(parquetCodec),
		// Pinned rather than left to the library's defaults: format 2.6
		// (logical types such as unsigned integers) with version 1 data
		// pages, which every reader handles.
		parquet.WithVersion(parquet.V2_6),
		parquet.WithDataPageVersion(parquet.DataPageV1),
		// Dictionary encoding (the default) suits the low-cardinality
		// strings (segment, state, gpu_type); the writer falls back to
		// plain pages for the others (job_id) when the dictionary grows.
		parquet.WithDictionaryDefault(true),
		parquet.WithStats(true), // min/max per column chunk, for predicate pushdown
	)
	w, err := pqarrow.NewFileWriter(s, out, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem), pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, err
	}
	return &parquetEncoder{w: w}, nil
}

// Write writes rec as one row group; an empty rec writes nothing (a Parquet
// file with no row group is valid and reads as zero rows).
func (e *parquetEncoder) Write(rec arrow.RecordBatch) error {
	if rec.NumRows() == 0 {
		return nil
	}
	return e.w.Write(rec)
}

// Close writes the footer.
func (e *parquetEncoder) Close() error { return e.w.Close() }

var _ encoder = (*parquetEncoder)(nil)
