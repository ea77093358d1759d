package sim

import "math/bits"

// runIndex records which job slots hold running jobs, one bitset per
// segment, and which of them run under a preemption notice. Allocators walk
// the running jobs of one segment (Priority: the spot jobs it may preempt)
// on every scheduling pass; a bitset walks them in slot order, as a scan
// of the job table would, at a cost of a word per 64 slots instead of a
// whole Job per slot (at a million GPUs the table holds hundreds of
// thousands of jobs, and the scan was most of a loaded run's time).
type runIndex struct {
	seg    [NumSegments][]uint64
	notice []uint64
}

func setBit(bs *[]uint64, id JobID) {
	w := int(id >> 6)
	for len(*bs) <= w {
		*bs = append(*bs, 0)
	}
	(*bs)[w] |= 1 << (id & 63)
}

func clearBit(bs []uint64, id JobID) {
	if w := int(id >> 6); w < len(bs) {
		bs[w] &^= 1 << (id & 63)
	}
}

func hasBit(bs []uint64, id JobID) bool {
	w := int(id >> 6)
	return w < len(bs) && bs[w]&(1<<(id&63)) != 0
}

// started records that job id of seg runs (with no notice).
func (r *runIndex) started(id JobID, seg Segment) { setBit(&r.seg[seg], id) }

// stopped records that job id of seg no longer runs.
func (r *runIndex) stopped(id JobID, seg Segment) {
	clearBit(r.seg[seg], id)
	clearBit(r.notice, id)
}

// noticed records that running job id got a preemption notice.
func (r *runIndex) noticed(id JobID) { setBit(&r.notice, id) }

// SegmentSet is a set of segments, a bit per Segment.
type SegmentSet uint8

// AllSegments holds every segment.
const AllSegments = SegmentSet(1<<NumSegments - 1)

// Segments returns the set of the segments given.
func Segments(segs ...Segment) SegmentSet {
	var s SegmentSet
	for _, g := range segs {
		s |= 1 << g
	}
	return s
}

// Has reports whether seg is in the set.
func (s SegmentSet) Has(seg Segment) bool { return s&(1<<seg) != 0 }

// each calls fn, in slot order, for the running jobs of the segments in
// segs and, with notice, for every running job under a preemption notice.
func (r *runIndex) each(segs SegmentSet, notice bool, fn func(JobID)) {
	n := 0
	for s := range NumSegments {
		if segs.Has(s) {
			n = max(n, len(r.seg[s]))
		}
	}
	if notice {
		n = max(n, len(r.notice))
	}
	for w := range n {
		var word uint64
		for s := range NumSegments {
			if segs.Has(s) && w < len(r.seg[s]) {
				word |= r.seg[s][w]
			}
		}
		if notice && w < len(r.notice) {
			word |= r.notice[w]
		}
		for ; word != 0; word &= word - 1 {
			fn(JobID(w<<6 + bits.TrailingZeros64(word)))
		}
	}
}
