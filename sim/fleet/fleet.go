package fleet

import (
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// FullGPU is a whole GPU in milli-GPU units.
const FullGPU = 1000

// MaxGPUsPerNode bounds a node's GPU count (an allocation keeps a node's GPUs
// in a 64-bit mask).
const MaxGPUsPerNode = 64

// Group is a homogeneous set of nodes, the unit a scenario or a --fleet spec
// describes.
type Group struct {
	Nodes       int    `yaml:"nodes"`
	GPUsPerNode int    `yaml:"gpus_per_node"`
	Type        string `yaml:"type"`
	Region      string `yaml:"region,omitempty"`     // default "region-1"
	Datacenter  string `yaml:"datacenter,omitempty"` // default "dc-1"
	// NodesPerRack is the rack / NVLink-domain size in nodes. Default: 18 for
	// GB200 (an NVL72 rack of 18 four-GPU trays), else 4 (an air-cooled rack of
	// four 8-GPU servers at ~40 kW; [U]).
	NodesPerRack int `yaml:"nodes_per_rack,omitempty"`
	// RacksPerCluster groups racks under one scale-out fabric. Default 32.
	RacksPerCluster int `yaml:"racks_per_cluster,omitempty"`
	// Names optionally names each node (imported node lists); len Nodes.
	Names []string `yaml:"-"`
}

// ParseSpec reads a fleet spec: NODESxGPUSxTYPE groups joined by commas,
// e.g. "64x1xH100" or "1000x8xH100,250x8xB200".
func ParseSpec(spec string) ([]Group, error) {
	var gs []Group
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		f := strings.Split(part, "x")
		if len(f) != 3 {
			return nil, fmt.Errorf("fleet spec %q: group %q is not NODESxGPUSxTYPE (example: 1000x8xH100)", spec, part)
		}
		nodes, err1 := strconv.Atoi(f[0])
		gpus, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("fleet spec %q: group %q: NODES and GPUS must be whole numbers (example: 1000x8xH100)", spec, part)
		}
		gs = append(gs, Group{Nodes: nodes, GPUsPerNode: gpus, Type: f[2]})
	}
	return gs, nil
}

// Fleet is the modeled GPU fleet: topology and free capacity. Its state is
// struct-of-slices indexed by node number; nodes are ordered by GPU type
// (catalog order), then as given, so each type owns one contiguous range of
// nodes and first-fit follows the topology order.
//
// Invariants (Check verifies them):
//   - 0 ≤ free milli of a GPU ≤ FullGPU;
//   - per node, whole[n] is the number of GPUs with FullGPU free and the
//     indexes hold whole[n], the node's largest free milli, and the node's GPU
//     count when the node is entirely free;
//   - per type, the counters equal the sums over its nodes;
//   - once built, the bucket indexes (buckets.go, racks.go) file every
//     node, partly allocated GPU and rack under its current free capacity.
type Fleet struct {
	nodeType []uint8
	nodeGPUs []uint8
	gpuOff   []int32  // first GPU of node n is gpuOff[n]; len nodes+1
	gpuFree  []uint16 // free milli-GPU per GPU
	whole    []uint8  // GPUs of the node with FullGPU free

	nodeName    []string // nil unless imported
	nodeRack    []RackID
	rackCluster []int32
	clusterDC   []int32
	dcRegion    []int32
	dcNames     []string
	regionNames []string

	wholeIdx maxTree // whole[n]
	milliIdx maxTree // max free milli over the node's GPUs
	// milliLive says milliIdx's levels above its leaves are current. Only
	// a search for a GPU share (a job of less than one GPU) reads them, so
	// they are built at the first such search and kept from then on; until
	// then only the leaves are written. A run without shares of GPUs (meta's
	// synthetic workloads) saves the tree's upkeep on every allocation.
	milliLive bool
	// fullIdx holds nodeGPUs[n] if node n is entirely free, else 0; it is
	// kept only if some type has nodes of two sizes. Otherwise (size[t] > 0
	// for every type) a node of type t is entirely free when wholeIdx holds
	// size[t] for it, and the third tree's upkeep on every allocation and
	// release is saved.
	fullIdx maxTree
	size    [MaxTypes]int32 // GPUs per node of each type; all 0 if a type has two sizes (fullIdx kept)
	ix      index           // free-capacity buckets by node class, shared GPU and rack (buckets.go)

	down     []bool   // node n is failed and under repair
	seen     []uint32 // Validate's per-node marks (== stamp: seen in this call)
	stamp    uint32
	downGPUs int64
	version  uint64 // bumped by every change of a free share or a node's state
	taken    uint64 // bumped by every allocation (a node going down allocates it)
	// nodeTaken[n] is the value of taken after the last allocation on node n.
	nodeTaken []uint64
	fit       fitReceipt  // the last FirstFit placement (Validate)
	pend      lazyRelease // a gang's release held back (lazy.go)

	// hint[t][k] is a node of type t before which no node has k or more
	// wholly free GPUs (0: no claim), so that a first-fit search for k
	// starts there rather than at the type's first node: in a busy fleet
	// the search from the first node climbed its tree past every full
	// group, 7% of a meta run's instructions. A search sets it; a node
	// getting k wholly free GPUs lowers it (freed).
	hint    [MaxTypes][MaxGPUsPerNode + 1]int32
	maxGPUs [MaxTypes]int32 // the most GPUs a node of each type has

	lo, hi       [MaxTypes]int   // node range of each catalog type
	totalGPUs    [MaxTypes]int64 // GPUs of each type
	largestType  int64           // the most GPUs of any one type
	freeWhole    [MaxTypes]int64 // GPUs with FullGPU free
	fullFreeGPUs [MaxTypes]int64 // GPUs on entirely free nodes
	types        []TypeID        // catalog indexes present, in placement order
}

// New builds a fleet from groups. It returns an error naming the group for
// impossible input (unknown type, no nodes, too many GPUs per node).
func New(groups []Group) (*Fleet, error) {
	if len(groups) == 0 {
		return nil, fmt.Errorf("fleet: no node groups (example: --fleet 64x8xH100)")
	}
	if len(Catalog) > MaxTypes {
		panic("fleet: catalog larger than MaxTypes, the size of the per-type arrays")
	}
	rs, err := resolveGroups(groups)
	if err != nil {
		return nil, err
	}
	var nodes, gpus int
	named := false
	for _, r := range rs {
		nodes += r.Nodes
		gpus += r.Nodes * r.GPUsPerNode
		named = named || r.Names != nil
	}
	if gpus > 1<<31-1 {
		return nil, fmt.Errorf("fleet: %d GPUs is more than this build supports (2^31-1)", gpus)
	}
	f := newFleet(nodes, gpus, named, oneSizePerType(rs))
	f.layOut(rs)
	return f, nil
}

// resolvedGroup is a checked group with its topology defaults set and its
// GPU type looked up.
type resolvedGroup struct {
	Group
	typ TypeID
}

// resolveGroups checks the groups, sets their defaults and orders them by
// GPU type in catalog order (groups of one type keep their order).
func resolveGroups(groups []Group) ([]resolvedGroup, error) {
	rs := make([]resolvedGroup, 0, len(groups))
	for i, g := range groups {
		t, ok := LookupType(g.Type)
		if !ok {
			return nil, fmt.Errorf("fleet: group %d: unknown GPU type %q; known: %s", i+1, g.Type, TypeNames())
		}
		if err := g.check(i); err != nil {
			return nil, err
		}
		g.setDefaults(t)
		rs = append(rs, resolvedGroup{g, t})
	}
	sort.SliceStable(rs, func(a, b int) bool { return rs[a].typ < rs[b].typ })
	return rs, nil
}

// check validates group i (counted from 0) of a known type.
func (g *Group) check(i int) error {
	switch {
	case g.Nodes < 1:
		return fmt.Errorf("fleet: group %d (%s): nodes must be ≥ 1, got %d", i+1, g.Type, g.Nodes)
	case g.GPUsPerNode < 1 || g.GPUsPerNode > MaxGPUsPerNode:
		return fmt.Errorf("fleet: group %d (%s): GPUs per node must be 1..%d, got %d", i+1, g.Type, MaxGPUsPerNode, g.GPUsPerNode)
	case g.Names != nil && len(g.Names) != g.Nodes:
		return fmt.Errorf("fleet: group %d: %d names for %d nodes", i+1, len(g.Names), g.Nodes)
	case g.NodesPerRack < 0 || g.RacksPerCluster < 0:
		return fmt.Errorf("fleet: group %d (%s): nodes_per_rack and racks_per_cluster must be ≥ 0", i+1, g.Type)
	}
	return nil
}

// setDefaults fills the topology fields left empty (see Group) for a group
// of type t.
func (g *Group) setDefaults(t TypeID) {
	if g.Region == "" {
		g.Region = "region-1"
	}
	if g.Datacenter == "" {
		g.Datacenter = "dc-1"
	}
	if g.NodesPerRack == 0 {
		g.NodesPerRack = 4
		if Catalog[t].Name == "GB200" {
			g.NodesPerRack = 18
		}
	}
	if g.RacksPerCluster == 0 {
		g.RacksPerCluster = 32
	}
}

// oneSizePerType returns the GPUs per node of each type of rs, or all 0 if
// some type has nodes of two sizes.
func oneSizePerType(rs []resolvedGroup) [MaxTypes]int32 {
	var size [MaxTypes]int32
	for _, g := range rs {
		if s := &size[g.typ]; *s == 0 {
			*s = int32(g.GPUsPerNode)
		} else if *s != int32(g.GPUsPerNode) {
			return [MaxTypes]int32{}
		}
	}
	return size
}

// newFleet allocates the state of a fleet of nodes nodes and gpus GPUs,
// with node names if named, and the nodes' sizes per type
// (oneSizePerType: all 0 if a type has two); layOut fills it.
func newFleet(nodes, gpus int, named bool, size [MaxTypes]int32) *Fleet {
	f := &Fleet{
		nodeType:  make([]uint8, nodes),
		nodeGPUs:  make([]uint8, nodes),
		gpuOff:    make([]int32, nodes+1),
		gpuFree:   make([]uint16, gpus),
		whole:     make([]uint8, nodes),
		down:      make([]bool, nodes),
		seen:      make([]uint32, nodes),
		nodeTaken: make([]uint64, nodes),
		nodeRack:  make([]RackID, nodes),
		wholeIdx:  newMaxTree(nodes),
		milliIdx:  newMaxTree(nodes),
		size:      size,
	}
	if size == ([MaxTypes]int32{}) {
		f.fullIdx = newMaxTree(nodes)
	}
	for i := range f.lo {
		f.lo[i], f.hi[i] = -1, -1
	}
	if named {
		f.nodeName = make([]string, nodes)
	}
	return f
}

// layOut numbers the nodes of rs, group by group, every GPU wholly free:
// each group starts new racks and each rack of RacksPerCluster starts a new
// cluster; groups of one region and datacenter share them. It sets the
// per-type node ranges and counters.
func (f *Fleet) layOut(rs []resolvedGroup) {
	regions := map[string]int32{}
	dcs := map[string]int32{}
	n, gpu := 0, int32(0)
	for _, g := range rs {
		dc := f.datacenter(g.Region, g.Datacenter, regions, dcs)
		if f.lo[g.typ] < 0 {
			f.lo[g.typ] = n
			f.types = append(f.types, g.typ)
		}
		for k := 0; k < g.Nodes; k++ {
			if k%g.NodesPerRack == 0 {
				if k%(g.NodesPerRack*g.RacksPerCluster) == 0 {
					f.clusterDC = append(f.clusterDC, dc)
				}
				f.rackCluster = append(f.rackCluster, int32(len(f.clusterDC)-1))
			}
			f.nodeRack[n] = RackID(len(f.rackCluster) - 1)
			f.nodeType[n] = uint8(g.typ)
			f.nodeGPUs[n] = uint8(g.GPUsPerNode)
			f.gpuOff[n] = gpu
			for j := 0; j < g.GPUsPerNode; j++ {
				f.gpuFree[gpu] = FullGPU
				gpu++
			}
			if g.Names != nil {
				f.nodeName[n] = g.Names[k]
			}
			f.refresh(n)
			n++
		}
		f.hi[g.typ] = n
	}
	f.gpuOff[n] = gpu
	for n := range f.nodeType {
		t := f.nodeType[n]
		f.totalGPUs[t] += int64(f.nodeGPUs[n])
		f.maxGPUs[t] = max(f.maxGPUs[t], int32(f.nodeGPUs[n]))
	}
	f.freeWhole = f.totalGPUs
	f.fullFreeGPUs = f.totalGPUs
	for _, n := range f.totalGPUs {
		f.largestType = max(f.largestType, n)
	}
}

// datacenter returns the index of datacenter dc of region, adding both on
// first sight; regions and dcs map names to indexes.
func (f *Fleet) datacenter(region, dc string, regions, dcs map[string]int32) int32 {
	reg, ok := regions[region]
	if !ok {
		reg = int32(len(f.regionNames))
		regions[region] = reg
		f.regionNames = append(f.regionNames, region)
	}
	key := region + "/" + dc
	d, ok := dcs[key]
	if !ok {
		d = int32(len(f.dcNames))
		dcs[key] = d
		f.dcNames = append(f.dcNames, dc)
		f.dcRegion = append(f.dcRegion, reg)
	}
	return d
}

// refresh recomputes node n's aggregates and indexes from its GPUs.
func (f *Fleet) refresh(n int) {
	var w uint8
	var m uint16
	// The node's GPUs as one slice: the loop neither reloads its bounds
	// nor checks an index per GPU.
	for _, v := range f.gpuFree[f.gpuOff[n] : f.gpuOff[n]+int32(f.nodeGPUs[n])] {
		if v == FullGPU {
			w++
		}
		m = max(m, v)
	}
	f.whole[n] = w
	full := int32(0)
	if w == f.nodeGPUs[n] {
		full = int32(w)
	}
	f.setLeaves(n, w, m, full)
	f.reindex(n)
}

// HoldsWhole reports whether share s holds its node whole: every GPU, in
// full.
func (f *Fleet) HoldsWhole(s Share) bool {
	return s.Milli == FullGPU && s.Mask == lowMask(int(f.nodeGPUs[s.Node]))
}

// lowMask is the mask of GPUs 0..k-1.
func lowMask(k int) uint64 {
	if k >= 64 {
		return ^uint64(0)
	}
	return 1<<k - 1
}

// wholeNode1 applies a share of every GPU of node n, whole, when it can do
// so without looking at each GPU's share (wholeApplies). It reports whether
// it did; if not, the GPU-by-GPU path applies it (and panics if it is
// invalid).
func (f *Fleet) wholeNode1(n, sign int) bool {
	if !f.wholeApplies(n, sign) {
		return false
	}
	// setWhole(n, n+1, sign) and a fix of the trees would do, at the cost
	// of runtime calls and tree scans that single nodes, the most common
	// placement, should not pay.
	k := f.nodeGPUs[n]
	gpus := f.gpuFree[f.gpuOff[n] : f.gpuOff[n]+int32(k)]
	t := f.nodeType[n]
	var w uint8
	var m uint16
	if sign < 0 {
		clear(gpus)
		f.freeWhole[t] -= int64(k)
		f.fullFreeGPUs[t] -= int64(k)
	} else {
		for i := range gpus { // fewer instructions than fillFull's call for one node
			gpus[i] = FullGPU
		}
		f.freeWhole[t] += int64(k)
		f.fullFreeGPUs[t] += int64(k)
		w, m = k, FullGPU
	}
	f.whole[n] = w
	f.setLeaves(n, w, m, int32(w))
	f.reindex(n)
	return true
}

// wholeApplies reports whether a share of every GPU of node n, whole, can
// be applied without looking at each GPU: allocating (sign < 0) a node that
// is entirely free, or releasing one none of whose GPUs has any free share.
func (f *Fleet) wholeApplies(n, sign int) bool {
	if sign < 0 {
		return f.whole[n] == f.nodeGPUs[n]
	}
	return f.milliIdx.lv[0][n] == 0 // the most any GPU of n has free
}

// setWhole allocates (sign < 0) or releases every GPU of nodes [a, b), all
// of one type and each one for which wholeApplies holds: it sets their GPUs
// and counters, not the max trees nor the bucket indexes.
func (f *Fleet) setWhole(a, b, sign int) {
	gpus := f.gpuFree[f.gpuOff[a]:f.gpuOff[b]]
	t := f.nodeType[a]
	if sign < 0 {
		clear(gpus)
		clear(f.whole[a:b])
		f.freeWhole[t] -= int64(len(gpus))
		f.fullFreeGPUs[t] -= int64(len(gpus))
		return
	}
	fillFull(gpus)
	copy(f.whole[a:b], f.nodeGPUs[a:b])
	f.freeWhole[t] += int64(len(gpus))
	f.fullFreeGPUs[t] += int64(len(gpus))
}

// allFull is a node's worth of entirely free GPUs, for fillFull.
var allFull = func() (a [MaxGPUsPerNode]uint16) {
	for i := range a {
		a[i] = FullGPU
	}
	return a
}()

// fillFull sets every GPU of gpus entirely free: copies of allFull, a
// memmove each, where a loop stored one GPU at a time (setWhole's run of
// nodes: half the instructions over 20 days of meta).
func fillFull(gpus []uint16) {
	for len(gpus) > 0 {
		gpus = gpus[copy(gpus, allFull[:]):]
	}
}

// setLeaves sets node n's values in the max trees: w wholly free GPUs, m
// the most free milli of a GPU, full its GPUs if entirely free (else 0).
// Every change of one node's free GPUs comes through here (a run's, through
// applyRun), so here the first-fit hints learn of nodes that have w free.
func (f *Fleet) setLeaves(n int, w uint8, m uint16, full int32) {
	f.freed(n, w)
	f.wholeIdx.set(n, int32(w))
	if f.milliLive {
		f.milliIdx.set(n, int32(m))
	} else {
		f.milliIdx.lv[0][n] = int32(m)
	}
	if f.fullIdx.lv != nil {
		f.fullIdx.set(n, full)
	}
}

// freeNodeTree returns the tree, and the value in it, that tell a node of
// type t is entirely free: fullIdx and 1, or, with one node size per type,
// wholeIdx and the size.
func (f *Fleet) freeNodeTree(t TypeID) (*maxTree, int32) {
	if f.fullIdx.lv != nil {
		return &f.fullIdx, 1
	}
	return &f.wholeIdx, f.size[t]
}

func (f *Fleet) Nodes() int { return len(f.nodeType) }

// GPUs returns the number of GPUs.
func (f *Fleet) GPUs() int { return len(f.gpuFree) }

// Types returns the catalog indexes of the GPU types present, in the order
// placements try them.
func (f *Fleet) Types() []TypeID { return f.types }

// TypeGPUs returns the number of GPUs of catalog type t.
func (f *Fleet) TypeGPUs(t TypeID) int64 { return f.totalGPUs[t] }

// WhollyFreeGPUs returns how many GPUs of type t have nothing allocated.
func (f *Fleet) WhollyFreeGPUs(t TypeID) int64 { f.settle(); return f.freeWhole[t] }

// NodeType returns node n's catalog type index.
func (f *Fleet) NodeType(n NodeID) TypeID { return TypeID(f.nodeType[n]) }

// NodeGPUs returns node n's GPU count.
func (f *Fleet) NodeGPUs(n NodeID) int { return int(f.nodeGPUs[n]) }

// NodeFreeMilli returns the free milli-GPU of each of node n's GPUs.
func (f *Fleet) NodeFreeMilli(n NodeID) []uint16 {
	f.settle()
	return f.gpuFree[f.gpuOff[n]:f.gpuOff[n+1]:f.gpuOff[n+1]]
}

// NodeName returns node n's imported name, or "node-<n>".
func (f *Fleet) NodeName(n NodeID) string {
	if f.nodeName != nil && f.nodeName[n] != "" {
		return f.nodeName[n]
	}
	return "node-" + strconv.Itoa(int(n))
}

// Rack returns node n's rack (NVLink domain) index.
func (f *Fleet) Rack(n NodeID) RackID { return f.nodeRack[n] }

// Racks returns the number of racks.
func (f *Fleet) Racks() int { return len(f.rackCluster) }

// Datacenter returns the name of node n's datacenter and its region.
func (f *Fleet) Datacenter(n NodeID) (dc, region string) {
	d := f.clusterDC[f.rackCluster[f.nodeRack[n]]]
	return f.dcNames[d], f.regionNames[f.dcRegion[d]]
}

// Demand is what a job asks of the fleet: GPUs GPUs of one type in Types
// (empty: any type), each a Milli share (FullGPU for whole GPUs; a share
// below FullGPU is allowed only for a single-GPU job).
type Demand struct {
	GPUs  int32
	Milli uint16
	Types TypeSet
}

// Share is the part of an allocation on one node: the GPUs in Mask (bit j is
// the node's GPU j), each holding Milli.
type Share struct {
	Node  NodeID
	Milli uint16
	Mask  uint64
}

// GPUs returns the number of GPUs the share holds.
func (s Share) GPUs() int { return bits.OnesCount64(s.Mask) }

// Fits reports whether d could ever run on this fleet (with every GPU free),
// and if not, why.
func (f *Fleet) Fits(d Demand) (ok bool, reason string) {
	if d.GPUs < 1 {
		return false, "job asks for no GPUs"
	}
	if d.Milli < 1 || d.Milli > FullGPU {
		return false, fmt.Sprintf("gpu_milli %d outside 1..1000", d.Milli)
	}
	if d.Milli < FullGPU && d.GPUs != 1 {
		return false, fmt.Sprintf("a GPU share (gpu_milli %d) is only supported for single-GPU jobs; this job asks for %d GPUs", d.Milli, d.GPUs)
	}
	var most int64
	present := false
	if d.Types == 0 { // any type: most jobs, at every arrival
		most, present = f.largestType, len(f.types) > 0
	} else {
		for _, t := range f.types {
			if d.Types.Has(t) {
				present = true
				most = max(most, f.totalGPUs[t])
			}
		}
	}
	if !present {
		return false, fmt.Sprintf("needs GPU type %s; the fleet has none", d.Types)
	}
	if int64(d.GPUs) > most && d.Types != 0 {
		return false, fmt.Sprintf("needs %d GPUs of type %s; the fleet has %d", d.GPUs, d.Types, most)
	}
	if int64(d.GPUs) > most {
		return false, fmt.Sprintf("needs %d GPUs of one type; the largest type in the fleet has %d", d.GPUs, most)
	}
	return true, ""
}

func typeName(t TypeID) string {
	if t >= 0 && int(t) < len(Catalog) {
		return Catalog[t].Name
	}
	return "#" + strconv.Itoa(int(t))
}

// FirstFit finds the first placement for d in node order, trying GPU types
// in catalog order, without changing the fleet. A single-node job takes the
// first node with enough free GPUs; a job larger than that takes whole free
// nodes in order (gang placement across nodes never shares a node with
// another job). It appends the shares to buf and returns them with the type.
func (f *Fleet) FirstFit(d Demand, buf []Share) ([]Share, TypeID, bool) {
	f.settleFor(d)
	for _, t := range f.types {
		if !d.Types.Has(t) {
			continue
		}
		if s, ok := f.firstFitType(d, t, buf); ok {
			placed := s[len(buf):]
			f.fit = fitReceipt{shares: append(f.fit.shares[:0], placed...), gpus: d.GPUs, milli: d.Milli, typ: t, version: f.version}
			return s, t, true
		}
	}
	return buf, -1, false
}

// fitReceipt is the last placement FirstFit found: Validate takes the same
// shares, for a like demand, on the fleet as it was then (no allocation or
// release since), as valid without checking them share by share. Checking
// them cost a read of every node's state, 2.6% of the meta year's engine.
type fitReceipt struct {
	shares  []Share
	gpus    int32
	milli   uint16
	typ     TypeID
	version uint64
}

func (f *Fleet) firstFitType(d Demand, t TypeID, buf []Share) ([]Share, bool) {
	lo, hi := f.lo[t], f.hi[t]
	if lo < 0 {
		return buf, false
	}
	if d.Milli < FullGPU {
		if !f.milliLive {
			f.milliIdx.build()
			f.milliLive = true
		}
		n := f.milliIdx.firstAtLeast(lo, hi, int32(d.Milli))
		if n < 0 {
			return buf, false
		}
		// Best fit among the node's GPUs: the fullest one that still fits,
		// which keeps whole GPUs free for whole-GPU jobs.
		best, bestFree := -1, uint16(FullGPU+1)
		for j := 0; j < int(f.nodeGPUs[n]); j++ {
			v := f.gpuFree[f.gpuOff[n]+int32(j)]
			if v >= d.Milli && v < bestFree {
				best, bestFree = j, v
			}
		}
		return append(buf, Share{Node: NodeID(n), Milli: d.Milli, Mask: 1 << best}), true
	}
	held := f.pendingGPUs(t) // entirely free once released (lazy.go)
	if int64(d.GPUs) > f.freeWhole[t]+held {
		return buf, false
	}
	if d.GPUs <= f.maxGPUs[t] {
		if n := f.firstWhole(t, d.GPUs); n >= 0 {
			return append(buf, Share{Node: NodeID(n), Milli: FullGPU, Mask: f.freeMask(n, int(d.GPUs))}), true
		}
	}
	if int64(d.GPUs) > f.fullFreeGPUs[t]+held {
		return buf, false
	}
	need := int(d.GPUs)
	start := len(buf)
	tree, k := f.freeNodeTree(t)
	leaf := tree.lv[0]
	var hold []Share // held-back nodes, entirely free once released, merged in node order
	next := -1       // with hold: the first node at or after n the tree says is free (hi: none)
	if held > 0 {
		hold = f.pend.shares
	}
	for n := lo; need > 0; n++ {
		// The next node is usually entirely free too (gangs are placed
		// and released on runs of nodes): look at it before searching.
		if n >= hi || leaf[n] < k {
			if len(hold) == 0 {
				if n = tree.firstAtLeast(n, hi, k); n < 0 {
					return buf[:start], false // unreachable while counters are right
				}
			} else {
				for len(hold) > 0 && int(hold[0].Node) < n {
					hold = hold[1:]
				}
				if next < n { // the tree does not change here: search once per gap
					if next = tree.firstAtLeast(n, hi, k); next < 0 {
						next = hi
					}
				}
				m := next
				if len(hold) > 0 && int(hold[0].Node) < m {
					m = int(hold[0].Node)
				}
				if n = m; n >= hi {
					return buf[:start], false // unreachable while counters are right
				}
			}
		}
		k := min(need, int(f.nodeGPUs[n]))
		// The node is entirely free: its first k GPUs are.
		buf = append(buf, Share{Node: NodeID(n), Milli: FullGPU, Mask: lowMask(k)})
		need -= k
	}
	return buf, true
}

// firstWhole returns the first node of type t with k (1 ≤ k ≤
// MaxGPUsPerNode) or more wholly free GPUs, or -1, searching from
// hint[t][k] and leaving there what it found.
func (f *Fleet) firstWhole(t TypeID, k int32) int {
	lo, hi := f.lo[t], f.hi[t]
	h := &f.hint[t][k]
	n := f.wholeIdx.firstAtLeast(max(lo, int(*h)), hi, k)
	if n < 0 {
		*h = int32(hi)
	} else {
		*h = int32(n)
	}
	return n
}

// freed lowers the first-fit hints of node n's type for up to w wholly
// free GPUs, the node now having w (a hint above n would skip it).
func (f *Fleet) freed(n int, w uint8) {
	h := f.hint[f.nodeType[n]][1 : int(w)+1] // hints for 1..w GPUs
	for k, v := range h {
		h[k] = min(v, int32(n))
	}
}

// freeMask returns a mask of the first k wholly free GPUs of node n.
func (f *Fleet) freeMask(n, k int) uint64 {
	var m uint64
	base := f.gpuOff[n]
	for j := 0; k > 0; j++ {
		if f.gpuFree[base+int32(j)] == FullGPU {
			m |= 1 << j
			k--
		}
	}
	return m
}

// Validate checks that shares are a placement of d that fits the free
// capacity now: GPUs of one type in d.Types, each GPU named once with
// enough free milli, and exactly d.GPUs GPUs in all. FirstFit's last
// placement passes without a look at each node while the fleet has not
// changed since (fitReceipt).
func (f *Fleet) Validate(d Demand, shares []Share) error {
	if r := &f.fit; r.version == f.version && r.gpus == d.GPUs && r.milli == d.Milli &&
		d.Types.Has(r.typ) && slices.Equal(r.shares, shares) && len(shares) > 0 {
		return nil // FirstFit's placement, unchanged
	}
	f.settle()
	// A node appears at most once: mark the nodes seen with a fresh stamp
	// (O(shares), where comparing every pair was quadratic in a gang's nodes).
	f.stamp++
	if f.stamp == 0 {
		clear(f.seen)
		f.stamp = 1
	}
	total := 0
	typ := TypeID(-1)
	sorted := true
	for i, s := range shares {
		if s.Node < 0 || int(s.Node) >= len(f.nodeType) {
			return fmt.Errorf("share %d: node %d does not exist", i, s.Node)
		}
		t := TypeID(f.nodeType[s.Node])
		if typ >= 0 && t != typ {
			return fmt.Errorf("share %d: mixes GPU types %s and %s", i, typeName(typ), typeName(t))
		}
		typ = t
		if !d.Types.Has(t) {
			return fmt.Errorf("share %d: node %d is %s; the job needs %s", i, s.Node, typeName(t), d.Types)
		}
		if s.Milli != d.Milli {
			return fmt.Errorf("share %d: holds %d milli per GPU; the job asks %d", i, s.Milli, d.Milli)
		}
		if s.Mask == 0 || bits.Len64(s.Mask) > int(f.nodeGPUs[s.Node]) {
			return fmt.Errorf("share %d: GPU mask %#x outside node %d's %d GPUs", i, s.Mask, s.Node, f.nodeGPUs[s.Node])
		}
		// Shares in increasing node order (first fit's) name each node
		// once; from the first share out of order on, the nodes are
		// stamped (the sorted ones before it first).
		if sorted && i > 0 && s.Node <= shares[i-1].Node {
			sorted = false
			for _, p := range shares[:i] {
				f.seen[p.Node] = f.stamp
			}
		}
		if !sorted {
			if f.seen[s.Node] == f.stamp {
				return fmt.Errorf("share %d: node %d appears twice", i, s.Node)
			}
			f.seen[s.Node] = f.stamp
		}
		if f.whole[s.Node] == f.nodeGPUs[s.Node] {
			total += s.GPUs() // an entirely free node: every GPU fits
			continue
		}
		for m := s.Mask; m != 0; m &= m - 1 {
			j := bits.TrailingZeros64(m)
			if free := f.gpuFree[f.gpuOff[s.Node]+int32(j)]; free < s.Milli {
				return fmt.Errorf("share %d: GPU %d of node %d has %d milli free; needs %d", i, j, s.Node, free, s.Milli)
			}
		}
		total += s.GPUs()
	}
	if total != int(d.GPUs) {
		return fmt.Errorf("placement holds %d GPUs; the job needs %d", total, d.GPUs)
	}
	return nil
}

// Allocate takes the shares' capacity. The shares must have passed Validate.
func (f *Fleet) Allocate(shares []Share) {
	if len(f.pend.shares) > 0 {
		f.allocateHeld(shares)
		return
	}
	f.apply(shares, -1)
}

// Release returns the shares' capacity.
func (f *Fleet) Release(shares []Share) {
	f.settle()
	f.apply(shares, +1)
}

func (f *Fleet) apply(shares []Share, sign int) {
	f.version++
	if sign < 0 {
		f.taken++
		for _, s := range shares {
			f.nodeTaken[s.Node] = f.taken
		}
	}
	f.applyShares(shares, sign)
}

// applyShares applies the shares' capacity change without the version
// bookkeeping (apply's, or lazy.go's).
func (f *Fleet) applyShares(shares []Share, sign int) {
	for k := 0; k < len(shares); k++ {
		// A gang on a run of whole nodes is applied in bulk: a few
		// slice operations and one fix of the trees above the run, where
		// node by node it cost a tree update, and a cache miss or more,
		// per node (the largest cost of the meta year).
		if k+1 < len(shares) && shares[k+1].Node == shares[k].Node+1 {
			if r := f.wholeRun(shares[k:], sign); r > 1 {
				a := int(shares[k].Node)
				f.applyRun(a, a+r, sign)
				k += r - 1
				continue
			}
		}
		f.applyShare(shares[k], sign)
	}
}

// wholeRun returns the length of the run of shares at the start of shares
// that hold consecutive nodes whole, each of which wholeApplies. (The
// nodes are of one type: shares that passed Validate are.)
func (f *Fleet) wholeRun(shares []Share, sign int) int {
	first := int(shares[0].Node)
	for i, s := range shares {
		n := int(s.Node)
		if n != first+i || !f.HoldsWhole(s) || !f.wholeApplies(n, sign) {
			return i
		}
	}
	return len(shares)
}

// applyRun allocates or releases whole nodes [a, b) (wholeRun): their
// GPUs, then their leaves in the max trees, then the trees above the run in
// one pass.
func (f *Fleet) applyRun(a, b, sign int) {
	f.setWhole(a, b, sign)
	whole, milli := f.wholeIdx.lv[0][a:b], f.milliIdx.lv[0][a:b]
	if sign < 0 {
		clear(whole)
		clear(milli)
	} else {
		for i, k := range f.whole[a:b] {
			whole[i] = int32(k)
			milli[i] = FullGPU
		}
		f.freed(a, uint8(f.maxGPUs[f.nodeType[a]]))
	}
	f.wholeIdx.fixRange(a, b)
	if f.milliLive {
		f.milliIdx.fixRange(a, b)
	}
	if full := f.fullIdx.lv; full != nil {
		copy(full[0][a:b], whole) // entirely free, or entirely taken
		f.fullIdx.fixRange(a, b)
	}
	if f.ix.ready {
		for n := a; n < b; n++ {
			f.reindex(n)
		}
	}
}

// applyShare applies one share, GPU by GPU unless it holds its node whole
// (wholeNode1).
func (f *Fleet) applyShare(s Share, sign int) {
	n := int(s.Node)
	if f.HoldsWhole(s) && f.wholeNode1(n, sign) {
		return
	}
	t := f.nodeType[n]
	wasFull := f.whole[n] == f.nodeGPUs[n]
	base := f.gpuOff[n]
	for m := s.Mask; m != 0; m &= m - 1 {
		g := base + int32(bits.TrailingZeros64(m))
		before := f.gpuFree[g]
		after := int(before) + sign*int(s.Milli)
		if after < 0 || after > FullGPU {
			panic(fmt.Sprintf("fleet: GPU %d of node %d would hold %d milli free", g-base, n, after))
		}
		f.gpuFree[g] = uint16(after)
		if before == FullGPU {
			f.freeWhole[t]--
		}
		if after == FullGPU {
			f.freeWhole[t]++
		}
	}
	f.refresh(n)
	isFull := f.whole[n] == f.nodeGPUs[n]
	if wasFull && !isFull {
		f.fullFreeGPUs[t] -= int64(f.nodeGPUs[n])
	} else if !wasFull && isFull {
		f.fullFreeGPUs[t] += int64(f.nodeGPUs[n])
	}
}

// SetDown takes node n out of service (a failure): its GPUs stop being
// free until SetUp. The node must hold no allocation: the engine first
// stops the jobs on it.
func (f *Fleet) SetDown(n NodeID) {
	if f.down[n] {
		panic("fleet: node already down")
	}
	f.unhold(n)
	if f.whole[n] != f.nodeGPUs[n] {
		panic("fleet: SetDown on a node that still holds jobs")
	}
	f.Allocate([]Share{f.wholeNode(n)})
	f.down[n] = true
	f.downGPUs += int64(f.nodeGPUs[n])
	f.version++
}

// SetUp returns a repaired node to service.
func (f *Fleet) SetUp(n NodeID) {
	if !f.down[n] {
		panic("fleet: node is not down")
	}
	f.settle()
	f.down[n] = false
	f.version++
	f.downGPUs -= int64(f.nodeGPUs[n])
	f.Release([]Share{f.wholeNode(n)})
}

func (f *Fleet) wholeNode(n NodeID) Share {
	return Share{Node: n, Milli: FullGPU, Mask: 1<<f.nodeGPUs[n] - 1}
}

// Version returns a number that changes whenever the fleet does (a GPU's
// free share, a node going down or up) and never otherwise: a policy may
// keep a conclusion drawn from the fleet while the version stays the same.
func (f *Fleet) Version() uint64 { return f.version }

// TakenVersion returns a number that changes whenever free capacity is
// taken (an allocation, a node going down) and never otherwise: what holds
// of the fleet and stays true as GPUs are freed may be kept while it stays
// the same.
func (f *Fleet) TakenVersion() uint64 { return f.taken }

// NodeTakenVersion returns the TakenVersion just after the last allocation
// on node n (0 if none): nothing on n was taken since TakenVersion was v
// if NodeTakenVersion(n) ≤ v.
func (f *Fleet) NodeTakenVersion(n NodeID) uint64 { return f.nodeTaken[n] }

// Down reports whether node n is out of service.
func (f *Fleet) Down(n NodeID) bool { return f.down[n] }

// DownGPUs returns the number of GPUs on nodes out of service.
func (f *Fleet) DownGPUs() int64 { return f.downGPUs }

// NodeOfGPU returns the node holding the fleet's g-th GPU (0 ≤ g < GPUs()).
func (f *Fleet) NodeOfGPU(g int) NodeID {
	// gpuOff is sorted: the node is the last one starting at or before g.
	return NodeID(sort.Search(len(f.nodeType), func(n int) bool { return f.gpuOff[n+1] > int32(g) }))
}

// UsedMilli returns the milli-GPU that jobs hold, summed over the fleet
// (nodes out of service excluded; for tests and conservation checks;
// O(GPUs)).
func (f *Fleet) UsedMilli() int64 {
	f.settle()
	var used int64
	for _, v := range f.gpuFree {
		used += int64(FullGPU - int(v))
	}
	return used - f.downGPUs*FullGPU
}

// Check verifies the fleet's invariants and returns the first violation.
func (f *Fleet) Check() error {
	f.settle()
	var freeWhole, fullFree [MaxTypes]int64
	for n := range f.nodeType {
		var w uint8
		var m uint16
		for g := f.gpuOff[n]; g < f.gpuOff[n+1]; g++ {
			v := f.gpuFree[g]
			if v > FullGPU {
				return fmt.Errorf("fleet: GPU %d of node %d has %d milli free", g-f.gpuOff[n], n, v)
			}
			if v == FullGPU {
				w++
			}
			m = max(m, v)
		}
		if f.whole[n] != w || f.wholeIdx.get(n) != int32(w) || f.milliIdx.get(n) != int32(m) {
			return fmt.Errorf("fleet: node %d index out of date", n)
		}
		full := int32(0)
		if w == f.nodeGPUs[n] {
			full = int32(w)
			fullFree[f.nodeType[n]] += int64(w)
		}
		if f.fullIdx.lv != nil && f.fullIdx.get(n) != full {
			return fmt.Errorf("fleet: node %d full-node index out of date", n)
		}
		freeWhole[f.nodeType[n]] += int64(w)
	}
	if freeWhole != f.freeWhole || fullFree != f.fullFreeGPUs {
		return fmt.Errorf("fleet: per-type free counters out of date")
	}
	for _, c := range []struct {
		name string
		m    *maxTree
	}{{"whole", &f.wholeIdx}, {"milli", &f.milliIdx}, {"full", &f.fullIdx}} {
		if c.m.lv == nil || c.m == &f.milliIdx && !f.milliLive {
			continue
		}
		if err := c.m.check(); err != nil {
			return fmt.Errorf("fleet: %s index: %v", c.name, err)
		}
	}
	if f.ix.ready {
		return f.checkIndex()
	}
	return nil
}
