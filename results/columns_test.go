package results

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"neosim/sim"
	"neosim/sim/fleet"
)

// window is the measurement window's start in the tests of jobs.arrow's
// columns.
const window = 50 * sim.Second

// randomJobs returns n jobs whose nullable columns are null at random, in
// every row or in none, by blocks of block rows; the values jobs.arrow
// should hold for them, by column; and the counterfactual's waits, by job
// ID, for Writer.SetCounterfactualWaits.
func randomJobs(n, block int, seed uint64) (jobs []sim.Job, want map[string][]any, cf map[string]sim.Time) {
	want, cf = map[string][]any{}, map[string]sim.Time{}
	add := func(col string, v any) { want[col] = append(want[col], v) }
	rng := rand.New(rand.NewPCG(1, seed))
	for i := range n {
		// Nulls at random, everywhere, or nowhere.
		mode := i / block % 4
		isNull := func() bool { return mode == 0 && rng.IntN(2) == 0 || mode == 1 }
		j := sim.Job{JobSpec: sim.JobSpec{
			ID:       fmt.Sprintf("job-%d%s", i, strings.Repeat("é", rng.IntN(4))),
			Tenant:   strings.Repeat("t", rng.IntN(3)), // "" is a value, not a null
			Submit:   sim.Time(i) * sim.Second,
			GPUs:     rng.Int32N(64),
			Milli:    uint16(1 + rng.IntN(fleet.FullGPU)),
			Priority: rng.Int32N(5) - 2,
			Work:     sim.Time(rng.Int64N(1e12)),
			Tokens:   rng.Int64N(1e12),
		}, Type: fleet.TypeID(rng.IntN(len(fleet.Catalog))), RunTime: sim.Time(rng.Int64N(1e12)), LostTime: sim.Time(rng.Int64N(1e9)),
			Preemptions: rng.Int32N(3), Failures: rng.Int32N(3), PriceMicroUSD: rng.Int64N(1e7)}
		// tokens are null but for serving jobs, wait_s_counterfactual
		// but for internal ones.
		switch {
		case mode == 0:
			j.Segment = sim.Segment(rng.IntN(int(sim.NumSegments)))
		case mode == 1:
			j.Segment = sim.SegSpot
		case i%2 == 0:
			j.Segment = sim.SegServing
		default:
			j.Segment = sim.SegInternal
		}
		add("job_id", j.ID)
		add("segment", j.Segment.String())
		add("tenant", j.Tenant)
		add("gpus", j.GPUs)
		add("gpu_milli", int32(j.Milli))
		add("priority", j.Priority)
		if isNull() {
			j.Type = -1
			add("gpu_type", nil)
		} else {
			add("gpu_type", fleet.Catalog[j.Type].Name)
		}
		add("submit_s", j.Submit.Seconds())
		if isNull() {
			j.FirstStart = -1
			add("start_s", nil)
			add("wait_s", nil)
		} else {
			j.FirstStart = j.Submit + sim.Time(rng.Int64N(1e9))
			add("start_s", j.FirstStart.Seconds())
			add("wait_s", (j.FirstStart - j.Submit).Seconds())
		}
		j.State = []sim.State{sim.Completed, sim.Rejected, sim.Abandoned, sim.Declined}[rng.IntN(4)]
		if isNull() {
			// Unfinished, or no end.
			if j.End = -1; rng.IntN(2) == 0 {
				j.State, j.End = sim.Unfinished, j.Submit
			}
			add("end_s", nil)
		} else {
			j.End = j.Submit + sim.Time(rng.Int64N(1e12))
			add("end_s", j.End.Seconds())
		}
		add("run_s", j.RunTime.Seconds())
		add("work_s", j.Work.Seconds())
		add("state", j.State.String())
		if isNull() {
			add("reason", nil)
		} else {
			j.Reason = strings.Repeat("why", 1+rng.IntN(3))
			add("reason", j.Reason)
		}
		add("preemptions", j.Preemptions)
		add("failures", j.Failures)
		add("gpu_hours", j.GPUHours())
		add("price_usd_per_gpu_h", float64(j.PriceMicroUSD)/1e6)
		add("revenue_usd", float64(j.RevenueMicroUSD())/1e6)
		add("lost_gpu_hours", j.LostGPUHours())
		if isNull() {
			add("customer_id", nil)
		} else {
			j.Customer = fmt.Sprint("c", rng.IntN(1000))
			add("customer_id", j.Customer)
		}
		switch {
		case j.Segment.External():
			add("wait_s_counterfactual", nil)
		case isNull():
			if rng.IntN(2) == 0 {
				cf[j.ID] = -1 // never started there
			}
			add("wait_s_counterfactual", nil)
		default:
			cf[j.ID] = sim.Time(rng.Int64N(1e9))
			add("wait_s_counterfactual", cf[j.ID].Seconds())
		}
		add("in_window", j.Submit >= window)
		if j.Segment == sim.SegServing {
			add("tokens", j.Tokens)
		} else {
			add("tokens", nil)
		}
		jobs = append(jobs, j)
	}
	return jobs, want, cf
}

// TestJobColumns writes jobs whose nullable columns are null at random, in
// every row or in none, block by block, over many small batches (so that
// the columns' memory is recycled while earlier batches wait to be
// written), in both formats, and reads every value of every column back.
func TestJobColumns(t *testing.T) { forEachFormat(t, testJobColumns) }

func testJobColumns(t *testing.T, format Format) {
	for _, batch := range []int{1, 7, 64, 100} {
		dir := t.TempDir()
		n := 12*batch + 5 // a partial last batch
		// Blocks of 3 batches and a bit, so that they do not line up.
		jobs, want, cf := randomJobs(n, 3*batch+2, uint64(batch))
		writeJobs(t, dir, format, batch, jobs, cf)
		f := readData(t, filepath.Join(dir, format.File("jobs")))
		if wantBatches := (n + batch - 1) / batch; f.rows != n || f.batches != wantBatches {
			t.Errorf("batch %d: %d rows in %d batches, want %d in %d", batch, f.rows, f.batches, n, wantBatches)
		}
		for _, c := range jobsSchema.Columns {
			got, ok := f.cols[c.Name]
			if !ok || len(got) != n || len(want[c.Name]) != n {
				t.Fatalf("batch %d: column %s: %d rows read, %d expected", batch, c.Name, len(got), len(want[c.Name]))
			}
			bad := 0
			for i, v := range want[c.Name] {
				if got[i] != v && bad < 3 {
					t.Errorf("batch %d: %s[%d] = %#v, want %#v", batch, c.Name, i, got[i], v)
					bad++
				}
			}
		}
	}
}

// writeJobs writes jobs to jobs.arrow (or .parquet) in dir, in batches of
// batch rows, with the counterfactual's waits cf.
func writeJobs(t *testing.T, dir string, format Format, batch int, jobs []sim.Job, cf map[string]sim.Time) {
	t.Helper()
	w, err := create(dir, format, batch, OutJobs)
	if err != nil {
		t.Fatal(err)
	}
	w.SetWindow(window)
	w.SetCounterfactualWaits(func(j *sim.Job) (sim.Time, bool) { cw, ok := cf[j.ID]; return cw, ok })
	for i := range jobs {
		w.JobEnded(&jobs[i])
	}
	if err := w.Commit(RunInfo{End: sim.Hour}); err != nil {
		t.Fatal(err)
	}
}

// TestJobColumnsMatchBuilders: jobs.arrow is byte for byte the file that
// arrow-go's builders make of the same rows (the writer appended to them
// before it filled plain slices), in batches of BatchRows rows with a
// partial last one: our file read back, value by value, into builders
// reserved for a batch, written through a table as the writer did.
func TestJobColumnsMatchBuilders(t *testing.T) {
	dir, refDir := t.TempDir(), t.TempDir()
	// The last batch, 1003 rows, has nulls at random (mode 0): its
	// validity bitmaps end in a partial byte.
	jobs, _, cf := randomJobs(BatchRows+1003, 4096, 1)
	writeJobs(t, dir, FormatArrow, BatchRows, jobs, cf)
	got, err := os.ReadFile(filepath.Join(dir, JobsFile))
	if err != nil {
		t.Fatal(err)
	}

	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, jobsSchema.Schema)
	for i, c := range jobsSchema.Columns {
		if vals := DictValues(c.Name); vals != nil {
			sb := array.NewStringBuilder(mem)
			sb.AppendValues(vals, nil)
			arr := sb.NewStringArray()
			if err := b.Field(i).(*array.BinaryDictionaryBuilder).InsertStringDictValues(arr); err != nil {
				t.Fatal(err)
			}
			arr.Release()
			sb.Release()
		}
	}
	ref, err := openTable(refDir, jobsSchema, FormatArrow, mem, b, BatchRows)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.release()
	r := openArrow(t, filepath.Join(dir, JobsFile))
	for i := range r.NumRecords() {
		rec, err := r.RecordBatchAt(i)
		if err != nil {
			t.Fatal(err)
		}
		for c, col := range rec.Columns() {
			for k := range col.Len() {
				appendValue(b.Field(c), col, k)
			}
		}
		ref.rows = int(rec.NumRows())
		rec.Release()
		if err := ref.flush(false); err != nil {
			t.Fatal(err)
		}
	}
	if err := ref.finish(); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(ref.tmp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("jobs.arrow (%d bytes) differs from the builders' file (%d bytes)", len(got), len(want))
	}
}

// appendValue appends row k of col to b, a builder of col's type.
func appendValue(b array.Builder, col arrow.Array, k int) {
	if col.IsNull(k) {
		b.AppendNull()
		return
	}
	switch a := col.(type) {
	case *array.String:
		b.(*array.StringBuilder).Append(a.Value(k))
	case *array.Int32:
		b.(*array.Int32Builder).Append(a.Value(k))
	case *array.Int64:
		b.(*array.Int64Builder).Append(a.Value(k))
	case *array.Float64:
		b.(*array.Float64Builder).Append(a.Value(k))
	case *array.Boolean:
		b.(*array.BooleanBuilder).Append(a.Value(k))
	case *array.Dictionary:
		b.(*array.BinaryDictionaryBuilder).AppendIndices([]int{a.GetValueIndex(k)}, nil)
	default:
		panic(fmt.Sprintf("unexpected column type %v", col.DataType()))
	}
}

// TestValidityInRecycledMemory: a validity bitmap made in memory that held
// other bits has the builders' bytes: a bit per valid row, none past the
// last row, zero padding to 64 bytes.
func TestValidityInRecycledMemory(t *testing.T) {
	var pool recycler
	for _, rows := range []int{1, 7, 8, 9, 511, 513, 1003} {
		pool.Free(bytes.Repeat([]byte{0xff}, 4096))
		var m nulls
		want := make([]byte, ((rows+7)/8+63)&^63)
		for r := range rows {
			if r%3 == 0 {
				m.add(r)
			} else {
				bitutil.SetBit(want, r)
			}
		}
		buf, n := m.take(&pool, rows)
		if !bytes.Equal(buf.Bytes(), want) || n != (rows+2)/3 {
			t.Errorf("%d rows: bitmap %x, %d nulls; want %x, %d", rows, buf.Bytes(), n, want, (rows+2)/3)
		}
		buf.Release()
	}
}
