package sim

import (
	"math/bits"

	"neosim/sim/fleet"
)

// runIndex records which job slots hold running jobs, one bitset per
// segment, and which of them run under a preemption notice. Allocators walk
// the running jobs of one segment (Priority: the spot jobs it may preempt)
// on every scheduling pass; a bitset walks them in slot order, as a scan
// of the job table would, at a cost of a word per 64 slots instead of a
// whole Job per slot (at a million GPUs the table holds hundreds of
// thousands of jobs, and the scan was most of a loaded run's time).
//
// It also keeps, by slot, a compact copy of the placement of every running
// spot job and every job under notice (placedRec), which the preemption
// walks read (View.RunningPlaced) instead of the jobs themselves.
type runIndex struct {
	seg    [NumSegments][]uint64
	notice []uint64
	placed []placedRec
}

// placedRec is a running job's placement as a preemption walk reads it:
// 32 bytes, two to a cache line, where the job was three lines (its state,
// its spec, its shares' array), each a miss in a walk over scattered slots.
// A job on several nodes keeps only its first share here; the walk reads
// the rest from the job.
type placedRec struct {
	end    Time
	first  [1]fleet.Share
	multi  bool // the job has more shares than the first
	typ    int8
	seg    Segment
	notice bool
}

// place records job j's placement in its slot id; with notice, as under a
// preemption notice.
func (r *runIndex) place(id JobID, j *Job, notice bool) {
	for len(r.placed) <= int(id) {
		r.placed = append(r.placed, placedRec{})
	}
	r.placed[id] = placedRec{end: j.end, first: [1]fleet.Share{j.Shares[0]}, multi: len(j.Shares) > 1,
		typ: int8(j.Type), seg: j.Segment, notice: notice}
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

// noticed records that running job j in slot id got a preemption notice.
func (r *runIndex) noticed(id JobID, j *Job) {
	setBit(&r.notice, id)
	if j.Segment == SegSpot {
		r.placed[id].notice = true
	} else {
		r.place(id, j, true)
	}
}

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

// runAhead is how many jobs ahead of fn eachAhead calls ahead.
const runAhead = 8

// eachAhead is each, with ahead called for every job runAhead jobs before
// fn is: ahead starts the loads of what fn will read (prefetch), so that
// the cache misses of a walk over scattered slots overlap rather than come
// one after another.
func (r *runIndex) eachAhead(segs SegmentSet, notice bool, ahead, fn func(JobID)) {
	var (
		ring [runAhead]JobID
		n    int
	)
	r.each(segs, notice, func(id JobID) {
		ahead(id)
		k := n % runAhead
		if n >= runAhead {
			fn(ring[k])
		}
		ring[k] = id
		n++
	})
	for i := max(n-runAhead, 0); i < n; i++ {
		fn(ring[i%runAhead])
	}
}
