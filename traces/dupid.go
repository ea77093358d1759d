package traces

import (
	"hash/maphash"
)

// uniqueIDs rejects a job id that an earlier row of the file had, exactly,
// without keeping the ids: 8 bytes a job while they come in order, 11 to
// 21 after.
//
// While the ids come in increasing order (idLess: "job-9" before "job-10"),
// as most traces' do, no id can repeat, so an id is only compared with the
// one before and its hash appended to a list, a sequential write. From the
// first id out of order on, the hashes live in a set; on a hash match the
// file is read again for the earlier rows with that hash (earlier), to tell a
// duplicate from a collision (odds about n²/2^65 for n jobs).
type uniqueIDs struct {
	hash      func(id string) uint64
	unordered bool       // an id came out of order: the set is in use
	last      string     // the previous id, while ordered
	n         int        // ids so far, while ordered
	hashes    [][]uint64 // their hashes, while ordered, in chunks of at most hashChunk
	seen      hashSet    // the ids' hashes, once unordered
}

// hashChunk is the most hashes a chunk holds: chunks, not one slice that
// doubles, so that keeping the hashes costs 8 bytes a job, without a
// doubling's slack or its moment with both copies (a 10 M-job trace's
// hashes are 80 MB).
const hashChunk = 1 << 16

// idAt is a job id and the position of its row.
type idAt struct {
	id string
	at int64
}

// earlierFunc reads the file again and returns the rows before the current
// one whose id has hash h.
type earlierFunc func(h uint64) ([]idAt, error)

func newUniqueIDs() uniqueIDs {
	seed := maphash.MakeSeed()
	return uniqueIDs{hash: func(id string) uint64 { return maphash.String(seed, id) }}
}

// add records id, the current row's, and returns the position of the
// earlier row with the same id, if any (dup).
func (u *uniqueIDs) add(id string, earlier earlierFunc) (first int64, dup bool, err error) {
	if !u.unordered {
		if u.n == 0 || idLess(u.last, id) {
			u.last = id
			u.n++
			k := len(u.hashes) - 1
			if k < 0 || len(u.hashes[k]) == cap(u.hashes[k]) {
				u.hashes = append(u.hashes, make([]uint64, 0, min(hashChunk, max(1024, u.n))))
				k++
			}
			u.hashes[k] = append(u.hashes[k], u.hash(id))
			return 0, false, nil
		}
		u.unorder()
	}
	h := u.hash(id)
	if !u.seen.add(h) {
		return 0, false, nil
	}
	rows, err := earlier(h)
	if err != nil {
		return 0, false, err
	}
	for _, e := range rows {
		if e.id == id {
			return e.at, true, nil
		}
	}
	return 0, false, nil // a collision
}

// unorder moves the hashes kept while the ids were ordered into the set.
func (u *uniqueIDs) unorder() {
	u.unordered, u.last = true, ""
	u.seen.reserve(u.n)
	for _, c := range u.hashes {
		for _, h := range c {
			u.seen.add(h)
		}
	}
	u.hashes = nil
}

// idLess reports whether a comes before b in the order that puts "job-9"
// before "job-10": by the text before the trailing digits, then by the
// number of those digits, then by the digits. An id is its text and its
// digits, so this is a strict total order on strings, and ids that come in
// increasing order are distinct.
func idLess(a, b string) bool {
	i, j := digitsFrom(a), digitsFrom(b)
	if a[:i] != b[:j] {
		return a[:i] < b[:j]
	}
	if n, m := len(a)-i, len(b)-j; n != m {
		return n < m
	}
	return a[i:] < b[j:]
}

// digitsFrom returns where the trailing run of ASCII digits of s starts.
func digitsFrom(s string) int {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	return i
}

// hashSet is a set of 64-bit hashes: open addressing with linear probing
// in a table at most 3/4 full, 8 bytes a slot, so 10.7 to 21.3 bytes per
// hash (a Go map takes about twice that).
type hashSet struct {
	slots []uint64 // 0 marks an empty slot
	n     int      // hashes in slots
	zero  bool     // whether the set holds 0
}

// reserve makes room for n more hashes without growing.
func (s *hashSet) reserve(n int) {
	size := max(1024, len(s.slots))
	for 4*(s.n+n) > 3*size {
		size *= 2
	}
	if size > len(s.slots) {
		s.rehash(size)
	}
}

func (s *hashSet) rehash(size int) {
	old := s.slots
	s.slots = make([]uint64, size)
	s.n = 0
	for _, o := range old {
		if o != 0 {
			s.add(o)
		}
	}
}

// add inserts h and reports whether the set held it already.
func (s *hashSet) add(h uint64) (had bool) {
	if h == 0 {
		had, s.zero = s.zero, true
		return had
	}
	if 4*(s.n+1) > 3*len(s.slots) {
		s.rehash(max(1024, 2*len(s.slots)))
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
