package traces

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestUniqueIDs checks the duplicate check against a map, on random id
// sequences that run in order for a while and then not, with the real hash,
// one hash for all and four hashes, so that collisions arise both while the
// ids are ordered and after.
func TestUniqueIDs(t *testing.T) {
	hashes := map[string]func(string) uint64{
		"real": newUniqueIDs().hash,
		"one":  func(string) uint64 { return 7 },
		"four": func(id string) uint64 { return uint64(len(id) % 4) }, // 0 included
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for name, hash := range hashes {
		for trial := range 300 {
			ordered := rng.IntN(40) // ids in order before the first one drawn at random
			n := ordered + rng.IntN(40)
			var ids []string
			for i := range n {
				if i < ordered {
					ids = append(ids, fmt.Sprintf("j-%d", i*3+rng.IntN(3)))
				} else {
					ids = append(ids, fmt.Sprintf("j-%d", rng.IntN(3*ordered+10)))
				}
			}
			u := uniqueIDs{hash: hash}
			earlier := func(pos int64) earlierFunc {
				return func(h uint64) ([]idAt, error) {
					var rows []idAt
					for i, id := range ids[:pos] {
						if hash(id) == h {
							rows = append(rows, idAt{id, int64(i)})
						}
					}
					return rows, nil
				}
			}
			seen := map[string]int64{}
			for i, id := range ids {
				first, dup, err := u.add(id, earlier(int64(i)))
				if err != nil {
					t.Fatal(err)
				}
				was, want := seen[id]
				if dup != want || dup && first != was {
					t.Fatalf("%s hash, trial %d, ids %v: row %d %q: dup %v first %d; want %v %d", name, trial, ids, i, id, dup, first, want, was)
				}
				if want {
					break // a reader stops at the first duplicate
				}
				seen[id] = int64(i)
			}
		}
	}
}

// TestUniqueIDsChunks keeps the hashes of 150,000 ordered ids (chunks of
// 1,024 growing to hashChunk) and then checks repeats of ids from the first and the last chunk,
// and new ids, out of order.
func TestUniqueIDsChunks(t *testing.T) {
	var ids []string
	for i := range 150_000 {
		ids = append(ids, fmt.Sprintf("j-%d", 2*i))
	}
	u := newUniqueIDs()
	add := func(id string) (int64, bool) {
		t.Helper()
		pos := len(ids)
		first, dup, err := u.add(id, func(h uint64) ([]idAt, error) {
			var rows []idAt
			for i, e := range ids[:pos] {
				if u.hash(e) == h {
					rows = append(rows, idAt{e, int64(i)})
				}
			}
			return rows, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return first, dup
	}
	all := ids
	ids = nil
	for _, id := range all {
		if _, dup := add(id); dup {
			t.Fatalf("%s reported a repeat", id)
		}
		ids = append(ids, id)
	}
	kept := 0
	for _, c := range u.hashes {
		if cap(c) > hashChunk {
			t.Errorf("a chunk of %d hashes", cap(c))
		}
		kept += len(c)
	}
	if kept != len(all) || u.unordered {
		t.Fatalf("%d hashes in %d chunks, unordered %v; want %d, ordered", kept, len(u.hashes), u.unordered, len(all))
	}
	for _, tc := range []struct {
		id    string
		first int64
		dup   bool
	}{{"j-1", 0, false}, {"j-6", 3, true}, {"j-299998", 149_999, true}, {"j-150001", 0, false}, {"j-200000", 100_000, true}} {
		first, dup := add(tc.id)
		if dup != tc.dup || first != tc.first {
			t.Errorf("%s: dup %v first %d; want %v %d", tc.id, dup, first, tc.dup, tc.first)
		}
		if !dup {
			ids = append(ids, tc.id)
		}
	}
}

// TestIDLess checks that idLess is a strict total order, puts numbered ids
// in numeric order, and tells apart ids that name the same number.
func TestIDLess(t *testing.T) {
	want := []string{"", "0", "1", "00", "09", "10", "a", "a0", "a1", "a9", "a01", "a10", "a99", "a100", "a100b", "ab", "b"}
	for i, a := range want {
		for j, b := range want {
			if got := idLess(a, b); got != (i < j) {
				t.Errorf("idLess(%q, %q) = %v", a, b, got)
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	word := func() string {
		b := make([]byte, rng.IntN(5))
		for i := range b {
			b[i] = "a0-91"[rng.IntN(5)]
		}
		return string(b)
	}
	var words []string
	for range 400 {
		words = append(words, word())
	}
	slices.SortFunc(words, func(a, b string) int {
		switch {
		case idLess(a, b):
			return -1
		case idLess(b, a):
			return 1
		}
		if a != b {
			t.Fatalf("%q and %q are neither less nor equal", a, b)
		}
		return 0
	})
	for i := 1; i < len(words); i++ { // sorted, so each is less than all after it
		for j := i; j < len(words); j++ {
			if words[i-1] != words[j] && !idLess(words[i-1], words[j]) {
				t.Fatalf("order not transitive: %q before %q", words[i-1], words[j])
			}
		}
	}
}

// BenchmarkUniqueIDs checks a million ids per op, in increasing order (the
// common case: compare with the one before, append the hash) and shuffled
// (the set from the second id on).
func BenchmarkUniqueIDs(b *testing.B) {
	none := func(uint64) ([]idAt, error) { return nil, fmt.Errorf("no hash repeats here") }
	for _, order := range []string{"ordered", "shuffled"} {
		n := rand.New(rand.NewPCG(7, 8)).Perm(1 << 20)
		if order == "ordered" {
			slices.Sort(n)
		}
		ids := make([]string, len(n)) // allocated in file order, as a reader's
		for i, k := range n {
			ids[i] = fmt.Sprintf("job-%d", k)
		}
		b.Run(order, func(b *testing.B) {
			for b.Loop() {
				u := newUniqueIDs()
				for _, id := range ids {
					if _, _, err := u.add(id, none); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ids)), "ns/id")
		})
	}
}
