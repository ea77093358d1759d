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
	FirstFit(d Demand, buf []Share) ([]Share, int, bool)
}

var _ View = (*Fleet)(nil)
