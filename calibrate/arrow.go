package calibrate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// SamplesSchema tags a samples file (schema metadata key metaSchema).
const SamplesSchema = "neosim.calibration.samples/1"

// Schema metadata keys of a samples file.
const (
	metaSchema = "neosim.calibration.schema"
	metaRun    = "neosim.calibration.run" // RunInfo as JSON
)

// sampleBatch is the number of rows per record batch: 100 ms × 8 GPUs
// gives a batch every 51 s, so an interrupted run loses nothing that was
// flushed and the builders stay small.
const sampleBatch = 4096

// sampleFields are the columns of a samples file; every reading is a
// nullable float64 (null: NVML did not give it).
var sampleFields = []arrow.Field{
	{Name: "t_s", Type: arrow.PrimitiveTypes.Float64},
	{Name: "device_index", Type: arrow.PrimitiveTypes.Int32},
	{Name: "uuid", Type: arrow.BinaryTypes.String},
	{Name: "mode", Type: arrow.BinaryTypes.String},
	{Name: "level", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "power_w", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "energy_j", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "util_gpu_pct", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "util_mem_pct", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "sm_mhz", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "mem_mhz", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "temp_c", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "throughput", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}

// SampleWriter streams samples to an Arrow IPC file (zstd). It writes to
// PATH.tmp and renames on Close, so PATH is either complete or absent.
type SampleWriter struct {
	path, tmp string
	f         *os.File
	buf       *bufio.Writer
	w         *ipc.FileWriter
	b         *array.RecordBuilder
	rows      int
}

// NewSampleWriter creates the file; info goes into its schema metadata.
func NewSampleWriter(path string, info RunInfo) (*SampleWriter, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("calibrate: %w", err)
		}
	}
	sw := &SampleWriter{path: path, tmp: path + ".tmp"}
	f, err := os.Create(sw.tmp)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	sw.f = f
	sw.buf = bufio.NewWriterSize(f, 1<<20)
	schema, err := sampleSchema(info)
	if err != nil {
		sw.discard()
		return nil, err
	}
	mem := memory.NewGoAllocator()
	sw.w, err = ipc.NewFileWriter(sw.buf, ipc.WithSchema(schema), ipc.WithAllocator(mem), ipc.WithZstd())
	if err != nil {
		sw.discard()
		return nil, fmt.Errorf("calibrate: %s: %w", sw.tmp, err)
	}
	sw.b = array.NewRecordBuilder(mem, schema)
	return sw, nil
}

func sampleSchema(info RunInfo) (*arrow.Schema, error) {
	js, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("calibrate: run info: %w", err)
	}
	md := arrow.NewMetadata([]string{metaSchema, metaRun}, []string{SamplesSchema, string(js)})
	return arrow.NewSchema(sampleFields, &md), nil
}

// Write appends one sample.
func (sw *SampleWriter) Write(s *Sample) error {
	b := sw.b
	b.Field(0).(*array.Float64Builder).Append(s.T.Seconds())
	b.Field(1).(*array.Int32Builder).Append(int32(s.Device))
	b.Field(2).(*array.StringBuilder).Append(s.UUID)
	b.Field(3).(*array.StringBuilder).Append(s.Mode)
	for i, v := range [...]float64{s.Level, s.PowerW, s.EnergyJ, s.UtilGPU, s.UtilMem, s.SMMHz, s.MemMHz, s.TempC, s.Throughput} {
		fb := b.Field(4 + i).(*array.Float64Builder)
		if math.IsNaN(v) {
			fb.AppendNull()
		} else {
			fb.Append(v)
		}
	}
	sw.rows++
	if sw.rows >= sampleBatch {
		return sw.flush()
	}
	return nil
}

func (sw *SampleWriter) flush() error {
	rec := sw.b.NewRecordBatch()
	defer rec.Release()
	sw.rows = 0
	if err := sw.w.Write(rec); err != nil {
		return fmt.Errorf("calibrate: writing %s: %w", sw.tmp, err)
	}
	return sw.buf.Flush() // an interrupted run keeps what was flushed in .tmp
}

// Close writes the last batch and the footer and renames the file into
// place.
func (sw *SampleWriter) Close() error {
	if sw.f == nil {
		return errors.New("calibrate: samples writer already closed")
	}
	err := sw.flush()
	if err == nil {
		err = sw.w.Close()
	}
	if err == nil {
		err = sw.buf.Flush()
	}
	if err == nil {
		err = sw.f.Sync()
	}
	if cerr := sw.f.Close(); err == nil {
		err = cerr
	}
	sw.f = nil
	sw.b.Release()
	if err == nil {
		err = os.Rename(sw.tmp, sw.path)
	}
	if err != nil {
		os.Remove(sw.tmp)
		return fmt.Errorf("calibrate: %s: %w", sw.path, err)
	}
	return nil
}

func (sw *SampleWriter) discard() {
	if sw.f != nil {
		sw.f.Close()
		sw.f = nil
	}
	os.Remove(sw.tmp)
}

// ReadSamples reads a samples file written by SampleWriter.
func ReadSamples(path string) (RunInfo, []Sample, error) {
	var info RunInfo
	f, err := os.Open(path)
	if err != nil {
		return info, nil, fmt.Errorf("calibrate: %w", err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(memory.NewGoAllocator()))
	if err != nil {
		return info, nil, fmt.Errorf("calibrate: %s: not an Arrow IPC file: %w", path, err)
	}
	defer r.Close()
	md := r.Schema().Metadata()
	if v, _ := md.GetValue(metaSchema); v != SamplesSchema {
		return info, nil, fmt.Errorf("calibrate: %s: schema %q, want %q (a file written by neosim calibrate)", path, v, SamplesSchema)
	}
	js, _ := md.GetValue(metaRun)
	if err := json.Unmarshal([]byte(js), &info); err != nil {
		return info, nil, fmt.Errorf("calibrate: %s: run info: %w", path, err)
	}
	idx := make([]int, len(sampleFields))
	for i, fd := range sampleFields {
		is := r.Schema().FieldIndices(fd.Name)
		if len(is) != 1 || !arrow.TypeEqual(r.Schema().Field(is[0]).Type, fd.Type) {
			return info, nil, fmt.Errorf("calibrate: %s: no column %s of type %s", path, fd.Name, fd.Type)
		}
		idx[i] = is[0]
	}
	var out []Sample
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.Record(i)
		if err != nil {
			return info, nil, fmt.Errorf("calibrate: %s: %w", path, err)
		}
		ts := rec.Column(idx[0]).(*array.Float64)
		dev := rec.Column(idx[1]).(*array.Int32)
		uuid := rec.Column(idx[2]).(*array.String)
		mode := rec.Column(idx[3]).(*array.String)
		var fs [9]*array.Float64
		for k := range fs {
			fs[k] = rec.Column(idx[4+k]).(*array.Float64)
		}
		for k := 0; k < int(rec.NumRows()); k++ {
			s := Sample{
				T:      time.Duration(math.Round(ts.Value(k) * float64(time.Second))),
				Device: int(dev.Value(k)), UUID: uuid.Value(k), Mode: mode.Value(k),
			}
			dst := [...]*float64{&s.Level, &s.PowerW, &s.EnergyJ, &s.UtilGPU, &s.UtilMem, &s.SMMHz, &s.MemMHz, &s.TempC, &s.Throughput}
			for c, p := range dst {
				if fs[c].IsNull(k) {
					*p = nan
				} else {
					*p = fs[c].Value(k)
				}
			}
			out = append(out, s)
		}
	}
	return info, out, nil
}
