package fleet

import (
	"fmt"
	"math/bits"
	"sort"
)

// The bucket indexes: free capacity filed by amount, so that "the tightest
// node with room", "a random node with room" or "the rack with the fewest
// free nodes" cost O(1) to O(max GPUs per node) instead of a scan of the
// fleet (ARCHITECTURE.md rule 7). They sit beside the maxTree indexes
// behind FirstFit, are read through View, and are kept current per node by
// refresh; Check verifies them against a recomputation from the GPUs.
//
// They are built on first use (the first query), so a run whose policies
// never ask (fifo, firstfit, priority) does not pay their upkeep on every
// allocation. Building is O(nodes + GPUs); the query methods are read-only
// in every other respect.
//
//   - Node classes. A class is the nodes of one GPU type and one GPU count
//     (a fleet usually has one class per type). Per class and per k, the
//     nodes with exactly k wholly free GPUs form a bucket; k equal to the
//     class's GPU count is the bucket of entirely free nodes. A bitmask per
//     class marks the non-empty buckets below it, so the smallest k ≥ need
//     with a node is a bit scan.
//   - Shared GPUs. Per GPU type and per free share v (1..999 milli), the
//     partly allocated GPUs with exactly v free; a bitmap marks the
//     non-empty ones, so the tightest share that fits is a scan of at most
//     16 words.
//   - Racks (racks.go). Per GPU type and per c, the racks whose entirely
//     free nodes hold exactly c GPUs.
//
// Buckets are unordered sets: an element's position is kept in a parallel
// array so insert and remove are O(1) (remove swaps the last element in).
// Their order is therefore arbitrary but deterministic: the same sequence
// of allocations gives the same order. Buckets grow by append and keep their
// capacity, so a warm fleet allocates nothing.
type index struct {
	ready bool // built: the first query builds it, refresh keeps it current

	nodeClass   []ClassID           // class of node n
	nodeKey     []uint8             // the k node n is filed under
	nodePos     []int32             // node n's position in its bucket
	classType   []uint8             // GPU type of class c
	classGPUs   []uint8             // GPUs per node of class c
	classNodes  [][][]NodeID        // [c][k]: nodes of class c with k wholly free GPUs
	classMask   []uint64            // bit k: classNodes[c][k] non-empty, for k < classGPUs[c]
	typeClasses [MaxTypes][]ClassID // classes of type t, by GPU count ascending

	gpuKey     []uint16            // the free share GPU g is filed under; 0: not filed
	gpuPos     []int32             // GPU g's position in its bucket
	shared     [MaxTypes][][]GPUID // [t][v]: partly allocated GPUs of type t with v milli free; nil until used
	sharedMask [MaxTypes][(FullGPU + 63) / 64]uint64

	rackLo    []NodeID             // rack r holds nodes [rackLo[r], rackLo[r+1])
	rackFree  []int32              // GPUs on rack r's entirely free nodes
	rackPos   []int32              // rack r's position in its bucket
	racks     [MaxTypes][][]RackID // [t][c]: racks of type t with c GPUs on entirely free nodes
	rackMask  [MaxTypes][]uint64   // bit c: racks[t][c] non-empty
	rackLimit [MaxTypes]int        // the largest c of type t (its biggest rack's GPUs)
}

// index returns the bucket indexes, building them on first use.
func (f *Fleet) index() *index {
	f.settle()
	if !f.ix.ready {
		f.buildIndex()
	}
	return &f.ix
}

// buildIndex builds the bucket indexes from the fleet's state. From then on
// refresh keeps them current.
func (f *Fleet) buildIndex() {
	ix := &f.ix
	nodes := len(f.nodeType)
	ix.nodeClass = make([]ClassID, nodes)
	ix.nodeKey = make([]uint8, nodes)
	ix.nodePos = make([]int32, nodes)
	classOf := map[[2]uint8]ClassID{}
	for n := 0; n < nodes; n++ {
		key := [2]uint8{f.nodeType[n], f.nodeGPUs[n]}
		c, ok := classOf[key]
		if !ok {
			c = ClassID(len(ix.classType))
			classOf[key] = c
			ix.classType = append(ix.classType, key[0])
			ix.classGPUs = append(ix.classGPUs, key[1])
			ix.classNodes = append(ix.classNodes, make([][]NodeID, int(key[1])+1))
			ix.classMask = append(ix.classMask, 0)
			ix.typeClasses[key[0]] = append(ix.typeClasses[key[0]], c)
		}
		ix.nodeClass[n] = c
	}
	for t := range ix.typeClasses {
		cs := ix.typeClasses[t]
		sort.Slice(cs, func(a, b int) bool { return ix.classGPUs[cs[a]] < ix.classGPUs[cs[b]] })
	}

	ix.gpuKey = make([]uint16, len(f.gpuFree))
	ix.gpuPos = make([]int32, len(f.gpuFree))

	// Racks: groups start new racks and nodes are numbered group by group,
	// so each rack is a contiguous node range of one type and GPU count.
	racks := len(f.rackCluster)
	ix.rackLo = make([]NodeID, racks+1)
	ix.rackFree = make([]int32, racks)
	ix.rackPos = make([]int32, racks)
	for n := nodes - 1; n >= 0; n-- {
		ix.rackLo[f.nodeRack[n]] = NodeID(n)
	}
	ix.rackLo[racks] = NodeID(nodes)
	for r := 0; r < racks; r++ {
		lo, hi := ix.rackLo[r], ix.rackLo[r+1]
		t := f.nodeType[lo]
		ix.rackLimit[t] = max(ix.rackLimit[t], int(hi-lo)*int(f.nodeGPUs[lo]))
	}
	for t, limit := range ix.rackLimit {
		if f.lo[t] >= 0 {
			ix.racks[t] = make([][]RackID, limit+1)
			ix.rackMask[t] = make([]uint64, (limit+1+63)/64)
		}
	}
	for n := 0; n < nodes; n++ {
		if f.whole[n] == f.nodeGPUs[n] {
			ix.rackFree[f.nodeRack[n]] += int32(f.nodeGPUs[n])
		}
	}
	for r := 0; r < racks; r++ {
		ix.fileRack(TypeID(f.nodeType[ix.rackLo[r]]), RackID(r))
	}
	for n := 0; n < nodes; n++ {
		ix.nodeKey[n] = f.whole[n]
		ix.fileNode(NodeID(n))
	}
	ix.ready = true
	for n := 0; n < nodes; n++ {
		f.reindex(n) // files the shared GPUs
	}
}

// reindex brings node n's entries up to date after its GPUs changed; refresh
// calls it. O(GPUs of the node).
func (f *Fleet) reindex(n int) {
	ix := &f.ix
	if !ix.ready {
		return
	}
	if k, old := f.whole[n], ix.nodeKey[n]; k != old {
		ix.unfileNode(NodeID(n))
		ix.nodeKey[n] = k
		ix.fileNode(NodeID(n))
		if size := f.nodeGPUs[n]; old == size || k == size {
			// The node became entirely free, or stopped being so.
			r := f.nodeRack[n]
			t := TypeID(f.nodeType[n])
			ix.unfileRack(t, r)
			if k == size {
				ix.rackFree[r] += int32(size)
			} else {
				ix.rackFree[r] -= int32(size)
			}
			ix.fileRack(t, r)
		}
	}
	t := TypeID(f.nodeType[n])
	for g := f.gpuOff[n]; g < f.gpuOff[n]+int32(f.nodeGPUs[n]); g++ {
		v := f.gpuFree[g]
		if v == FullGPU {
			v = 0 // wholly free GPUs are counted by their node's k
		}
		if old := ix.gpuKey[g]; old != v {
			if old != 0 {
				ix.unfileGPU(t, GPUID(g))
			}
			ix.gpuKey[g] = v
			if v != 0 {
				ix.fileGPU(t, GPUID(g))
			}
		}
	}
}

// add puts x in bucket b, remembering its position in pos.
func add[T ~int32](b *[]T, pos []int32, x T) {
	pos[x] = int32(len(*b))
	*b = append(*b, x)
}

// remove takes x out of bucket b by moving the bucket's last element into
// its place.
func remove[T ~int32](b *[]T, pos []int32, x T) {
	s := *b
	i := pos[x]
	last := s[len(s)-1]
	s[i] = last
	pos[last] = i
	*b = s[:len(s)-1]
}

func (ix *index) fileNode(n NodeID) {
	c, k := ix.nodeClass[n], int(ix.nodeKey[n])
	add(&ix.classNodes[c][k], ix.nodePos, n)
	if k < int(ix.classGPUs[c]) {
		ix.classMask[c] |= 1 << k
	}
}

func (ix *index) unfileNode(n NodeID) {
	c, k := ix.nodeClass[n], int(ix.nodeKey[n])
	remove(&ix.classNodes[c][k], ix.nodePos, n)
	if k < int(ix.classGPUs[c]) && len(ix.classNodes[c][k]) == 0 {
		ix.classMask[c] &^= 1 << k
	}
}

func (ix *index) fileGPU(t TypeID, g GPUID) {
	v := int(ix.gpuKey[g])
	if ix.shared[t] == nil {
		ix.shared[t] = make([][]GPUID, FullGPU)
	}
	add(&ix.shared[t][v], ix.gpuPos, g)
	ix.sharedMask[t][v/64] |= 1 << (v % 64)
}

func (ix *index) unfileGPU(t TypeID, g GPUID) {
	v := int(ix.gpuKey[g])
	remove(&ix.shared[t][v], ix.gpuPos, g)
	if len(ix.shared[t][v]) == 0 {
		ix.sharedMask[t][v/64] &^= 1 << (v % 64)
	}
}

// nextBit returns the smallest set bit ≥ from in mask, or -1.
func nextBit(mask []uint64, from int) int {
	if from < 0 {
		from = 0
	}
	w := from / 64
	if w >= len(mask) {
		return -1
	}
	m := mask[w] &^ (1<<(from%64) - 1)
	for {
		if m != 0 {
			return w*64 + bits.TrailingZeros64(m)
		}
		w++
		if w == len(mask) {
			return -1
		}
		m = mask[w]
	}
}

// prevBit returns the largest set bit ≤ from in mask, or -1.
func prevBit(mask []uint64, from int) int {
	if from < 0 {
		return -1
	}
	w := from / 64
	if w >= len(mask) {
		w, from = len(mask)-1, len(mask)*64-1
	}
	m := mask[w]
	if s := from % 64; s < 63 {
		m &= 1<<(s+1) - 1
	}
	for {
		if m != 0 {
			return w*64 + 63 - bits.LeadingZeros64(m)
		}
		w--
		if w < 0 {
			return -1
		}
		m = mask[w]
	}
}

// Classes returns the node classes of GPU type t — a class is the nodes of
// one GPU type and one GPU count — in order of GPU count, smallest first.
// The slice must not be modified.
func (f *Fleet) Classes(t TypeID) []ClassID { return f.index().typeClasses[t] }

// ClassGPUs returns the GPUs per node of class c.
func (f *Fleet) ClassGPUs(c ClassID) int { return int(f.index().classGPUs[c]) }

// NodesWithFreeGPUs returns the nodes of class c with exactly k wholly free GPUs
// (k = ClassGPUs(c): the entirely free nodes), in no meaningful order. The
// slice must not be modified and is valid until the fleet next changes.
func (f *Fleet) NodesWithFreeGPUs(c ClassID, k int) []NodeID {
	ix := f.index()
	if k < 0 || k > int(ix.classGPUs[c]) {
		return nil
	}
	return ix.classNodes[c][k]
}

// NextFreeGPUCount returns the smallest k' ≥ k for which NodesWithFreeGPUs(c, k') is not
// empty, or -1: the tightest fit in class c for a job of k whole GPUs.
// O(1).
func (f *Fleet) NextFreeGPUCount(c ClassID, k int) int {
	ix := f.index()
	size := int(ix.classGPUs[c])
	k = max(k, 0)
	if k > size {
		return -1
	}
	if k < size {
		if m := ix.classMask[c] &^ (1<<k - 1); m != 0 {
			return bits.TrailingZeros64(m)
		}
	}
	if len(ix.classNodes[c][size]) > 0 {
		return size
	}
	return -1
}

// NodeWhollyFreeGPUs returns how many of node n's GPUs are wholly free.
func (f *Fleet) NodeWhollyFreeGPUs(n NodeID) int { f.settle(); return int(f.whole[n]) }

// NextSharedFree returns the smallest free share v ≥ milli (in 1..FullGPU-1)
// that some partly allocated GPU of type t has, or -1: the tightest shared
// GPU for a job of a milli share. Wholly free GPUs are not shared GPUs;
// find them through the node buckets.
func (f *Fleet) NextSharedFree(t TypeID, milli int) int {
	return nextBit(f.index().sharedMask[t][:], max(milli, 1))
}

// SharedGPUsWithFree returns the partly allocated GPUs of type t with exactly milli
// free, as fleet GPU indexes (GPUNode maps them to a node), in no
// meaningful order. The slice must not be modified and is valid until the
// fleet next changes.
func (f *Fleet) SharedGPUsWithFree(t TypeID, milli int) []GPUID {
	ix := f.index()
	if ix.shared[t] == nil || milli < 1 || milli >= FullGPU {
		return nil
	}
	return ix.shared[t][milli]
}

// GPUNode returns the node holding fleet GPU g and g's index on it.
// O(log nodes).
func (f *Fleet) GPUNode(g GPUID) (n NodeID, j int) {
	n = f.NodeOfGPU(int(g))
	return n, int(int32(g) - f.gpuOff[n])
}

// checkIndex verifies the bucket indexes against a recomputation from the
// GPUs; Check calls it.
func (f *Fleet) checkIndex() error {
	ix := &f.ix
	filed := 0
	for n := range f.nodeType {
		c := ix.nodeClass[n]
		if ix.classType[c] != f.nodeType[n] || ix.classGPUs[c] != f.nodeGPUs[n] {
			return fmt.Errorf("fleet: node %d is in the wrong class", n)
		}
		k := f.whole[n]
		b := ix.classNodes[c][k]
		if ix.nodeKey[n] != k || int(ix.nodePos[n]) >= len(b) || b[ix.nodePos[n]] != NodeID(n) {
			return fmt.Errorf("fleet: node %d is not in bucket (class %d, %d wholly free GPUs)", n, c, k)
		}
	}
	for c := range ix.classNodes {
		for k, b := range ix.classNodes[c] {
			filed += len(b)
			if k < int(ix.classGPUs[c]) && (ix.classMask[c]>>k&1 == 1) != (len(b) > 0) {
				return fmt.Errorf("fleet: class %d bucket %d: mask out of date", c, k)
			}
		}
		if ix.classMask[c]>>ix.classGPUs[c] != 0 && ix.classGPUs[c] < 64 {
			return fmt.Errorf("fleet: class %d: mask has bits above its GPU count", c)
		}
	}
	if filed != len(f.nodeType) {
		return fmt.Errorf("fleet: node buckets hold %d entries for %d nodes", filed, len(f.nodeType))
	}

	filed = 0
	want := 0
	for n := range f.nodeType {
		t := f.nodeType[n]
		for g := f.gpuOff[n]; g < f.gpuOff[n+1]; g++ {
			v := f.gpuFree[g]
			if v == FullGPU || v == 0 {
				if ix.gpuKey[g] != 0 {
					return fmt.Errorf("fleet: GPU %d is filed as shared with %d free; has %d", g, ix.gpuKey[g], v)
				}
				continue
			}
			want++
			if ix.gpuKey[g] != v || ix.shared[t] == nil {
				return fmt.Errorf("fleet: shared GPU %d is filed under %d free; has %d", g, ix.gpuKey[g], v)
			}
			b := ix.shared[t][v]
			if int(ix.gpuPos[g]) >= len(b) || b[ix.gpuPos[g]] != GPUID(g) {
				return fmt.Errorf("fleet: shared GPU %d is not in its bucket", g)
			}
		}
	}
	for t := range ix.shared {
		for v := 0; v < FullGPU; v++ {
			var l int
			if ix.shared[t] != nil {
				l = len(ix.shared[t][v])
			}
			filed += l
			if (ix.sharedMask[t][v/64]>>(v%64)&1 == 1) != (l > 0) {
				return fmt.Errorf("fleet: shared-GPU mask of type %d, share %d out of date", t, v)
			}
		}
	}
	if filed != want {
		return fmt.Errorf("fleet: shared-GPU buckets hold %d entries for %d shared GPUs", filed, want)
	}
	return f.checkRacks()
}
