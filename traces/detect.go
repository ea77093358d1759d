package traces

import "strings"

// Format is a trace file format.
type Format int

// Formats, chosen by file extension (see FormatOf).
const (
	FormatUnknown     Format = iota
	FormatCSV                // .csv, or .csv.gz (gzip-compressed)
	FormatArrow              // .arrow, .ipc, .feather: Arrow IPC file format (the stream format is accepted too)
	FormatArrowStream        // .arrows: Arrow IPC stream format
	FormatParquet            // .parquet, .pq
)

func (f Format) String() string {
	switch f {
	case FormatCSV:
		return "csv"
	case FormatArrow:
		return "arrow"
	case FormatArrowStream:
		return "arrow-stream"
	case FormatParquet:
		return "parquet"
	}
	return "unknown"
}

// FormatOf returns the format a path's extension selects (case-insensitive).
func FormatOf(path string) Format {
	p := strings.ToLower(path)
	switch {
	case strings.HasSuffix(p, ".csv"), strings.HasSuffix(p, ".csv.gz"):
		return FormatCSV
	case strings.HasSuffix(p, ".arrow"), strings.HasSuffix(p, ".ipc"), strings.HasSuffix(p, ".feather"):
		return FormatArrow
	case strings.HasSuffix(p, ".arrows"):
		return FormatArrowStream
	case strings.HasSuffix(p, ".parquet"), strings.HasSuffix(p, ".pq"):
		return FormatParquet
	}
	return FormatUnknown
}

const extensions = ".csv, .csv.gz, .arrow, .ipc, .feather, .arrows, .parquet, .pq"
