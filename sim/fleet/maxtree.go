package fleet

import "fmt"

// maxTree holds one int32 per node index and answers "the first index in
// [lo, hi) whose value is at least k" in O(log n): the free-capacity index
// behind first fit.
//
// It is a 16-ary tree kept level by level: level 0 holds the values, each
// entry of level L+1 the maximum of a group of 16 entries of level L. A
// group of 16 int32 is one 64-byte cache line, so a search or an update
// touches about log16(n) lines (5 for a million nodes) where a binary
// segment tree touched log2(n) (20), mostly cache misses at this size: the
// capacity indexes were the largest cost of a million-GPU run.
type maxTree struct {
	lv [][]int32 // lv[0]: the values; lv[len-1]: one group, the root's children
}

const (
	mtShift = 4
	mtB     = 1 << mtShift // children per entry
)

func newMaxTree(n int) maxTree {
	var m maxTree
	size := max(n, 1)
	for {
		padded := (size + mtB - 1) &^ (mtB - 1)
		m.lv = append(m.lv, make([]int32, padded))
		if padded == mtB {
			return m
		}
		size = padded / mtB
	}
}

func (m *maxTree) get(i int) int32 { return m.lv[0][i] }

func (m *maxTree) set(i int, v int32) {
	row := m.lv[0]
	old := row[i]
	if old == v {
		return
	}
	row[i] = v
	for l := 1; l < len(m.lv); l++ {
		up := m.lv[l]
		pi := i >> mtShift
		p := up[pi] // the group's maximum before the change
		var nv int32
		switch {
		case v >= p:
			nv = v // the new value is the group's maximum
		case old < p:
			return // the maximum is another entry, unchanged
		default: // the maximum fell: look at the whole group
			nv = groupMax(row, i&^(mtB-1))
		}
		if nv == p {
			return
		}
		up[pi] = nv
		old, v, i, row = p, nv, pi, up
	}
}

// groupMax returns the maximum of the group of mtB entries of row starting
// at k (a multiple of mtB), as a tree of independent comparisons: no loop
// and no bounds check per entry, and the maxima of different pairs do not
// wait on each other. set and fixRange, each with a loop of its own over
// the group's entries, ran 7% of the instructions of 20 days of meta; with
// it they run 13% fewer.
func groupMax(row []int32, k int) int32 {
	var _ [mtB - 16]struct{} = [0]struct{}{} // written for groups of 16
	g := (*[mtB]int32)(row[k : k+mtB])
	a := max(max(g[0], g[1]), max(g[2], g[3]))
	b := max(max(g[4], g[5]), max(g[6], g[7]))
	c := max(max(g[8], g[9]), max(g[10], g[11]))
	d := max(max(g[12], g[13]), max(g[14], g[15]))
	return max(max(a, b), max(c, d))
}

// fixRange recomputes the maxima above values [a, b), after they were
// written to m.lv[0] directly: level by level, the entries above the range,
// up to the root or until none of them changes.
func (m *maxTree) fixRange(a, b int) {
	for l := 1; l < len(m.lv) && a < b; l++ {
		row, up := m.lv[l-1], m.lv[l]
		lo, hi := a>>mtShift, (b-1)>>mtShift+1
		a, b = hi, lo // the changed entries of up, if any
		for i := lo; i < hi; i++ {
			nv := groupMax(row, i<<mtShift)
			if up[i] != nv {
				up[i] = nv
				a, b = min(a, i), i+1
			}
		}
	}
}

// build computes every level above the values from the values.
func (m *maxTree) build() {
	for l := 1; l < len(m.lv); l++ {
		row, up := m.lv[l-1], m.lv[l]
		for i := range up {
			if i<<mtShift >= len(row) {
				break
			}
			up[i] = groupMax(row, i<<mtShift)
		}
	}
}

// firstAtLeast returns the first index in [lo, hi) whose value is ≥ k, or -1.
func (m *maxTree) firstAtLeast(lo, hi int, k int32) int {
	if lo >= hi {
		return -1
	}
	if k <= 0 {
		return lo
	}
	// Climb: scan the rest of i's group; if no entry holds k, move to the
	// entry above the next group, until an entry holds k or the entries
	// start at or after hi. At level l, entry i covers the values
	// [i<<(4l), (i+1)<<(4l)): the last entry that starts before hi is
	// (hi-1)>>(4l).
	i, l := lo, 0
	for {
		row := m.lv[l]
		last := (hi - 1) >> (l * mtShift)
		end := min((i|(mtB-1))+1, last+1, len(row))
		for ; i < end; i++ {
			if row[i] >= k {
				goto descend
			}
		}
		if end > last || l+1 == len(m.lv) {
			return -1
		}
		i = end >> mtShift
		l++
	}
descend:
	// Descend into the first child that holds k, down to a value.
	for l > 0 {
		l--
		i <<= mtShift
		row := m.lv[l]
		for row[i] < k {
			i++
		}
	}
	if i >= hi {
		return -1
	}
	return i
}

// check verifies that every entry above the values is the maximum of its
// group (for Fleet.Check).
func (m *maxTree) check() error {
	for l := 1; l < len(m.lv); l++ {
		for i, v := range m.lv[l] {
			lo := i << mtShift
			if lo >= len(m.lv[l-1]) {
				break
			}
			g := m.lv[l-1][lo : lo+mtB]
			want := g[0]
			for _, c := range g[1:] {
				want = max(want, c)
			}
			if v != want {
				return fmt.Errorf("level %d entry %d holds %d, its group's maximum is %d", l, i, v, want)
			}
		}
	}
	return nil
}
