package traces

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"neosim/sim"
)

var allFormats = []string{"jobs.csv", "jobs.csv.gz", "jobs.arrow", "jobs.feather", "jobs.arrows", "jobs.parquet"}

// TestRoundTrip writes generated jobs in every format and reads them back.
func TestRoundTrip(t *testing.T) {
	jobs := genJobs(500, 1)
	for _, name := range allFormats {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			if err := Write(path, seq(jobs)); err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			compareJobs(t, got, jobs)
			entries, _ := os.ReadDir(filepath.Dir(path))
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries; want only the trace (no temporary file left)", len(entries))
			}
		})
	}
}

// TestRoundTripBatches crosses record-batch and row-group boundaries.
func TestRoundTripBatches(t *testing.T) {
	defer func(n int) { batchRows = n }(batchRows)
	batchRows = 64
	jobs := genJobs(64*3+5, 2)
	for _, name := range []string{"jobs.arrow", "jobs.arrows", "jobs.parquet"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			if err := Write(path, seq(jobs)); err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			compareJobs(t, got, jobs)
		})
	}
}

func TestRoundTripEmpty(t *testing.T) {
	for _, name := range allFormats {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			if err := Write(path, seq(nil)); err != nil {
				t.Fatal(err)
			}
			got, err := readAll(t, path, Options{})
			if err != nil || len(got) != 0 {
				t.Fatalf("read %d jobs, err %v; want 0, nil", len(got), err)
			}
		})
	}
}

func compareJobs(t *testing.T, got, want []sim.JobSpec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d jobs; wrote %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("job %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestWriterRejects(t *testing.T) {
	good := sim.JobSpec{ID: "a", Submit: sim.Second, GPUs: 1, Milli: 1000, Work: 1}
	tests := []struct {
		name  string
		edit  func(s *sim.JobSpec)
		field string
	}{
		{"unsorted", func(s *sim.JobSpec) { s.Submit = 0 }, "submit_s"},
		{"no id", func(s *sim.JobSpec) { s.ID = "" }, "job_id"},
		{"no gpus", func(s *sim.JobSpec) { s.GPUs = 0 }, "gpus"},
		{"no work", func(s *sim.JobSpec) { s.Work = 0 }, "duration_s"},
		{"milli 0", func(s *sim.JobSpec) { s.Milli = 0 }, "gpu_milli"},
		{"bad type", func(s *sim.JobSpec) { s.GPUTypes = 1 << 15 }, "gpu_type"},
		{"bad segment", func(s *sim.JobSpec) { s.Segment = sim.NumSegments }, "segment"},
		{"negative patience", func(s *sim.JobSpec) { s.Patience = -1 }, "patience_s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.parquet")
			w, err := Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(&good); err != nil {
				t.Fatal(err)
			}
			bad := good
			bad.ID = "b"
			tt.edit(&bad)
			err = w.Write(&bad)
			if e := asError(t, err); e.Field != tt.field || e.Line != 2 || !e.Row {
				t.Errorf("Write: %v; want field %q at row 2", err, tt.field)
			}
			if cerr := w.Close(); cerr != err {
				t.Errorf("Close = %v; want the Write error", cerr)
			}
			if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 0 {
				t.Errorf("a failed write left %d files", len(entries))
			}
		})
	}
}

func TestWriterAbort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.arrow")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range genJobs(10, 3) {
		if err := w.Write(&j); err != nil {
			t.Fatal(err)
		}
	}
	w.Abort()
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 0 {
		t.Errorf("Abort left %d files", len(entries))
	}
	if err := w.Write(&sim.JobSpec{}); err == nil {
		t.Error("Write after Abort succeeded")
	}
	if _, err := Create(filepath.Join(t.TempDir(), "out.json")); err == nil {
		t.Error("Create(.json) succeeded")
	}
}

// writeTable writes one record batch built by build to an Arrow IPC file or
// a Parquet file, by extension.
func writeTable(t *testing.T, name string, fields []arrow.Field, build func(b *array.RecordBuilder)) string {
	t.Helper()
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	build(b)
	rec := b.NewRecordBatch()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(name, ".parquet") {
		w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestArrowColumnTypes reads other integer, float and string types than the
// writer's, nulls as defaults, an integer job_id, and an unknown column.
func TestArrowColumnTypes(t *testing.T) {
	fields := []arrow.Field{
		{Name: "job_id", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "submit_s", Type: arrow.PrimitiveTypes.Int64},
		{Name: "gpus", Type: arrow.PrimitiveTypes.Float32},
		{Name: "duration_s", Type: arrow.PrimitiveTypes.Float32},
		{Name: "tenant", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "segment", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}, Nullable: true},
		{Name: "priority", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
		{Name: "user", Type: arrow.BinaryTypes.String},
	}
	build := func(b *array.RecordBuilder) {
		b.Field(0).(*array.Uint64Builder).AppendValues([]uint64{7, 8}, nil)
		b.Field(1).(*array.Int64Builder).AppendValues([]int64{10, 20}, nil)
		b.Field(2).(*array.Float32Builder).AppendValues([]float32{8, 1}, nil)
		b.Field(3).(*array.Float32Builder).AppendValues([]float32{0.5, 60}, nil)
		b.Field(4).(*array.LargeStringBuilder).AppendValues([]string{"acme", ""}, []bool{true, false})
		seg := b.Field(5).(*array.BinaryDictionaryBuilder)
		seg.AppendString("spot")
		seg.AppendNull()
		b.Field(6).(*array.Uint8Builder).AppendValues([]uint8{5, 0}, []bool{true, false})
		b.Field(7).(*array.StringBuilder).AppendValues([]string{"bob", "eve"}, nil)
	}
	want := []sim.JobSpec{
		{ID: "7", Submit: 10 * sim.Second, GPUs: 8, Milli: 1000, Tenant: "acme", Segment: sim.SegSpot, Priority: 5, Work: 500 * sim.Millisecond},
		{ID: "8", Submit: 20 * sim.Second, GPUs: 1, Milli: 1000, Tenant: "internal", Segment: sim.SegInternal, Work: sim.Minute},
	}
	for _, name := range []string{"typed.arrow", "typed.parquet"} {
		t.Run(name, func(t *testing.T) {
			path := writeTable(t, name, fields, build)
			var warn bytes.Buffer
			got, err := readAll(t, path, Options{Warn: &warn})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read\n%+v\nwant\n%+v", got, want)
			}
			if strings.Count(warn.String(), "\n") != 1 || !strings.Contains(warn.String(), `"user"`) {
				t.Errorf("warnings %q; want one line naming \"user\"", warn.String())
			}
		})
	}
}

// TestArrowErrors checks row-numbered errors in Arrow and Parquet files.
func TestArrowErrors(t *testing.T) {
	required := func(gpusType arrow.DataType) []arrow.Field {
		return []arrow.Field{
			{Name: "job_id", Type: arrow.BinaryTypes.String},
			{Name: "submit_s", Type: arrow.PrimitiveTypes.Float64},
			{Name: "gpus", Type: gpusType, Nullable: true},
			{Name: "duration_s", Type: arrow.PrimitiveTypes.Float64},
		}
	}
	base := func(b *array.RecordBuilder) {
		b.Field(0).(*array.StringBuilder).AppendValues([]string{"a", "b", "c"}, nil)
		b.Field(1).(*array.Float64Builder).AppendValues([]float64{0, 1, 2}, nil)
		b.Field(3).(*array.Float64Builder).AppendValues([]float64{1, 1, 1}, nil)
	}
	tests := []struct {
		name  string
		gpus  arrow.DataType
		fill  func(b array.Builder)
		line  int64
		field string
		msg   string
	}{
		{"null in required column", arrow.PrimitiveTypes.Int32, func(b array.Builder) {
			b.(*array.Int32Builder).AppendValues([]int32{1, 0, 1}, []bool{true, false, true})
		}, 2, "gpus", "is empty; the column is required"},
		{"fractional float gpus", arrow.PrimitiveTypes.Float64, func(b array.Builder) {
			b.(*array.Float64Builder).AppendValues([]float64{1, 2, 8.5}, nil)
		}, 3, "gpus", "8.5 is not a whole number"},
		{"negative gpus", arrow.PrimitiveTypes.Int8, func(b array.Builder) {
			b.(*array.Int8Builder).AppendValues([]int8{-1, 1, 1}, nil)
		}, 1, "gpus", "-1 must be ≥ 1"},
		{"string gpus column", arrow.BinaryTypes.String, func(b array.Builder) {
			b.(*array.StringBuilder).AppendValues([]string{"1", "2", "3"}, nil)
		}, 0, "gpus", "column type utf8 cannot hold the field: it must be a number"},
	}
	for _, tt := range tests {
		for _, ext := range []string{".arrow", ".parquet"} {
			t.Run(tt.name+ext, func(t *testing.T) {
				path := writeTable(t, "bad"+ext, required(tt.gpus), func(b *array.RecordBuilder) {
					base(b)
					tt.fill(b.Field(2))
				})
				_, err := readAll(t, path, Options{})
				if err == nil {
					t.Fatal("read succeeded; want an error")
				}
				e := asError(t, err)
				if e.File != path || e.Line != tt.line || e.Field != tt.field || (tt.line > 0) != e.Row {
					t.Errorf("error %v: line %d (row %v) field %q; want row %d field %q", err, e.Line, e.Row, e.Field, tt.line, tt.field)
				}
				if !strings.Contains(err.Error(), tt.msg) {
					t.Errorf("error %q does not contain %q", err, tt.msg)
				}
				if tt.line > 0 && !strings.Contains(err.Error(), ": row ") {
					t.Errorf("error %q does not say row", err)
				}
			})
		}
	}
}

func TestArrowDuplicateAndUnsorted(t *testing.T) {
	fields := []arrow.Field{
		{Name: "job_id", Type: arrow.BinaryTypes.String},
		{Name: "submit_s", Type: arrow.PrimitiveTypes.Float64},
		{Name: "gpus", Type: arrow.PrimitiveTypes.Int32},
		{Name: "duration_s", Type: arrow.PrimitiveTypes.Float64},
	}
	tests := []struct {
		ids    []string
		submit []float64
		msg    string
	}{
		{[]string{"a", "b", "a"}, []float64{0, 1, 2}, `row 3: field "job_id": duplicate job_id "a" (first on row 1)`},
		{[]string{"a", "b", "c"}, []float64{0, 2, 1}, `row 3: field "submit_s": 1 is before the previous row's 2 (row 2)`},
	}
	for _, tt := range tests {
		for _, ext := range []string{".arrow", ".parquet"} {
			path := writeTable(t, "jobs"+ext, fields, func(b *array.RecordBuilder) {
				b.Field(0).(*array.StringBuilder).AppendValues(tt.ids, nil)
				b.Field(1).(*array.Float64Builder).AppendValues(tt.submit, nil)
				b.Field(2).(*array.Int32Builder).AppendValues([]int32{1, 1, 1}, nil)
				b.Field(3).(*array.Float64Builder).AppendValues([]float64{1, 1, 1}, nil)
			})
			_, err := readAll(t, path, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("%s: error %v; want %q", ext, err, tt.msg)
			}
		}
	}
}
