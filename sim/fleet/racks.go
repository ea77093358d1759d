package fleet

import "fmt"

// The rack index: per rack (NVLink domain), the GPUs on its entirely free
// nodes, and per GPU type a bucket of racks for each such count, so a gang
// placement can ask for "the rack with the fewest free GPUs that still
// holds the whole gang" or "the rack with the most" without a scan. A rack
// is a contiguous node range of one GPU type and one GPU count (groups start
// new racks), so its entirely free nodes are found through the fleet's
// full-node maxTree in O(log n) each (FirstFreeNode).

func (ix *index) fileRack(t TypeID, r RackID) {
	c := int(ix.rackFree[r])
	add(&ix.racks[t][c], ix.rackPos, r)
	ix.rackMask[t][c/64] |= 1 << (c % 64)
}

func (ix *index) unfileRack(t TypeID, r RackID) {
	c := int(ix.rackFree[r])
	remove(&ix.racks[t][c], ix.rackPos, r)
	if len(ix.racks[t][c]) == 0 {
		ix.rackMask[t][c/64] &^= 1 << (c % 64)
	}
}

// RackNodes returns rack r's nodes: the range [lo, hi).
func (f *Fleet) RackNodes(r RackID) (lo, hi NodeID) {
	ix := f.index()
	return ix.rackLo[r], ix.rackLo[r+1]
}

// RackGPUsOnFreeNodes returns the GPUs on rack r's entirely free nodes.
func (f *Fleet) RackGPUsOnFreeNodes(r RackID) int { return int(f.index().rackFree[r]) }

// RacksWithFreeGPUs returns the racks of GPU type t whose entirely free
// nodes hold exactly gpus GPUs, in no meaningful order. The slice must not
// be modified and is valid until the fleet next changes.
func (f *Fleet) RacksWithFreeGPUs(t TypeID, gpus int) []RackID {
	ix := f.index()
	if gpus < 0 || gpus >= len(ix.racks[t]) {
		return nil
	}
	return ix.racks[t][gpus]
}

// NextRackFreeGPUs returns the smallest g ≥ gpus such that some rack of
// type t has g GPUs on entirely free nodes, or -1: the tightest rack for a
// gang of gpus GPUs.
func (f *Fleet) NextRackFreeGPUs(t TypeID, gpus int) int {
	return nextBit(f.index().rackMask[t], gpus)
}

// PrevRackFreeGPUs returns the largest g ≤ gpus such that some rack of
// type t has g GPUs on entirely free nodes (g may be 0: racks with no free
// node), or -1.
func (f *Fleet) PrevRackFreeGPUs(t TypeID, gpus int) int {
	return prevBit(f.index().rackMask[t], gpus)
}

// MaxRackGPUs returns the GPUs of type t's largest rack: the largest count
// NextRackFreeGPUs and PrevRackFreeGPUs can return.
func (f *Fleet) MaxRackGPUs(t TypeID) int { return f.index().rackLimit[t] }

// FirstFreeNode returns the first entirely free node in [lo, hi), or -1.
// O(log nodes).
func (f *Fleet) FirstFreeNode(lo, hi NodeID) NodeID {
	f.settle()
	for _, t := range f.types { // in node order: each type's nodes are numbered in a row
		if a, b := max(int(lo), f.lo[t]), min(int(hi), f.hi[t]); a < b {
			tree, k := f.freeNodeTree(t)
			if n := tree.firstAtLeast(a, b, k); n >= 0 {
				return NodeID(n)
			}
		}
	}
	return -1
}

// GPUsOnFreeNodes returns the GPUs of type t on entirely free nodes (the
// capacity a multi-node gang can take).
func (f *Fleet) GPUsOnFreeNodes(t TypeID) int64 { f.settle(); return f.fullFreeGPUs[t] }

// checkRacks verifies the rack index against a recomputation.
func (f *Fleet) checkRacks() error {
	ix := &f.ix
	free := make([]int32, len(ix.rackFree))
	for n := range f.nodeType {
		r := f.nodeRack[n]
		if NodeID(n) < ix.rackLo[r] || NodeID(n) >= ix.rackLo[r+1] {
			return fmt.Errorf("fleet: node %d outside its rack %d's range", n, r)
		}
		if f.whole[n] == f.nodeGPUs[n] {
			free[r] += int32(f.nodeGPUs[n])
		}
	}
	for r := range free {
		t := f.nodeType[ix.rackLo[r]]
		c := ix.rackFree[r]
		if c != free[r] {
			return fmt.Errorf("fleet: rack %d has %d GPUs on entirely free nodes, index says %d", r, free[r], c)
		}
		b := ix.racks[t][c]
		if int(ix.rackPos[r]) >= len(b) || b[ix.rackPos[r]] != RackID(r) {
			return fmt.Errorf("fleet: rack %d is not in its bucket", r)
		}
	}
	filed := 0
	for t := range ix.racks {
		for c, b := range ix.racks[t] {
			filed += len(b)
			if (ix.rackMask[t][c/64]>>(c%64)&1 == 1) != (len(b) > 0) {
				return fmt.Errorf("fleet: rack mask of type %d, count %d out of date", t, c)
			}
		}
	}
	if filed != len(free) {
		return fmt.Errorf("fleet: rack buckets hold %d entries for %d racks", filed, len(free))
	}
	return nil
}
