package fleet

// View is the read-only face of a Fleet that policies get. Policies never
// change the fleet: they propose placements through the engine's Plan.
type View interface {
	Nodes() int
	GPUs() int
	Types() []int
	TypeGPUs(t int) int64
	FreeWholeGPUs(t int) int64
	NodeType(n int32) int
	NodeGPUs(n int32) int
	NodeFreeMilli(n int32, j int) int
	Rack(n int32) int32
	Down(n int32) bool
	Fits(d Demand) (bool, string)
	Version() uint64
	TakenVersion() uint64
	NodeTakenVersion(n int32) uint64
	FirstFit(d Demand, buf []Share) ([]Share, int, bool)

	// The bucket indexes (buckets.go, racks.go): free capacity filed by
	// amount, for node choices other than first fit without a scan.
	Classes(t int) []int32
	ClassGPUs(c int32) int
	FreeNodes(c int32, k int) []int32
	NextFree(c int32, k int) int
	NodeWholeFree(n int32) int
	NextShared(t, milli int) int
	SharedGPUs(t, milli int) []int32
	GPUNode(g int32) (n int32, j int)
	RackNodes(r int32) (lo, hi int32)
	RackFreeGPUs(r int32) int
	RacksFree(t, c int) []int32
	NextRack(t, c int) int
	PrevRack(t, c int) int
	RackLimit(t int) int
	FirstFreeNode(lo, hi int32) int32
	FullFreeGPUs(t int) int64
}

var _ View = (*Fleet)(nil)
