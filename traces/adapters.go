package traces

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"neosim/sim"
)

// Source is an open job trace: a sim.Source the caller closes.
type Source interface {
	sim.Source
	io.Closer
}

// InternalOnly is an optional Source capability: it reports, once the
// trace is open, that every job it yields is internal work (the format has
// no segment column, as the Philly and openb traces and a canonical trace
// without `segment`). A run of such a trace needs no counterfactual: with
// no external job, it is its own.
type InternalOnly interface {
	InternalOnly() bool
}

// ExternalRows is an optional Source capability of a trace whose rows may
// be external (a canonical trace with a segment column): it reads the file
// again, beside Next, up to the first external row, and reports whether
// there is one. A run whose only possible external jobs are the trace's
// then simulates no counterfactual when it has none.
type ExternalRows interface {
	ExternalRows() bool
}

// CountRest is an optional Source capability: it counts the rows not yet
// read without converting them (a replay's jobs after its horizon), and
// ends the source.
type CountRest interface {
	CountRest() (n int64, err error)
}

// LastSubmit is an optional Source capability: the latest submit time of
// the trace, read from that column alone (ok false: read the jobs instead).
// A replay without a horizon generates synthetic demand up to it.
type LastSubmit interface {
	LastSubmit() (last sim.Time, ok bool)
}

// Adapter reads one kind of job trace: the canonical format, or a public
// trace's own format (philly, openb, …). Each adapter registers itself from
// its file's init function.
type Adapter struct {
	Name string // the --trace-format name
	Doc  string // one line for --help
	// Detect reports whether a CSV header (names trimmed and lower-cased)
	// is this adapter's. Nil: never auto-detected.
	Detect func(header []string) bool
	Open   func(path string, opts Options) (Source, error)
}

// registry holds the formats of one kind (job traces or node lists) by
// name.
type registry[T any] struct {
	kind string
	name func(T) string
	m    map[string]T
}

func (r *registry[T]) add(a T) {
	n := r.name(a)
	if _, dup := r.m[n]; dup {
		panic("traces: " + r.kind + " " + n + " registered twice")
	}
	r.m[n] = a
}

// sorted returns the formats sorted by name.
func (r *registry[T]) sorted() []T {
	out := make([]T, 0, len(r.m))
	for _, a := range r.m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return r.name(out[i]) < r.name(out[j]) })
	return out
}

// names lists the format names for messages.
func (r *registry[T]) names() string {
	var names []string
	for _, a := range r.sorted() {
		names = append(names, r.name(a))
	}
	return strings.Join(names, ", ")
}

var adapters = &registry[Adapter]{kind: "adapter", name: func(a Adapter) string { return a.Name }, m: map[string]Adapter{}}

// Register adds an adapter. Registering a name twice panics.
func Register(a Adapter) { adapters.add(a) }

// Adapters returns the registered adapters sorted by name.
func Adapters() []Adapter { return adapters.sorted() }

func init() {
	Register(Adapter{
		Name: "canonical",
		Doc:  "neosim's own format: CSV, Arrow IPC or Parquet with job_id, submit_s, gpus, duration_s, …",
		Detect: func(h []string) bool {
			return hasAll(h, "job_id", "submit_s", "gpus", "duration_s")
		},
		Open: func(path string, opts Options) (Source, error) { return Open(path, opts) },
	})
}

// hasAll reports whether header holds every name.
func hasAll(header []string, names ...string) bool {
	for _, n := range names {
		found := false
		for _, h := range header {
			if h == n {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// OpenAs opens a job trace with the named adapter; "" or "auto" detects it
// from the file: Arrow and Parquet files are canonical, a CSV file is
// whichever adapter recognizes its header. It returns the adapter's name so
// callers can say what they detected.
func OpenAs(path, format string, opts Options) (Source, string, error) {
	if format == "" || format == "auto" {
		f, err := Detect(path)
		if err != nil {
			return nil, "", err
		}
		format = f
	}
	a, ok := adapters.m[format]
	if !ok {
		return nil, "", fmt.Errorf("traces: unknown trace format %q (formats: auto, %s)", format, adapters.names())
	}
	src, err := a.Open(path, opts)
	return src, format, err
}

// Detect names the adapter for a trace file (see OpenAs).
func Detect(path string) (string, error) {
	switch FormatOf(path) {
	case FormatArrow, FormatArrowStream, FormatParquet:
		return "canonical", nil
	case FormatCSV:
	default:
		return "", &Error{File: path, Msg: fmt.Sprintf("cannot detect the trace format of %q (extensions: %s)", path, extensions)}
	}
	header, err := readCSVHeader(path)
	if err != nil {
		return "", err
	}
	var hits []string
	for _, a := range Adapters() {
		if a.Detect != nil && a.Detect(header) {
			hits = append(hits, a.Name)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		// A header with some canonical columns is a canonical trace with a
		// mistake, which the canonical reader names precisely.
		for _, c := range Columns()[:4] {
			if hasAll(header, c) {
				return "canonical", nil
			}
		}
		return "", &Error{File: path, Line: 1, Msg: fmt.Sprintf("no trace format recognizes this header (%s); formats: %s", strings.Join(header, ", "), adapters.names())}
	default:
		return "", &Error{File: path, Line: 1, Msg: fmt.Sprintf("header fits several formats (%s): pick one with --trace-format", strings.Join(hits, ", "))}
	}
}

// readCSVHeader returns the first record of a CSV file (or .csv.gz),
// names trimmed and lower-cased.
func readCSVHeader(path string) ([]string, error) {
	var l loc
	l.file = path
	b, err := openCSVFile(&l)
	if err != nil {
		return nil, err
	}
	defer b.close()
	cols := b.columns()
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = strings.ToLower(strings.TrimSpace(c))
	}
	return out, nil
}
