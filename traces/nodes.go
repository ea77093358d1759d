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

// Node-list columns.
const (
	nNode = iota
	nGPUs
	nType
	nDatacenter
	nRegion
	nRack
	numNodeCols
)

var nodeColNames = [numNodeCols]string{"node", "gpus", "gpu_type", "datacenter", "region", "rack"}

const numNodeRequired = 3

// ReadNodeList reads a CSV node list (for --fleet FILE) into fleet groups.
// See ReadNodeListWith; unknown columns are reported on os.Stderr. This is
// the "canonical" node-list format; ReadFleet also reads the node lists of
// public traces (docs/fleet.md).
func ReadNodeList(path string) ([]fleet.Group, error) {
	return ReadNodeListWith(path, Options{})
}

// ReadNodeListWith reads a CSV node list into fleet groups. The header names
// the columns (any order, case-insensitive):
//
//	node        required: the node's name, unique in the file
//	gpus        required: its GPU count, 1..64
//	gpu_type    required: a catalog type or alias (fleet.LookupType)
//	datacenter  optional (default dc-1, as fleet.New)
//	region      optional (default region-1, as fleet.New)
//	rack        optional: the node's rack (NVLink domain)
//
// Consecutive rows with the same (gpu_type, gpus, datacenter, region) make
// one fleet.Group, with Names holding the node names in file order, so the
// fleet keeps the file's node order within each GPU type.
//
// Racks: fleet.Group describes racks by size (NodesPerRack), not by name,
// and every group starts a new rack. So a rack column is mapped only when
// it fits that shape: if within a group the rack value changes in runs of
// equal length k (consecutive rows, the last run possibly shorter) and the
// group does not start in the middle of the previous group's rack, the
// group gets NodesPerRack = k. Otherwise, or when a rack cell is empty, the
// group keeps the default rack size and the rack names are ignored; rack
// names are never kept, and a rack name that reappears after other racks
// counts as a new rack.
//
// Errors are *Error values naming the file, the line and the field.
func ReadNodeListWith(path string, opts Options) ([]fleet.Group, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot open", Err: unwrapPath(err)}
	}
	defer f.Close()
	return readNodeList(&loc{file: path}, f, opts.Warn)
}

func readNodeList(l *loc, r io.Reader, warn io.Writer) ([]fleet.Group, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.ReuseRecord = true
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: l.file, Msg: "empty file: the first line must be a header (node,gpus,gpu_type[,datacenter,region,rack])"}
	}
	if err != nil {
		return nil, csvErr(l, err, nil, 0)
	}
	header := make([]string, len(rec))
	copy(header, rec)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	}
	idx, err := resolveNodeColumns(l, header, warn)
	if err != nil {
		return nil, err
	}

	var (
		groups   []fleet.Group
		seen     = map[string]int64{}
		types    = map[string]string{}
		lastKey  nodeKey
		lastRack string
		racks    rackRuns
	)
	get := func(c int) string {
		if idx[c] < 0 {
			return ""
		}
		return strings.TrimSpace(rec[idx[c]])
	}
	endGroup := func() {
		if len(groups) > 0 && idx[nRack] >= 0 {
			if k := racks.size(); k > 0 {
				groups[len(groups)-1].NodesPerRack = k
			}
		}
	}
	for {
		rec, err = cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(l, err, rec, len(header))
		}
		ln, _ := cr.FieldPos(0)
		line := int64(ln)
		name := get(nNode)
		if name == "" {
			return nil, l.errAt(line, "node", "is empty; the column is required")
		}
		if first, dup := seen[name]; dup {
			return nil, l.errAt(line, "node", "duplicate node %q (first on line %d)", name, first)
		}
		seen[strings.Clone(name)] = line
		gs := get(nGPUs)
		gpus, err := strconv.Atoi(gs)
		switch {
		case gs == "":
			return nil, l.errAt(line, "gpus", "is empty; the column is required")
		case err != nil:
			return nil, l.errAt(line, "gpus", "%q is not a whole number", gs)
		case gpus < 1 || gpus > fleet.MaxGPUsPerNode:
			return nil, l.errAt(line, "gpus", "%d is outside 1..%d", gpus, fleet.MaxGPUsPerNode)
		}
		ts := get(nType)
		typ, ok := types[ts]
		if !ok {
			if ts == "" {
				return nil, l.errAt(line, "gpu_type", "is empty; the column is required")
			}
			t, found := fleet.LookupType(ts)
			if !found {
				return nil, l.errAt(line, "gpu_type", "unknown GPU type %q; known: %s", ts, fleet.TypeNames())
			}
			typ = fleet.Catalog[t].Name
			types[strings.Clone(ts)] = typ
		}
		key := nodeKey{typ: typ, gpus: gpus, dc: get(nDatacenter), region: get(nRegion)}
		rack := get(nRack)
		if len(groups) == 0 || key != lastKey {
			endGroup()
			groups = append(groups, fleet.Group{GPUsPerNode: gpus, Type: typ, Datacenter: key.dc, Region: key.region})
			racks = rackRuns{partial: len(groups) > 1 && rack != "" && rack == lastRack}
			key.dc, key.region = strings.Clone(key.dc), strings.Clone(key.region)
			lastKey = key
		}
		g := &groups[len(groups)-1]
		g.Nodes++
		g.Names = append(g.Names, strings.Clone(name))
		racks.add(rack)
		lastRack = strings.Clone(rack)
	}
	endGroup()
	if len(groups) == 0 {
		return nil, &Error{File: l.file, Msg: "no nodes: the file has a header but no rows"}
	}
	return groups, nil
}

type nodeKey struct {
	typ        string
	gpus       int
	dc, region string
}

// rackRuns measures the runs of equal rack values within one group.
type rackRuns struct {
	cur     string
	run     int  // length of the current run
	k       int  // length of the completed runs, 0 until one completes
	partial bool // not a whole number of equal runs (or an empty rack)
}

func (r *rackRuns) add(rack string) {
	if rack == "" {
		r.partial = true
	}
	if r.run > 0 && rack == r.cur {
		r.run++
		return
	}
	if r.run > 0 {
		if r.k == 0 {
			r.k = r.run
		} else if r.run != r.k {
			r.partial = true
		}
	}
	r.cur, r.run = strings.Clone(rack), 1
}

// size returns the rack size the runs imply, or 0 if they do not fit one.
func (r *rackRuns) size() int {
	if r.partial || r.run == 0 {
		return 0
	}
	if r.k == 0 {
		return r.run // a single rack
	}
	if r.run > r.k {
		return 0
	}
	return r.k
}

func resolveNodeColumns(l *loc, names []string, warn io.Writer) ([numNodeCols]int, error) {
	var idx [numNodeCols]int
	for c := range idx {
		idx[c] = -1
	}
	var unknown []string
	for i, n := range names {
		key := strings.ToLower(strings.TrimSpace(n))
		c := -1
		for j, want := range nodeColNames {
			if key == want {
				c = j
			}
		}
		if c < 0 {
			unknown = append(unknown, strconv.Quote(n))
			continue
		}
		if idx[c] >= 0 {
			return idx, &Error{File: l.file, Line: 1, Field: nodeColNames[c],
				Msg: fmt.Sprintf("column %q appears twice (columns %d and %d)", nodeColNames[c], idx[c]+1, i+1)}
		}
		idx[c] = i
	}
	var missing []string
	for c := 0; c < numNodeRequired; c++ {
		if idx[c] < 0 {
			missing = append(missing, strconv.Quote(nodeColNames[c]))
		}
	}
	if len(missing) > 0 {
		what := "column"
		if len(missing) > 1 {
			what = "columns"
		}
		return idx, &Error{File: l.file, Field: strings.Trim(missing[0], `"`), fieldInMsg: true,
			Msg: fmt.Sprintf("missing required %s %s (header has: %s)", what, strings.Join(missing, ", "), strings.Join(names, ", "))}
	}
	if len(unknown) > 0 {
		if warn == nil {
			warn = os.Stderr
		}
		fmt.Fprintf(warn, "traces: %s: ignoring unknown columns %s (known: %s)\n",
			l.file, strings.Join(unknown, ", "), strings.Join(nodeColNames[:], ", "))
	}
	return idx, nil
}
