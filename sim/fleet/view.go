package fleet

// View is the read-only face of a Fleet that policies get (through
// sim.View.Fleet). Policies never change the fleet: they propose
// placements through the engine's Plan, which validates them against the
// fleet (Validate) and applies them (Allocate, Release).
//
// Words. A GPU is wholly free when nothing is allocated on it (FullGPU
// milli free); a node is entirely free when all its GPUs are wholly free; a
// shared GPU is one partly allocated (1..FullGPU−1 milli free). A node out
// of service (Down) counts as allocated: its GPUs are neither wholly free
// nor shared.
//
// Cost. Every method is O(1) unless its comment says otherwise; none scans
// the nodes. Slices returned are the fleet's own: they must not be
// modified, and they are valid until the fleet next changes (the next
// Plan.Start or Plan.Preempt, or the next event).
//
// The bucket indexes (the methods from Classes on) are a cache: the first
// call of any of them builds them, in O(nodes + GPUs), and the fleet keeps
// them current on every allocation from then on (O(GPUs of the node) per
// node changed). They are built on first use rather than by New so that a
// run whose policies never ask (fifo, backfill, partition, priority) does
// not pay their upkeep on every allocation; building them changes no
// answer of any method. A View is not safe for concurrent use (the engine
// is single-threaded).
type View interface {
	// Nodes returns the number of nodes; NodeIDs are 0..Nodes()-1.
	Nodes() int
	// GPUs returns the number of GPUs, up or down.
	GPUs() int
	// Types returns the GPU types present, in placement order (catalog
	// order): the order FirstFit and the node-choice policies try them.
	Types() []TypeID
	// TypeGPUs returns the number of GPUs of type t, up or down.
	TypeGPUs(t TypeID) int64
	// WhollyFreeGPUs returns the GPUs of type t with nothing allocated, on
	// any node (the capacity a whole-GPU job of type t could use now).
	WhollyFreeGPUs(t TypeID) int64
	// GPUsOnFreeNodes returns the GPUs of type t on entirely free nodes
	// (the capacity a multi-node gang can take now).
	GPUsOnFreeNodes(t TypeID) int64

	// NodeType returns node n's GPU type.
	NodeType(n NodeID) TypeID
	// NodeGPUs returns node n's GPU count.
	NodeGPUs(n NodeID) int
	// NodeFreeMilli returns the free milli-GPU of each of node n's
	// GPUs, in GPU order (NodeGPUs(n) of them): FullGPU if wholly free, 0
	// if fully allocated or down. One call per node, not per GPU: policies
	// read whole nodes, and a call through this interface per GPU was a
	// visible part of the preemption pass's walk.
	NodeFreeMilli(n NodeID) []uint16
	// NodeWhollyFreeGPUs returns how many of node n's GPUs are wholly free.
	NodeWhollyFreeGPUs(n NodeID) int
	// Rack returns node n's rack (NVLink domain).
	Rack(n NodeID) RackID
	// Down reports whether node n is out of service (failed, under repair).
	Down(n NodeID) bool

	// Fits reports whether d could ever run on this fleet (with every GPU
	// free), and if not, why, in words for the user. O(types).
	Fits(d Demand) (bool, string)
	// FirstFit finds the first placement of d in node order, trying the
	// types d allows in placement order, without changing the fleet: a
	// job that fits on one node takes the first node with room (a GPU
	// share the fullest GPU there that fits); a larger gang takes entirely
	// free nodes in order. It appends the shares to buf and returns them
	// with the type, or buf and false if d does not fit now. O(types ×
	// log nodes), plus O(log nodes) per node of a gang.
	FirstFit(d Demand, buf []Share) ([]Share, TypeID, bool)

	// Version returns a number that changes whenever the fleet does (a
	// GPU's free share, a node going down or up) and never otherwise: a
	// policy may keep a conclusion drawn from the fleet while it stays
	// the same.
	Version() uint64
	// TakenVersion returns a number that changes whenever free capacity
	// is taken (an allocation, a node going down) and never otherwise:
	// what stays true as GPUs are freed may be kept while it stays the
	// same.
	TakenVersion() uint64
	// NodeTakenVersion returns the TakenVersion just after the last
	// allocation on node n (0 if none): nothing on n was taken since
	// TakenVersion was v if NodeTakenVersion(n) ≤ v.
	NodeTakenVersion(n NodeID) uint64

	// Classes returns the node classes of type t (a class is the nodes of
	// one GPU type and one GPU count), by GPU count, smallest first.
	Classes(t TypeID) []ClassID
	// ClassGPUs returns the GPUs per node of class c.
	ClassGPUs(c ClassID) int
	// NodesWithFreeGPUs returns the nodes of class c with exactly k wholly
	// free GPUs (k = ClassGPUs(c): the entirely free nodes), in no
	// meaningful but a deterministic order; nil for k outside
	// 0..ClassGPUs(c).
	NodesWithFreeGPUs(c ClassID, k int) []NodeID
	// NextFreeGPUCount returns the smallest k' ≥ k for which
	// NodesWithFreeGPUs(c, k') is not empty, or -1: the tightest fit in
	// class c for a job of k whole GPUs.
	NextFreeGPUCount(c ClassID, k int) int
	// NextSharedFree returns the smallest free share v ≥ milli (in
	// 1..FullGPU−1) that some shared GPU of type t has, or -1: the
	// tightest shared GPU for a job of a milli share. Wholly free GPUs
	// are not shared; find them through NodesWithFreeGPUs. O(FullGPU/64).
	NextSharedFree(t TypeID, milli int) int
	// SharedGPUsWithFree returns the shared GPUs of type t with exactly
	// milli free, in no meaningful but a deterministic order; nil for
	// milli outside 1..FullGPU−1.
	SharedGPUsWithFree(t TypeID, milli int) []GPUID
	// GPUNode returns the node holding GPU g and g's index j on it.
	// O(log nodes).
	GPUNode(g GPUID) (n NodeID, j int)

	// RackNodes returns rack r's nodes: the range [lo, hi).
	RackNodes(r RackID) (lo, hi NodeID)
	// RackGPUsOnFreeNodes returns the GPUs on rack r's entirely free
	// nodes.
	RackGPUsOnFreeNodes(r RackID) int
	// RacksWithFreeGPUs returns the racks of type t whose entirely free
	// nodes hold exactly gpus GPUs, in no meaningful but a deterministic
	// order; nil for gpus outside 0..MaxRackGPUs(t).
	RacksWithFreeGPUs(t TypeID, gpus int) []RackID
	// NextRackFreeGPUs returns the smallest g ≥ gpus such that some rack
	// of type t has g GPUs on entirely free nodes, or -1: the tightest
	// rack for a gang of gpus GPUs. O(MaxRackGPUs(t)/64).
	NextRackFreeGPUs(t TypeID, gpus int) int
	// PrevRackFreeGPUs returns the largest g ≤ gpus such that some rack of
	// type t has g GPUs on entirely free nodes (g may be 0: racks with no
	// free node), or -1. O(MaxRackGPUs(t)/64).
	PrevRackFreeGPUs(t TypeID, gpus int) int
	// MaxRackGPUs returns the GPUs of type t's largest rack: the largest
	// count NextRackFreeGPUs and PrevRackFreeGPUs can return.
	MaxRackGPUs(t TypeID) int
	// FirstFreeNode returns the first entirely free node in [lo, hi), or
	// -1. O(log nodes).
	FirstFreeNode(lo, hi NodeID) NodeID
}

var _ View = (*Fleet)(nil)
