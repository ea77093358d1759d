package plots

import (
	"fmt"
	"io"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"neosim/results"
)

// kind is what a plot needs a column to hold.
type kind uint8

const (
	kNum  kind = iota // any float or integer type
	kStr              // utf8, or dictionary-encoded utf8
	kBool             // boolean
)

func (k kind) String() string {
	switch k {
	case kNum:
		return "a number"
	case kStr:
		return "utf8"
	default:
		return "bool"
	}
}

func (k kind) accepts(t arrow.DataType) bool {
	switch k {
	case kNum:
		switch t.ID() {
		case arrow.FLOAT64, arrow.FLOAT32, arrow.INT64, arrow.INT32, arrow.UINT64, arrow.UINT32:
			return true
		}
		return false
	case kStr:
		if d, ok := t.(*arrow.DictionaryType); ok {
			return d.ValueType.ID() == arrow.STRING
		}
		return t.ID() == arrow.STRING
	default:
		return t.ID() == arrow.BOOL
	}
}

// col is a column a plot reads.
type col struct {
	name     string
	kind     kind
	optional bool // absent: scan passes a nil array
}

// scan reads the named columns of the Arrow IPC file at path one record batch
// at a time: fn gets the batch's arrays in cols order (nil for an absent
// optional column), valid only during the call. A missing column, or one of
// the wrong type, is an error naming the file and the column.
func scan(path string, cols []col, fn func(arrs []arrow.Array) error) error {
	r, err := results.OpenBatches(path)
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	defer r.Close()
	sc := r.Schema
	idx := make([]int, len(cols))
	for i, c := range cols {
		fi := sc.FieldIndices(c.name)
		switch {
		case len(fi) == 0 && c.optional:
			idx[i] = -1
			continue
		case len(fi) == 0:
			return fmt.Errorf("plots: %s: no column %q", path, c.name)
		case len(fi) > 1:
			return fmt.Errorf("plots: %s: column %q appears %d times", path, c.name, len(fi))
		}
		if t := sc.Field(fi[0]).Type; !c.kind.accepts(t) {
			return fmt.Errorf("plots: %s: column %q is %s, want %s", path, c.name, t, c.kind)
		}
		idx[i] = fi[0]
	}
	arrs := make([]arrow.Array, len(cols))
	for b := 0; ; b++ {
		rec, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("plots: %s: record batch %d: %w", path, b, err)
		}
		for i, k := range idx {
			arrs[i] = nil
			if k >= 0 {
				arrs[i] = rec.Column(k)
			}
		}
		if err := fn(arrs); err != nil {
			return err
		}
	}
}

// num returns row i of a kNum column; NaN for a null (or a NaN).
func num(a arrow.Array, i int) float64 {
	if a.IsNull(i) {
		return math.NaN()
	}
	switch c := a.(type) {
	case *array.Float64:
		return c.Value(i)
	case *array.Float32:
		return float64(c.Value(i))
	case *array.Int64:
		return float64(c.Value(i))
	case *array.Int32:
		return float64(c.Value(i))
	case *array.Uint64:
		return float64(c.Value(i))
	case *array.Uint32:
		return float64(c.Value(i))
	}
	panic("plots: num on a column scan did not accept as a number")
}

// str returns row i of a kStr column; "" for a null.
func str(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return ""
	}
	if d, ok := a.(*array.Dictionary); ok {
		return d.Dictionary().(*array.String).Value(d.GetValueIndex(i))
	}
	return a.(*array.String).Value(i)
}

// boolean returns row i of a kBool column; false for a null.
func boolean(a arrow.Array, i int) bool {
	return !a.IsNull(i) && a.(*array.Boolean).Value(i)
}
