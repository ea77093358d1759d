package fleet

// The fleet's numbered things. Each has its own type, so that a node cannot
// be passed where a rack or a class is meant, and a GPU count cannot be
// passed where a GPU type is.

// TypeID is a GPU type: an index into Catalog (0 ≤ t < len(Catalog) ≤
// MaxTypes).
type TypeID int

// NodeID is a node: 0 ≤ n < Nodes(). Nodes are numbered by GPU type in
// catalog order, then in the order their groups were given, so each type
// owns one contiguous range and node order is topology order (region,
// datacenter, cluster, rack, node).
type NodeID int32

// GPUID is one GPU of the fleet: 0 ≤ g < GPUs(), numbered node by node
// (node n's GPUs follow node n−1's). A GPU is also named by its node and
// its index on the node (0 ≤ j < NodeGPUs(n)); GPUNode converts.
type GPUID int32

// ClassID is a node class: the nodes of one GPU type and one GPU count
// (a fleet usually has one class per type). The bucket indexes file nodes
// by class.
type ClassID int32

// RackID is a rack (NVLink domain): 0 ≤ r < Racks(). A rack is a
// contiguous node range of one GPU type and one GPU count.
type RackID int32

// MaxTypes is the most GPU types a catalog may hold: the size of the
// fleet's per-type arrays (counters, node ranges, index heads). A TypeSet
// (uint16) could hold 16; 8 keeps the per-type arrays small. Raise it (and
// check TypeSet) before the catalog outgrows it; New panics if it has.
const MaxTypes = 8
