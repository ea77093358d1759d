package traces

import (
	"strconv"
	"strings"
)

// checkUnique records id and rejects it if an earlier row had it. The table
// keeps a 64-bit hash of each id, not the id: on a hash match the file is
// read again up to the first row with that hash to tell a duplicate from a
// collision, so the check is exact while costing 10 to 20 bytes per job.
func (r *Reader) checkUnique(id string) error {
	h := r.hash(id)
	if !r.seen.add(h) {
		return nil
	}
	if line, ok := r.collided[id]; ok {
		return r.dupErr(id, line)
	}
	prev, first, err := r.firstWithHash(h)
	if err != nil {
		return err
	}
	if prev == id {
		return r.dupErr(id, first)
	}
	// Two ids with the same hash (odds about n²/2^65 for n jobs).
	if r.collided == nil {
		r.collided = map[string]int64{}
	}
	if _, ok := r.collided[prev]; !ok {
		r.collided[prev] = first
	}
	r.collided[strings.Clone(id)] = r.line
	return nil
}

func (r *Reader) dupErr(id string, first int64) error {
	return r.fieldErr(cJobID, "duplicate job_id %q (first on %s)", id, r.where(first))
}

// firstWithHash reads the file again up to the first row whose job_id has
// hash h, and returns that id and its position.
func (r *Reader) firstWithHash(h uint64) (string, int64, error) {
	b, err := r.reopen()
	if err != nil {
		return "", 0, err
	}
	defer b.close()
	if err := b.bind(&r.idx); err != nil {
		return "", 0, err
	}
	var row [numCols]cell
	for {
		ok, err := b.next(&row)
		if err != nil {
			return "", 0, err
		}
		if !ok || b.pos() >= r.line {
			return "", 0, r.errAt(r.line, "", "an earlier row vanished while reading the file again (was the file changed?)")
		}
		c := row[cJobID]
		id := c.s
		if c.kind == cellInt {
			id = strconv.FormatInt(c.i, 10)
		}
		if c.kind != cellNone && r.hash(id) == h {
			return strings.Clone(id), b.pos(), nil
		}
	}
}

// hashSet is a set of 64-bit hashes: open addressing with linear probing
// in a table at most 3/4 full, 8 bytes a slot, so 10.7 to 21.3 bytes per
// hash (a Go map takes about twice that).
type hashSet struct {
	slots []uint64 // 0 marks an empty slot
	n     int      // hashes in slots
	zero  bool     // whether the set holds 0
}

// add inserts h and reports whether the set held it already.
func (s *hashSet) add(h uint64) (had bool) {
	if h == 0 {
		had, s.zero = s.zero, true
		return had
	}
	if 4*(s.n+1) > 3*len(s.slots) {
		old := s.slots
		s.slots = make([]uint64, max(1024, 2*len(old)))
		s.n = 0
		for _, o := range old {
			if o != 0 {
				s.add(o)
			}
		}
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return true
		case 0:
			s.slots[i] = h
			s.n++
			return false
		}
	}
}
