package runner

import (
	"fmt"
	"testing"

	"neosim/sim"
)

// countSource gives jobs 0, 1, …, n−1 (Submit = the job's number), or
// fails with err at job failAt (if failAt ≥ 0).
type countSource struct {
	n, failAt, next int
	err             error
}

func (s *countSource) Name() string { return "count" }
func (s *countSource) Err() error   { return s.err }
func (s *countSource) Next(spec *sim.JobSpec) bool {
	if s.next == s.failAt {
		s.err = fmt.Errorf("count: job %d is broken", s.next)
		return false
	}
	if s.next >= s.n {
		return false
	}
	*spec = sim.JobSpec{Submit: sim.Time(s.next)}
	s.next++
	return true
}

// TestPrefetchSource: every job comes out once, in order, and the source's
// error after the last; a source that ends within prefetchAfter jobs is
// read on the caller's goroutine and never starts one; stop ends a
// goroutine that is reading ahead.
func TestPrefetchSource(t *testing.T) {
	for _, c := range []struct {
		name      string
		n, failAt int
		started   bool
	}{
		{"empty", 0, -1, false},
		{"small", 100, -1, false},
		{"exactly prefetchAfter", prefetchAfter, -1, true}, // the goroutine starts to learn there is no more
		{"large", prefetchAfter + 5*prefetchBatch + 7, -1, true},
		{"fails inline", 5000, 99, false},
		{"fails on the goroutine", prefetchAfter + 3*prefetchBatch, prefetchAfter + 2*prefetchBatch + 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := &countSource{n: c.n, failAt: c.failAt}
			p := newPrefetchSource(src)
			defer p.stop()
			want := c.n
			if c.failAt >= 0 {
				want = c.failAt
			}
			var spec sim.JobSpec
			got := 0
			for p.Next(&spec) {
				if spec.Submit != sim.Time(got) {
					t.Fatalf("job %d came out as job %d", got, spec.Submit)
				}
				got++
			}
			if got != want {
				t.Fatalf("%d jobs came out, want %d", got, want)
			}
			if p.Next(&spec) {
				t.Fatal("a job came out after the end")
			}
			if err := p.Err(); (err != nil) != (c.failAt >= 0) {
				t.Fatalf("Err() = %v, want an error: %v", err, c.failAt >= 0)
			}
			if p.started != c.started {
				t.Errorf("goroutine started: %v, want %v", p.started, c.started)
			}
		})
	}
	t.Run("stop while reading ahead", func(t *testing.T) {
		src := &countSource{n: 1 << 30, failAt: -1}
		p := newPrefetchSource(src)
		var spec sim.JobSpec
		for range prefetchAfter + 10 {
			if !p.Next(&spec) {
				t.Fatal("the source ended early")
			}
		}
		p.stop() // returns once the goroutine has: the test would hang otherwise
		if !p.started {
			t.Fatal("the goroutine never started")
		}
	})
}
