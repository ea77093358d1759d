package fleet

// maxTree is a segment tree over node indexes holding one int32 per node and
// the maximum of every subtree, so "the first node in [lo, hi) whose value is
// at least k" costs O(log n). It is the free-capacity index behind first-fit.
type maxTree struct {
	size int     // number of leaves, a power of two
	t    []int32 // t[1] is the root; leaves at t[size:]
}

func newMaxTree(n int) maxTree {
	size := 1
	for size < n {
		size *= 2
	}
	return maxTree{size: size, t: make([]int32, 2*size)}
}

func (m *maxTree) get(i int) int32 { return m.t[m.size+i] }

func (m *maxTree) set(i int, v int32) {
	i += m.size
	if m.t[i] == v {
		return
	}
	m.t[i] = v
	for i > 1 {
		i >>= 1
		nv := max(m.t[2*i], m.t[2*i+1])
		if m.t[i] == nv {
			return
		}
		m.t[i] = nv
	}
}

// firstAtLeast returns the first index in [lo, hi) whose value is ≥ k, or -1.
func (m *maxTree) firstAtLeast(lo, hi int, k int32) int {
	if lo >= hi {
		return -1
	}
	return m.first(1, 0, m.size, lo, hi, k)
}

func (m *maxTree) first(node, nl, nr, lo, hi int, k int32) int {
	if nr <= lo || hi <= nl || m.t[node] < k {
		return -1
	}
	for nr-nl > 1 {
		mid := (nl + nr) / 2
		if lo < mid && m.t[2*node] >= k {
			// The left child may hold the answer, but only inside [lo, hi).
			if lo <= nl && mid <= hi {
				node, nr = 2*node, mid
				continue
			}
			if r := m.first(2*node, nl, mid, lo, hi, k); r >= 0 {
				return r
			}
		}
		node, nl = 2*node+1, mid
		if nr <= lo || hi <= nl || m.t[node] < k {
			return -1
		}
	}
	return nl
}
