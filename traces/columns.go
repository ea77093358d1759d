package traces

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// col is a canonical column.
type col int

// Canonical columns, in the order writers emit them.
const (
	cJobID col = iota
	cSubmit
	cGPUs
	cDuration
	cMilli
	cType
	cTenant
	cSegment
	cPriority
	cPatience
	cQoS
	cCPU
	cMem
	numCols
)

var colNames = [numCols]string{
	"job_id", "submit_s", "gpus", "duration_s",
	"gpu_milli", "gpu_type", "tenant", "segment", "priority", "patience_s",
	"qos", "cpu_milli", "memory_mib",
}

// numRequired: the first numRequired canonical columns are required.
const numRequired = 4

type colKind uint8

const (
	kindString colKind = iota
	kindInt
	kindFloat
)

var colKinds = [numCols]colKind{
	kindString, kindFloat, kindInt, kindFloat,
	kindInt, kindString, kindString, kindString, kindInt, kindFloat,
	kindString, kindInt, kindInt,
}

// Columns returns the canonical column names in the order writers emit
// them; the first four (job_id, submit_s, gpus, duration_s) are required.
func Columns() []string { return colNames[:] }

// maxSeconds bounds every time field (about 31,700 years) so that a sum of
// a few times cannot overflow sim.Time's int64 microseconds (±2.9e5 years).
const maxSeconds = 1e12

// DefaultTenant is the tenant of a job whose tenant cell is empty.
const DefaultTenant = "internal"

// resolveColumns maps header names to canonical columns. Names match after
// trimming spaces, case-insensitively. Unknown columns are reported in one
// warning line.
func resolveColumns(l *loc, names []string, warn io.Writer) ([numCols]int, error) {
	var idx [numCols]int
	for c := range idx {
		idx[c] = -1
	}
	var unknown []string
	for i, n := range names {
		key := strings.ToLower(strings.TrimSpace(n))
		c := lookupCol(key)
		if c < 0 {
			unknown = append(unknown, strconv.Quote(n))
			continue
		}
		if idx[c] >= 0 {
			return idx, &Error{File: l.file, Line: headerLine(l), Field: colNames[c],
				Msg: fmt.Sprintf("column %q appears twice (columns %d and %d)", colNames[c], idx[c]+1, i+1)}
		}
		idx[c] = i
	}
	var missing []string
	for c := col(0); c < numRequired; c++ {
		if idx[c] < 0 {
			missing = append(missing, strconv.Quote(colNames[c]))
		}
	}
	if len(missing) > 0 {
		first := strings.Trim(missing[0], `"`)
		what, has := "column", "header has"
		if len(missing) > 1 {
			what = "columns"
		}
		if l.row {
			has = "schema has"
		}
		return idx, &Error{File: l.file, Field: first, fieldInMsg: true,
			Msg: fmt.Sprintf("missing required %s %s (%s: %s)", what, strings.Join(missing, ", "), has, strings.Join(names, ", "))}
	}
	if len(unknown) > 0 {
		if warn == nil {
			warn = os.Stderr
		}
		fmt.Fprintf(warn, "traces: %s: ignoring unknown columns %s (known: %s)\n",
			l.file, strings.Join(unknown, ", "), strings.Join(colNames[:], ", "))
	}
	return idx, nil
}

func headerLine(l *loc) int64 {
	if l.row {
		return 0
	}
	return 1
}

func lookupCol(key string) col {
	for c, n := range colNames {
		if n == key {
			return col(c)
		}
	}
	return -1
}
