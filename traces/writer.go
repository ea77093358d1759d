package traces

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"neosim/sim"
	"neosim/sim/fleet"
)

// Writer writes a canonical trace, job by job. The format follows the
// extension as for Open (.csv, .csv.gz, .arrow/.ipc/.feather, .arrows,
// .parquet/.pq). Arrow IPC bodies are LZ4-compressed (as pyarrow's Feather
// files are by default): Arrow is the format to replay fast, and LZ4 reads
// about a third faster than zstd there, at a third more bytes. Parquet
// pages are zstd-compressed, for the smallest files.
//
// The file is written under a temporary name in the same directory and
// renamed by Close, so a failed or abandoned write never leaves a file that
// looks whole. Use it as
//
//	w, err := traces.Create(path)
//	if err != nil { … }
//	defer w.Abort() // no-op after a successful Close
//	for … { if err := w.Write(&spec); err != nil { return err } }
//	return w.Close()
type Writer struct {
	path string
	tmp  *os.File
	bw   *bufio.Writer
	enc  encoder
	last sim.Time
	rows int64
	err  error
	done bool
}

type encoder interface {
	write(s *sim.JobSpec) error
	close() error // flushes; does not close the file
}

// Create starts writing a trace to path.
func Create(path string) (*Writer, error) {
	format := FormatOf(path)
	if format == FormatUnknown {
		return nil, &Error{File: path, Msg: fmt.Sprintf("unknown trace format %q (extensions: %s)", filepath.Ext(path), extensions)}
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot create", Err: unwrapPath(err)}
	}
	w := &Writer{path: path, tmp: tmp, bw: bufio.NewWriterSize(tmp, 1<<16)}
	switch format {
	case FormatCSV:
		w.enc, err = newCSVEncoder(w.bw, path)
	case FormatArrow, FormatArrowStream:
		w.enc, err = newArrowEncoder(w.bw, format == FormatArrowStream)
	case FormatParquet:
		w.enc, err = newParquetEncoder(w.bw)
	}
	if err != nil {
		w.Abort()
		return nil, &Error{File: path, Msg: "cannot start writing", Err: err}
	}
	return w, nil
}

// Write appends a job. Jobs must come sorted by submit time and be valid
// (the checks Open applies, except job_id uniqueness, which a writer does
// not track). After an error the Writer accepts nothing more.
func (w *Writer) Write(s *sim.JobSpec) error {
	if w.err != nil {
		return w.err
	}
	if w.done {
		return &Error{File: w.path, Msg: "write after Close or Abort"}
	}
	w.rows++
	if field, msg := checkSpec(s, w.last); msg != "" {
		w.err = &Error{File: w.path, Line: w.rows, Row: true, Field: field, Msg: fmt.Sprintf("job %q: %s", s.ID, msg)}
		return w.err
	}
	if err := w.enc.write(s); err != nil {
		w.err = &Error{File: w.path, Line: w.rows, Row: true, Msg: "write failed", Err: err}
		return w.err
	}
	w.last = s.Submit
	return nil
}

// checkSpec reports what in s a reader would reject.
func checkSpec(s *sim.JobSpec, last sim.Time) (field, msg string) {
	sec := func(t sim.Time) string { return fmtNum(t.Seconds()) }
	switch {
	case s.ID == "":
		return "job_id", "empty job_id"
	case s.Submit < 0 || s.Submit > sim.FromSeconds(maxSeconds):
		return "submit_s", sec(s.Submit) + " is outside 0..1e12"
	case s.Submit < last:
		return "submit_s", fmt.Sprintf("%s is before the previous job's %s: the canonical format must be sorted by submit_s", sec(s.Submit), sec(last))
	case s.GPUs < 1:
		return "gpus", fmt.Sprintf("%d must be ≥ 1", s.GPUs)
	case s.Work < 1 || s.Work > sim.FromSeconds(maxSeconds):
		return "duration_s", sec(s.Work) + " is outside 0.000001..1e12"
	case s.Milli < 1 || s.Milli > fleet.FullGPU:
		return "gpu_milli", fmt.Sprintf("%d is outside 1..%d", s.Milli, fleet.FullGPU)
	case s.GPUTypes>>len(fleet.Catalog) != 0:
		return "gpu_type", fmt.Sprintf("type set %#x names types beyond the catalog", uint16(s.GPUTypes))
	case s.Segment >= sim.NumSegments:
		return "segment", fmt.Sprintf("segment %d does not exist", s.Segment)
	case s.Patience < 0 || s.Patience > sim.FromSeconds(maxSeconds):
		return "patience_s", sec(s.Patience) + " is outside 0..1e12"
	case s.CPUMilli < 0:
		return "cpu_milli", fmt.Sprintf("%d must be ≥ 0", s.CPUMilli)
	case s.MemoryMiB < 0:
		return "memory_mib", fmt.Sprintf("%d must be ≥ 0", s.MemoryMiB)
	}
	return "", ""
}

// Close finishes the file and renames it to its path. After an error from
// Write, Close removes the temporary file and returns that error.
func (w *Writer) Close() error {
	if w.done {
		return w.err
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	err := w.enc.close()
	if err == nil {
		err = w.bw.Flush()
	}
	if err == nil {
		err = w.tmp.Chmod(0o644)
	}
	if cerr := w.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.tmp.Name(), w.path)
	}
	w.done = true
	if err != nil {
		os.Remove(w.tmp.Name())
		w.err = &Error{File: w.path, Msg: "cannot finish writing", Err: unwrapPath(err)}
		return w.err
	}
	return nil
}

// Abort discards the file. It does nothing after Close.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	if w.enc != nil {
		w.enc.close()
	}
	w.tmp.Close()
	os.Remove(w.tmp.Name())
}

// Write writes the jobs of a sequence to a trace at path (see Writer).
func Write(path string, jobs iter.Seq[sim.JobSpec]) error {
	w, err := Create(path)
	if err != nil {
		return err
	}
	defer w.Abort()
	for s := range jobs {
		if err := w.Write(&s); err != nil {
			return err
		}
	}
	return w.Close()
}

func secondsText(t sim.Time) string {
	return strconv.FormatFloat(t.Seconds(), 'f', -1, 64)
}

type csvEncoder struct {
	cw  *csv.Writer
	z   *gzip.Writer
	rec [numCols]string
}

func newCSVEncoder(w io.Writer, path string) (*csvEncoder, error) {
	e := &csvEncoder{}
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		e.z = gzip.NewWriter(w)
		w = e.z
	}
	e.cw = csv.NewWriter(w)
	return e, e.cw.Write(colNames[:])
}

func (e *csvEncoder) write(s *sim.JobSpec) error {
	e.rec = [numCols]string{
		cJobID:    s.ID,
		cSubmit:   secondsText(s.Submit),
		cGPUs:     strconv.Itoa(int(s.GPUs)),
		cDuration: secondsText(s.Work),
		cMilli:    strconv.Itoa(int(s.Milli)),
		cType:     s.GPUTypes.String(),
		cTenant:   s.Tenant,
		cSegment:  s.Segment.String(),
		cPriority: strconv.Itoa(int(s.Priority)),
		cPatience: secondsText(s.Patience),
		cQoS:      s.QoS,
		cCPU:      strconv.Itoa(int(s.CPUMilli)),
		cMem:      strconv.Itoa(int(s.MemoryMiB)),
	}
	return e.cw.Write(e.rec[:])
}

func (e *csvEncoder) close() error {
	e.cw.Flush()
	err := e.cw.Error()
	if e.z != nil {
		if zerr := e.z.Close(); err == nil {
			err = zerr
		}
		e.z = nil
	}
	return err
}

// arrowSchema is the schema Arrow and Parquet traces are written with.
var arrowSchema = arrow.NewSchema([]arrow.Field{
	{Name: colNames[cJobID], Type: arrow.BinaryTypes.String},
	{Name: colNames[cSubmit], Type: arrow.PrimitiveTypes.Float64},
	{Name: colNames[cGPUs], Type: arrow.PrimitiveTypes.Int32},
	{Name: colNames[cDuration], Type: arrow.PrimitiveTypes.Float64},
	{Name: colNames[cMilli], Type: arrow.PrimitiveTypes.Int16},
	{Name: colNames[cType], Type: arrow.BinaryTypes.String, Nullable: true}, // null: any type
	{Name: colNames[cTenant], Type: arrow.BinaryTypes.String},
	{Name: colNames[cSegment], Type: arrow.BinaryTypes.String},
	{Name: colNames[cPriority], Type: arrow.PrimitiveTypes.Int32},
	{Name: colNames[cPatience], Type: arrow.PrimitiveTypes.Float64},
	{Name: colNames[cQoS], Type: arrow.BinaryTypes.String, Nullable: true}, // null: none
	{Name: colNames[cCPU], Type: arrow.PrimitiveTypes.Int32},
	{Name: colNames[cMem], Type: arrow.PrimitiveTypes.Int32},
}, nil)

// batchBuilder accumulates rows into record batches of batchRows rows.
type batchBuilder struct {
	b     *array.RecordBuilder
	flush func(arrow.RecordBatch) error
}

func newBatchBuilder(flush func(arrow.RecordBatch) error) *batchBuilder {
	return &batchBuilder{b: array.NewRecordBuilder(memory.DefaultAllocator, arrowSchema), flush: flush}
}

func (bb *batchBuilder) write(s *sim.JobSpec) error {
	b := bb.b
	b.Field(int(cJobID)).(*array.StringBuilder).Append(s.ID)
	b.Field(int(cSubmit)).(*array.Float64Builder).Append(s.Submit.Seconds())
	b.Field(int(cGPUs)).(*array.Int32Builder).Append(s.GPUs)
	b.Field(int(cDuration)).(*array.Float64Builder).Append(s.Work.Seconds())
	b.Field(int(cMilli)).(*array.Int16Builder).Append(int16(s.Milli))
	if s.GPUTypes == 0 {
		b.Field(int(cType)).(*array.StringBuilder).AppendNull()
	} else {
		b.Field(int(cType)).(*array.StringBuilder).Append(s.GPUTypes.String())
	}
	b.Field(int(cTenant)).(*array.StringBuilder).Append(s.Tenant)
	b.Field(int(cSegment)).(*array.StringBuilder).Append(s.Segment.String())
	b.Field(int(cPriority)).(*array.Int32Builder).Append(s.Priority)
	b.Field(int(cPatience)).(*array.Float64Builder).Append(s.Patience.Seconds())
	if s.QoS == "" {
		b.Field(int(cQoS)).(*array.StringBuilder).AppendNull()
	} else {
		b.Field(int(cQoS)).(*array.StringBuilder).Append(s.QoS)
	}
	b.Field(int(cCPU)).(*array.Int32Builder).Append(s.CPUMilli)
	b.Field(int(cMem)).(*array.Int32Builder).Append(s.MemoryMiB)
	if b.Field(0).Len() >= batchRows {
		return bb.emit()
	}
	return nil
}

func (bb *batchBuilder) emit() error {
	rec := bb.b.NewRecordBatch()
	defer rec.Release()
	return bb.flush(rec)
}

// finish writes the last partial batch.
func (bb *batchBuilder) finish() error {
	defer bb.b.Release()
	if bb.b.Field(0).Len() > 0 {
		return bb.emit()
	}
	return nil
}

type arrowEncoder struct {
	*batchBuilder
	w interface {
		Write(arrow.RecordBatch) error
		Close() error
	}
	closed bool
}

func newArrowEncoder(w io.Writer, stream bool) (*arrowEncoder, error) {
	opts := []ipc.Option{ipc.WithSchema(arrowSchema), ipc.WithLZ4()}
	e := &arrowEncoder{}
	if stream {
		e.w = ipc.NewWriter(w, opts...)
	} else {
		fw, err := ipc.NewFileWriter(w, opts...)
		if err != nil {
			return nil, err
		}
		e.w = fw
	}
	e.batchBuilder = newBatchBuilder(e.w.Write)
	return e, nil
}

func (e *arrowEncoder) close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	err := e.finish()
	if cerr := e.w.Close(); err == nil {
		err = cerr
	}
	return err
}

type parquetEncoder struct {
	*batchBuilder
	fw     *pqarrow.FileWriter
	closed bool
}

// writerOnly hides a Close method: the Parquet writer closes its sink, and
// the Writer closes the file itself.
type writerOnly struct{ io.Writer }

func newParquetEncoder(w io.Writer) (*parquetEncoder, error) {
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithMaxRowGroupLength(int64(batchRows)),
		// job_id, submit_s and duration_s hardly repeat: a dictionary
		// would only slow reading them. The other columns repeat a few
		// values and keep theirs.
		parquet.WithDictionaryFor(colNames[cJobID], false),
		parquet.WithDictionaryFor(colNames[cSubmit], false),
		parquet.WithDictionaryFor(colNames[cDuration], false),
	)
	fw, err := pqarrow.NewFileWriter(arrowSchema, writerOnly{w}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, err
	}
	e := &parquetEncoder{fw: fw}
	e.batchBuilder = newBatchBuilder(fw.Write)
	return e, nil
}

func (e *parquetEncoder) close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	err := e.finish()
	if cerr := e.fw.Close(); err == nil {
		err = cerr
	}
	return err
}
