package sim

import (
	"math/rand/v2"
	"sort"
	"testing"
)

// TestQueueTotalOrder pushes random events (many ties in time and kind)
// while popping, and checks the pops come out in (time, kind, push order).
func TestQueueTotalOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var q EventQueue
	type rec struct {
		at   Time
		kind Kind
		seq  int
	}
	var pending []rec
	seq := 0
	var now Time
	var popped []rec
	for step := 0; step < 20000; step++ {
		if r.IntN(3) > 0 || q.Len() == 0 {
			at := now + Time(r.IntN(5))*Time(1+r.IntN(3)) // ties on purpose
			if r.IntN(10) == 0 {
				at = now + Time(r.Int64N(1<<40))
			}
			if r.IntN(200) == 0 && now < 1<<61 {
				at = now + Time(r.Int64N(1<<61)) // the highest buckets
			}
			k := Kind(r.IntN(int(numKinds)))
			q.Push(Event{At: at, Ref: int32(seq)}, k)
			pending = append(pending, rec{at, k, seq})
			seq++
		} else {
			e, ok := q.Pop()
			if !ok {
				t.Fatal("empty queue popped nothing")
			}
			sort.Slice(pending, func(i, j int) bool {
				a, b := pending[i], pending[j]
				if a.at != b.at {
					return a.at < b.at
				}
				if a.kind != b.kind {
					return a.kind < b.kind
				}
				return a.seq < b.seq
			})
			want := pending[0]
			pending = pending[1:]
			if e.At != want.at || e.Kind() != want.kind || int(e.Ref) != want.seq {
				t.Fatalf("step %d: popped (%d,%v,%d), want (%d,%v,%d)", step, e.At, e.Kind(), e.Ref, want.at, want.kind, want.seq)
			}
			now = e.At
			popped = append(popped, want)
		}
	}
	if q.Len() != len(pending) {
		t.Fatalf("Len %d, pending %d", q.Len(), len(pending))
	}
}

func TestPushInThePastPanics(t *testing.T) {
	var q EventQueue
	q.Push(Event{At: 10}, KindArrival)
	q.Pop()
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	q.Push(Event{At: 9}, KindArrival)
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Time
	}{
		{"30d", 30 * Day}, {"12h", 12 * Hour}, {"5m", 5 * Minute}, {"90s", 90 * Second}, {"1d12h", 36 * Hour},
		{"250ms", 250 * Millisecond}, {"2w", 14 * Day}, {"1.5h", 90 * Minute}, {"3600", Hour}, {"0", 0},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "d", "3 parsecs", "-1", "5x"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
	if s := (36*Hour + 90*Second).String(); s != "1d12h1m30s" {
		t.Errorf("String = %q", s)
	}
}
