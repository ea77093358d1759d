package workloads

import (
	"math"
	"testing"

	"neosim/sim"
)

// TestInitialBook: the reserved book at t = 0 is the stationary state of
// the contract process (M/G/∞): over many seeds its size averages λ·E[T]
// (a Poisson count) and its contracts' remaining terms average the
// residual life E[T²] / (2 E[T]), each within 4 standard errors; without
// the book the first contract arrives after 0; and the contracts after 0
// are the same jobs with or without the book.
func TestInitialBook(t *testing.T) {
	def := DefaultExternalSegment(sim.SegReserved)
	var et, et2 float64 // E[T], E[T²] of the term, seconds
	d := def.Duration
	for i, v := range d.vals {
		p := d.cumul[i]
		if i > 0 {
			p -= d.cumul[i-1]
		}
		et += p * v
		et2 += p * v * v
	}
	wantN := def.RatePerHour * et / 3600
	wantLeft := et2 / (2 * et)

	const seeds = 400
	var count, left, left2 float64
	var nLeft int
	for seed := range uint64(seeds) {
		s := DefaultExternalSegment(sim.SegReserved)
		src, err := s.source(seed+1, "test", 30*sim.Day, nil)
		if err != nil {
			t.Fatal(err)
		}
		var j sim.JobSpec
		for src.Next(&j) && j.Submit == 0 {
			count++
			l := j.Work.Seconds()
			left += l
			left2 += l * l
			nLeft++
		}
	}
	meanN := count / seeds
	seN := math.Sqrt(wantN / seeds) // a Poisson count's variance is its mean
	if math.Abs(meanN-wantN) > 4*seN {
		t.Errorf("book size averages %.2f contracts over %d seeds, want λ·E[T] = %.2f ± %.2f", meanN, seeds, wantN, 4*seN)
	}
	meanL := left / float64(nLeft)
	seL := math.Sqrt((left2/float64(nLeft) - meanL*meanL) / float64(nLeft))
	if math.Abs(meanL-wantLeft) > 4*seL {
		t.Errorf("remaining terms average %.1f d, want E[T²]/(2E[T]) = %.1f d ± %.1f", meanL/86400, wantLeft/86400, 4*seL/86400)
	}
	t.Logf("book: %.2f contracts (want %.2f), remaining term %.1f d (want %.1f)", meanN, wantN, meanL/86400, wantLeft/86400)

	// Without the book, and the arrivals after 0, for one seed.
	after := func(book bool) []sim.JobSpec {
		s := DefaultExternalSegment(sim.SegReserved)
		s.InitialBook = &book
		src, err := s.source(7, "test", 365*sim.Day, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []sim.JobSpec
		var j sim.JobSpec
		for src.Next(&j) {
			if j.Submit > 0 {
				out = append(out, j)
			} else if !book {
				t.Fatalf("without the book, contract %s arrives at 0", j.ID)
			}
		}
		return out
	}
	with, without := after(true), after(false)
	if len(with) == 0 || len(with) != len(without) {
		t.Fatalf("%d contracts after 0 with the book, %d without", len(with), len(without))
	}
	for i := range with {
		if with[i] != without[i] {
			t.Fatalf("contract %d after 0 differs with the book: %+v vs %+v", i, with[i], without[i])
		}
	}
}
