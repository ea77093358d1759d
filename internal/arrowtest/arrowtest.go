// Package arrowtest reads Arrow IPC output files back in tests, with
// arrow-go, one column at a time.
package arrowtest

import (
	"math"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Column reads one column of an Arrow IPC file: numbers (float64, int64,
// int32; NaN for a null) or strings, plain or dictionary-encoded ("" for a
// null). Another type, or no
// such column, fails the test.
func Column(t testing.TB, path, name string) (nums []float64, strs []string) {
	t.Helper()
	each(t, path, name, func(col arrow.Array) {
		for k := 0; k < col.Len(); k++ {
			if col.IsNull(k) {
				nums = append(nums, math.NaN())
				strs = append(strs, "")
				continue
			}
			switch c := col.(type) {
			case *array.Float64:
				nums = append(nums, c.Value(k))
			case *array.Int64:
				nums = append(nums, float64(c.Value(k)))
			case *array.Int32:
				nums = append(nums, float64(c.Value(k)))
			case *array.String:
				strs = append(strs, c.Value(k))
			case *array.Dictionary: // dictionary-encoded strings
				strs = append(strs, c.Dictionary().(*array.String).Value(c.GetValueIndex(k)))
			default:
				t.Fatalf("%s: column %q has type %v", path, name, col.DataType())
			}
		}
	})
	return nums, strs
}

// Bools reads a boolean column of an Arrow IPC file (a null fails the test).
func Bools(t testing.TB, path, name string) []bool {
	t.Helper()
	var out []bool
	each(t, path, name, func(col arrow.Array) {
		c, ok := col.(*array.Boolean)
		if !ok {
			t.Fatalf("%s: column %q has type %v, want bool", path, name, col.DataType())
		}
		for k := 0; k < c.Len(); k++ {
			if c.IsNull(k) {
				t.Fatalf("%s: column %q row %d is null", path, name, len(out))
			}
			out = append(out, c.Value(k))
		}
	})
	return out
}

// each calls fn with the column name of every record batch of the file.
func each(t testing.TB, path, name string, fn func(arrow.Array)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f, ipc.WithAllocator(memory.NewGoAllocator()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	idx := r.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("%s: no column %q", path, name)
	}
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.RecordBatch(i)
		if err != nil {
			t.Fatal(err)
		}
		fn(rec.Column(idx[0]))
	}
}

// Str returns row i of a string column, plain utf8 or dictionary-encoded
// (jobs.arrow's segment, state and gpu_type).
func Str(a arrow.Array, i int) string {
	if d, ok := a.(*array.Dictionary); ok {
		return d.Dictionary().(*array.String).Value(d.GetValueIndex(i))
	}
	return a.(*array.String).Value(i)
}
