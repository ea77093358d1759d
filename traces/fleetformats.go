package traces

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"neosim/sim/fleet"
)

// FleetAdapter reads one kind of node list into fleet groups: neosim's
// canonical node list, or the machine list of a public trace (philly,
// openb, …). The formats are described in docs/fleet.md.
type FleetAdapter struct {
	Name string // the format's name, ReadFleet's format argument
	Doc  string // one line for --help
	// Detect reports whether the first CSV record (names trimmed and
	// lower-cased) is this format's. Nil: never auto-detected.
	Detect func(header []string) bool
	// Read reads the file. Notes for the user (nodes skipped, GPU models
	// assumed or mapped) go to opts.Warn, one line each.
	Read func(path string, opts Options) ([]fleet.Group, error)
}

var fleetAdapters = &registry[FleetAdapter]{kind: "fleet format", name: func(a FleetAdapter) string { return a.Name }, m: map[string]FleetAdapter{}}

// RegisterFleet adds a node-list format. Registering a name twice panics.
func RegisterFleet(a FleetAdapter) { fleetAdapters.add(a) }

// FleetAdapters returns the registered node-list formats sorted by name.
func FleetAdapters() []FleetAdapter { return fleetAdapters.sorted() }

// ReadFleet reads a node list (for --fleet FILE) with the named format; ""
// or "auto" detects the format from the file's first line (DetectFleet). It
// returns the format's name so callers can say what they detected.
func ReadFleet(path, format string, opts Options) (groups []fleet.Group, detected string, err error) {
	if format == "" || format == "auto" {
		if format, err = DetectFleet(path); err != nil {
			return nil, "", err
		}
	}
	a, ok := fleetAdapters.m[format]
	if !ok {
		return nil, "", fmt.Errorf("traces: unknown node-list format %q (formats: auto, %s)", format, fleetAdapters.names())
	}
	groups, err = a.Read(path, opts)
	return groups, format, err
}

// DetectFleet names the node-list format of a CSV file: the one format
// whose Detect accepts the file's first record.
func DetectFleet(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", &Error{File: path, Msg: "cannot open", Err: unwrapPath(err)}
	}
	defer f.Close()
	return detectFleet(&loc{file: path}, f)
}

func detectFleet(l *loc, r io.Reader) (string, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	rec, err := cr.Read()
	if err == io.EOF {
		return "", &Error{File: l.file, Msg: "empty file: a node list starts with a header line"}
	}
	if err != nil {
		return "", csvErr(l, err, rec, 0)
	}
	header := normHeader(rec)
	var hits []string
	for _, a := range FleetAdapters() {
		if a.Detect != nil && a.Detect(header) {
			hits = append(hits, a.Name)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return "", &Error{File: l.file, Line: 1, Msg: fmt.Sprintf("no node-list format recognizes this header (%s); formats: %s", strings.Join(header, ", "), fleetAdapters.names())}
	default:
		return "", &Error{File: l.file, Line: 1, Msg: fmt.Sprintf("header fits several node-list formats (%s): name one", strings.Join(hits, ", "))}
	}
}

// normHeader returns a copy of a CSV header, BOM dropped, names trimmed
// and lower-cased.
func normHeader(rec []string) []string {
	out := make([]string, len(rec))
	for i, c := range rec {
		if i == 0 {
			c = strings.TrimPrefix(c, "\uFEFF")
		}
		out[i] = strings.ToLower(strings.TrimSpace(c))
	}
	return out
}

// nodeTable is a node-list format with one node per CSV row and no
// topology: the id, the GPU count and (directly or not) the GPU model.
type nodeTable struct {
	name, doc string
	// need lists the columns read (lower-case): the node id, the GPU count,
	// then those model uses.
	need   []string
	detect func(h []string) bool
	// noHeader, if set, is the column order of a file that lacks the header
	// line (PAI's machine spec is published without one).
	noHeader []string
	// models are the format's own model mappings, applied under
	// Options.Models and ahead of fleet.DefaultModels.
	models map[string]string
	// model returns the GPU model of a row whose GPU count is ≥ 1, given
	// the need cells from the third on. An assumption it makes is returned
	// as a note ("12GB → P100") that is counted and reported once per kind;
	// a bad third cell as a message.
	model func(c []string) (model, note, msg string)
}

// nodeTables holds the registered nodeTable formats by name.
var nodeTables = map[string]*nodeTable{}

func (t *nodeTable) register() {
	nodeTables[t.name] = t
	RegisterFleet(FleetAdapter{Name: t.name, Doc: t.doc, Detect: t.detect, Read: t.read})
}

func (t *nodeTable) read(path string, opts Options) ([]fleet.Group, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot open", Err: unwrapPath(err)}
	}
	defer f.Close()
	return t.readFrom(&loc{file: path}, f, opts)
}

// tally counts nodes per key in the order keys first appear.
type tally struct {
	keys []string
	n    map[string]int
}

func (c *tally) add(key string) {
	if c.n == nil {
		c.n = map[string]int{}
	}
	if _, ok := c.n[key]; !ok {
		key = strings.Clone(key)
		c.keys = append(c.keys, key)
	}
	c.n[key]++
}

// list joins "KEY on N nodes" for each key, label(key) standing for KEY.
func (c *tally) list(label func(string) string) string {
	parts := make([]string, len(c.keys))
	for i, k := range c.keys {
		parts[i] = fmt.Sprintf("%s on %s", label(k), nodesN(c.n[k]))
	}
	return strings.Join(parts, ", ")
}

// readFrom reads the node list. Nodes with the same (GPU type, GPUs per
// node) form one group, in the order the pairs first appear, with the node
// ids as Names in file order: these formats carry no racks, and their files
// interleave models, so keeping runs of consecutive rows as groups would
// only cut the fleet into racks of one or two nodes.
func (t *nodeTable) readFrom(l *loc, r io.Reader, opts Options) ([]fleet.Group, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<16))
	cr.ReuseRecord = true
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: l.file, Msg: fmt.Sprintf("empty file: the first line must be a header (%s)", strings.Join(t.need, ", "))}
	}
	if err != nil {
		return nil, csvErr(l, err, rec, 0)
	}
	header := normHeader(rec)
	width := len(header)
	pending := false // the first record is a row (a file without header)
	if t.noHeader != nil && !hasAll(header, t.need...) && len(header) == len(t.noHeader) && looksLikeRow(header, t.noHeader, t.need[1]) {
		header, pending = t.noHeader, true
	}
	idx, err := t.locate(l, header)
	if err != nil {
		return nil, err
	}
	b := t.newGrouper(l, idx, opts)
	if pending {
		rec[0] = strings.TrimPrefix(rec[0], "\uFEFF")
		if err := b.row(rec, 1); err != nil {
			return nil, err
		}
	}
	for {
		rec, err = cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(l, err, rec, width)
		}
		ln, _ := cr.FieldPos(0)
		if err := b.row(rec, int64(ln)); err != nil {
			return nil, err
		}
	}
	if len(b.groups) == 0 {
		return nil, &Error{File: l.file, Msg: fmt.Sprintf("no nodes with GPUs (%d rows without GPUs)", b.skipped)}
	}
	b.warn(opts.Warn)
	return b.groups, nil
}

// locate returns the position in header of each needed column, or an error
// naming a column that is missing or appears twice.
func (t *nodeTable) locate(l *loc, header []string) ([]int, error) {
	idx := make([]int, len(t.need))
	var missing []string
	for i, n := range t.need {
		idx[i] = -1
		for j, h := range header {
			if h == n {
				if idx[i] >= 0 {
					return nil, &Error{File: l.file, Line: 1, Field: n,
						Msg: fmt.Sprintf("column %q appears twice (columns %d and %d)", n, idx[i]+1, j+1)}
				}
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			missing = append(missing, strconv.Quote(n))
		}
	}
	if len(missing) > 0 {
		what := "column"
		if len(missing) > 1 {
			what = "columns"
		}
		return nil, &Error{File: l.file, Field: strings.Trim(missing[0], `"`), fieldInMsg: true,
			Msg: fmt.Sprintf("missing required %s %s for the %s node-list format (header has: %s)", what, strings.Join(missing, ", "), t.name, strings.Join(header, ", "))}
	}
	return idx, nil
}

// grouper files a node list's rows into fleet groups, one per (GPU type,
// GPUs per node), and counts what it skipped, assumed and mapped.
type grouper struct {
	t         *nodeTable
	l         *loc
	idx       []int             // position of each needed column in a record
	overrides map[string]string // model → type: the format's, then Options.Models
	groups    []fleet.Group
	byKey     map[groupKey]int
	seen      map[string]int64        // node id → its line
	types     map[string]fleet.TypeID // model → catalog type
	cells     []string
	skipped   int
	assumed   tally
	mapped    tally
}

type groupKey struct {
	typ  fleet.TypeID
	gpus int
}

func (t *nodeTable) newGrouper(l *loc, idx []int, opts Options) *grouper {
	overrides := make(map[string]string, len(t.models)+len(opts.Models))
	for _, m := range []map[string]string{t.models, opts.Models} {
		for k, v := range m {
			overrides[strings.ToUpper(strings.TrimSpace(k))] = v
		}
	}
	return &grouper{t: t, l: l, idx: idx, overrides: overrides, byKey: map[groupKey]int{},
		seen: map[string]int64{}, types: map[string]fleet.TypeID{}, cells: make([]string, len(t.need))}
}

// row adds the node of record rec, read at line.
func (b *grouper) row(rec []string, line int64) error {
	t, l, cells := b.t, b.l, b.cells
	for i, j := range b.idx {
		cells[i] = strings.TrimSpace(rec[j])
	}
	id := cells[0]
	if id == "" {
		return l.errAt(line, t.need[0], "is empty; the column is required")
	}
	if first, dup := b.seen[id]; dup {
		return l.errAt(line, t.need[0], "duplicate node %q (first on line %d)", id, first)
	}
	id = strings.Clone(id)
	b.seen[id] = line
	gpus, err := strconv.Atoi(cells[1])
	switch {
	case cells[1] == "":
		return l.errAt(line, t.need[1], "is empty; the column is required")
	case err != nil:
		return l.errAt(line, t.need[1], "%q is not a whole number", cells[1])
	case gpus < 0 || gpus > fleet.MaxGPUsPerNode:
		return l.errAt(line, t.need[1], "%d is outside 0..%d", gpus, fleet.MaxGPUsPerNode)
	case gpus == 0:
		b.skipped++
		return nil
	}
	model, note, msg := t.model(cells[2:])
	if msg != "" {
		return l.errAt(line, t.need[2], "%s", msg)
	}
	if note != "" {
		b.assumed.add(note)
	}
	typ, ok := b.types[model]
	if !ok {
		if typ, err = fleet.ResolveModel(model, b.overrides); err != nil {
			field := "" // the model is assumed, not read
			if len(t.need) > 2 {
				field = t.need[2]
			}
			return l.errAt(line, field, "%v", err)
		}
		model = strings.Clone(model)
		b.types[model] = typ
	}
	if model != fleet.Catalog[typ].Name {
		b.mapped.add(model)
	}
	k := groupKey{typ, gpus}
	g, ok := b.byKey[k]
	if !ok {
		g = len(b.groups)
		b.byKey[k] = g
		b.groups = append(b.groups, fleet.Group{GPUsPerNode: gpus, Type: fleet.Catalog[typ].Name})
	}
	b.groups[g].Nodes++
	b.groups[g].Names = append(b.groups[g].Names, id)
	return nil
}

// warn writes one line each for the rows skipped, the models assumed and
// the models mapped to catalog types (to os.Stderr if w is nil).
func (b *grouper) warn(w io.Writer) {
	if w == nil {
		w = os.Stderr
	}
	if b.skipped > 0 {
		fmt.Fprintf(w, "traces: %s: skipped %s without GPUs (%q is 0)\n", b.l.file, nodesN(b.skipped), b.t.need[1])
	}
	if len(b.assumed.keys) > 0 {
		fmt.Fprintf(w, "traces: %s: assumed GPU models (the file does not name them): %s\n",
			b.l.file, b.assumed.list(func(k string) string { return k }))
	}
	if len(b.mapped.keys) > 0 {
		fmt.Fprintf(w, "traces: %s: GPU models mapped to catalog types: %s\n",
			b.l.file, b.mapped.list(func(k string) string { return k + " → " + fleet.Catalog[b.types[k]].Name }))
	}
}

// nodesN returns "1 node" or "N nodes".
func nodesN(n int) string {
	if n == 1 {
		return "1 node"
	}
	return strconv.Itoa(n) + " nodes"
}

// looksLikeRow reports whether a file's first record, read against the
// columns of a file without header, holds a whole number as its GPU count.
func looksLikeRow(rec, cols []string, gpuCol string) bool {
	for i, c := range cols {
		if c == gpuCol {
			_, err := strconv.Atoi(rec[i])
			return err == nil
		}
	}
	return false
}

// Philly's machine lists (philly-2017/SOURCE.md).
const (
	phillyID   = "machineid"
	phillyGPUs = "number of gpus"
	phillyMem  = "single gpu mem"
	// PhillyRevisedModel is the GPU model assumed for every server of
	// Philly's revised machine list, which does not name one: most of
	// Philly's GPUs are in 8-GPU P40 servers (cluster_machine_list.csv).
	PhillyRevisedModel = "P40"
)

// phillyModelOf maps the GPU memory of Philly's cluster_machine_list.csv
// to the model Hu et al. assume (philly-2017/SOURCE.md): 2-GPU 12 GB
// servers are P100-12GB, 8-GPU 24 GB servers P40-24GB. The mapping keys on
// the memory, which tells the two models apart whatever the GPU count.
var phillyModelOf = map[string][2]string{ // memory in GB → model, note
	"12": {"P100", "12GB → P100"},
	"24": {"P40", "24GB → P40"},
}

func phillyModel(c []string) (model, note, msg string) {
	mem := strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(c[0], "GB"), "gb"))
	m, ok := phillyModelOf[mem]
	if !ok {
		return "", "", fmt.Sprintf("%q is not a known Philly GPU memory: 12GB (P100) or 24GB (P40)", c[0])
	}
	return m[0], m[1], ""
}

// modelCell is the model of formats that name it in a column.
func modelCell(c []string) (model, note, msg string) {
	if c[0] == "" {
		return "", "", "is empty on a node with GPUs"
	}
	return c[0], "", ""
}

func init() {
	RegisterFleet(FleetAdapter{
		Name: "canonical",
		Doc:  "neosim's node list: CSV with node, gpus, gpu_type[, datacenter, region, rack]",
		Detect: func(h []string) bool {
			return hasAll(h, "node", "gpus", "gpu_type")
		},
		Read: ReadNodeListWith,
	})
	for _, t := range []*nodeTable{
		{
			name: "philly",
			doc:  "Philly cluster_machine_list.csv: machineId, number of GPUs, single GPU mem (12GB → P100, 24GB → P40)",
			need: []string{phillyID, phillyGPUs, phillyMem},
			detect: func(h []string) bool {
				return hasAll(h, phillyID, phillyGPUs, phillyMem)
			},
			model: phillyModel,
		},
		{
			name: "philly-revised",
			doc:  "Philly revised_machine_list.csv: index, machineId, number of GPUs (model assumed " + PhillyRevisedModel + ")",
			need: []string{phillyID, phillyGPUs},
			detect: func(h []string) bool {
				return hasAll(h, phillyID, phillyGPUs) && !hasAll(h, phillyMem)
			},
			model: func([]string) (model, note, msg string) {
				return PhillyRevisedModel, PhillyRevisedModel, ""
			},
		},
		{
			name: "openb",
			doc:  "Alibaba openb node list: sn, cpu_milli, memory_mib, gpu, model",
			need: []string{"sn", "gpu", "model"},
			detect: func(h []string) bool {
				return hasAll(h, "sn", "gpu", "model")
			},
			model: modelCell,
		},
		{
			name:     "pai",
			doc:      "Alibaba PAI pai_machine_spec.csv, with or without its header: machine, gpu_type, cap_cpu, cap_mem, cap_gpu",
			need:     []string{"machine", "cap_gpu", "gpu_type"},
			noHeader: []string{"machine", "gpu_type", "cap_cpu", "cap_mem", "cap_gpu"},
			detect: func(h []string) bool {
				if hasAll(h, "machine", "gpu_type", "cap_gpu") {
					return true
				}
				// The published file has no header: five cells, the
				// last three whole numbers.
				if len(h) != 5 || h[0] == "" || h[1] == "" {
					return false
				}
				for _, c := range h[2:] {
					if _, err := strconv.Atoi(c); err != nil {
						return false
					}
				}
				return true
			},
			model: modelCell,
		},
		{
			name: "spot",
			doc:  "Alibaba spot-GPU (GFS) node_info_df.csv: gpu_model, gpu_capacity_num, cpu_num, node_name",
			need: []string{"node_name", "gpu_capacity_num", "gpu_model"},
			detect: func(h []string) bool {
				return hasAll(h, "node_name", "gpu_capacity_num", "gpu_model")
			},
			// Models that fleet.DefaultModels lacks: the export variants
			// of A100 and H100 map to their originals, and the undisclosed
			// series, like openb's G1–G3, to H100-SXM (the unit of speed).
			models: map[string]string{
				"A800-SXM4-80GB": "A100-80GB", "A800": "A100-80GB",
				"H800": "H100-SXM", "GPU-series-1": "H100-SXM", "GPU-series-2": "H100-SXM",
			},
			model: modelCell,
		},
	} {
		t.register()
	}
}
