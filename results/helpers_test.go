package results

import (
	"fmt"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"neosim/sim"
	"neosim/sim/fleet"
)

// readFile is an .arrow file read back with arrow-go's IPC reader: its
// schema, batch count and every column as Go values (nil for a null).
type readFile struct {
	schema  *arrow.Schema
	batches int
	rows    int
	cols    map[string][]any
}

func readArrow(t *testing.T, path string) readFile {
	t.Helper()
	r := openArrow(t, path)
	out := readFile{schema: r.Schema(), batches: r.NumRecords(), cols: map[string][]any{}}
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.RecordBatchAt(i)
		if err != nil {
			t.Fatalf("%s: batch %d: %v", path, i, err)
		}
		out.rows += int(rec.NumRows())
		for c, col := range rec.Columns() {
			name := rec.Schema().Field(c).Name
			nulls := 0
			for k := 0; k < col.Len(); k++ {
				v := value(col, k)
				if v == nil {
					nulls++
				}
				out.cols[name] = append(out.cols[name], v)
			}
			// The null count is the file's; the nulls are its bitmap's.
			if nulls != col.NullN() {
				t.Errorf("%s: batch %d: %s has %d nulls, null count %d", path, i, name, nulls, col.NullN())
			}
		}
		rec.Release()
	}
	return out
}

// openArrow opens an .arrow file with arrow-go's IPC reader, closed when
// the test ends.
func openArrow(t *testing.T, path string) *ipc.FileReader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func value(col arrow.Array, k int) any {
	if col.IsNull(k) {
		return nil
	}
	switch a := col.(type) {
	case *array.String:
		return a.Value(k)
	case *array.Int32:
		return a.Value(k)
	case *array.Int64:
		return a.Value(k)
	case *array.Uint64:
		return a.Value(k)
	case *array.Float64:
		return a.Value(k)
	case *array.Boolean:
		return a.Value(k)
	case *array.Dictionary: // a string column of jobs.arrow (DictValues)
		return value(a.Dictionary(), a.GetValueIndex(k))
	}
	panic(fmt.Sprintf("unexpected column type %v", col.DataType()))
}

// sliceSource feeds jobs to the engine.
type sliceSource struct {
	jobs []sim.JobSpec
	i    int
}

func (s *sliceSource) Name() string { return "test jobs" }
func (s *sliceSource) Err() error   { return nil }
func (s *sliceSource) Next(spec *sim.JobSpec) bool {
	if s.i >= len(s.jobs) {
		return false
	}
	*spec = s.jobs[s.i]
	s.i++
	return true
}

// firstFit starts queued jobs in order while the head fits (a tiny FIFO, so
// these tests do not depend on package policies).
type firstFit struct{ buf []fleet.Share }

func (*firstFit) Name() string { return "test-first-fit" }
func (a *firstFit) Schedule(v *sim.View, p *sim.Plan) {
	for len(v.Queue()) > 0 {
		id := v.Queue()[0]
		shares, _, ok := v.Fleet().FirstFit(v.Job(id).Demand(), a.buf[:0])
		a.buf = shares
		if !ok {
			return
		}
		if err := p.Start(id, shares); err != nil {
			panic(err)
		}
	}
}

// flatPricer charges a fixed price per GPU-hour.
type flatPricer struct{}

func (flatPricer) Name() string                    { return "test-flat" }
func (flatPricer) Quote(*sim.View, *sim.Job) int64 { return 2_500_000 } // 2.5 USD

// engineJobs makes n jobs over all segments, a few of which cannot fit
// (rejected) or run out of patience (abandoned).
func engineJobs(n int) []sim.JobSpec {
	jobs := make([]sim.JobSpec, n)
	for i := range jobs {
		seg := sim.Segment(i % int(sim.NumSegments))
		jobs[i] = sim.JobSpec{
			ID:       fmt.Sprintf("j%05d", i),
			Submit:   sim.Time(i) * 7 * sim.Minute,
			GPUs:     int32(1 + i%4),
			Tenant:   fmt.Sprintf("tenant-%d", i%3),
			Segment:  seg,
			Priority: int32(i % 2),
			Work:     sim.Time(10+(i*37)%120) * sim.Minute,
		}
		if i%11 == 5 {
			jobs[i].GPUs = 64 // more than the fleet: rejected
		}
		if i%13 == 7 {
			jobs[i].Patience = sim.Minute // likely abandoned
		}
		if i%9 == 4 {
			jobs[i].Milli = 500
		}
	}
	return jobs
}

// runEngine simulates n jobs on a small fleet with w observing, and returns
// the RunInfo to commit with and the engine's stats.
func runEngine(t testing.TB, w *Writer, n int, horizon sim.Time) (RunInfo, *sim.Stats) {
	t.Helper()
	f, err := fleet.New([]fleet.Group{{Nodes: 2, GPUsPerNode: 4, Type: "H100"}, {Nodes: 1, GPUsPerNode: 4, Type: "A100"}})
	if err != nil {
		t.Fatal(err)
	}
	e := sim.New(sim.Config{Horizon: horizon, SampleInterval: 10 * sim.Minute}, f, &firstFit{}, flatPricer{},
		[]sim.Source{&sliceSource{jobs: engineJobs(n)}}, w)
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	st := e.Stats()
	return RunInfo{
		Scenario: "test", Seed: 42, Allocator: "test-first-fit", Pricer: "test-flat", Horizon: horizon,
		End: st.End, GPUsTotal: int64(f.GPUs()), Events: st.Events, WallSeconds: 0.25, Version: "test",
		Resolved: map[string]any{"name": "test", "jobs": n},
	}, st
}
