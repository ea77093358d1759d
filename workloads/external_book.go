package workloads

import (
	"math"
	"sort"
	"strconv"

	"neosim/sim"
	"neosim/sim/fleet"
)

// A running neocloud does not start with an empty reserved book: at t = 0 it
// already holds the contracts signed before. The contract process is an
// M/G/∞ queue (contracts arrive at RatePerHour and each holds its GPUs for
// its term), so the book at a random instant is the stationary state: the
// contracts that arrived at −a (a > 0) with a term longer than a, each with
// its term − a left. The book source draws it by running the arrival process
// backwards from 0 on a stream of its own (so the contracts signed after 0
// are the same jobs with or without the book: common random numbers), far
// enough back that no older contract can still be running.

// bookSource yields the initial book at t = 0, then the segment's own
// arrivals.
type bookSource struct {
	*jobSource
	book []sim.JobSpec
	left int64 // arrivals still allowed by max_jobs after the book; -1: no limit
}

// newBookSource draws the book of src's segment s.
func newBookSource(src *jobSource, s *ExternalSegment, seed uint64, comp string) *bookSource {
	r := sim.Stream(seed, comp+"/book", 0)
	rate := s.RatePerHour / float64(sim.Hour) // contracts per µs
	if !(rate > 0) {
		return &bookSource{jobSource: src, left: -1}
	}
	// How far back: the longest of many draws of the term, so that a
	// contract older than that is (almost surely) over.
	var back float64
	for range 4096 {
		back = max(back, s.Duration.Sample(r))
	}
	back = back * float64(sim.Second)
	b := &bookSource{jobSource: src}
	var age float64
	for n := 0; ; n++ {
		age += r.ExpFloat64() / rate
		if age > back || (src.maxJobs > 0 && int64(len(b.book)) >= src.maxJobs) {
			break // max_jobs counts the book too: the youngest contracts
		}
		// The same draws, in the same order, as jobSource.Next.
		gpus := s.GPUs.Sample(r)
		term := sim.FromSeconds(s.Duration.Sample(r))
		cust := sort.SearchFloat64s(src.cust, r.Float64()) + 1
		left := term - sim.Time(age)
		if left <= 0 {
			continue // over before 0
		}
		b.book = append(b.book, sim.JobSpec{
			ID:       src.prefix + "book-" + strconv.Itoa(n+1),
			Submit:   0,
			GPUs:     int32(min(max(1, math.Round(gpus)), math.MaxInt32)),
			Milli:    fleet.FullGPU,
			GPUTypes: src.types,
			Tenant:   src.tenant,
			Segment:  src.seg,
			Priority: src.prio,
			Work:     left,
			Customer: src.custPrefix + strconv.Itoa(cust),
			Hold:     true,
			// Signed before 0, at the price of its day: it takes the
			// quote (WTP 0 = any price) and never walks away.
		})
	}
	b.left = -1
	if src.maxJobs > 0 {
		b.left = src.maxJobs - int64(len(b.book)) // max_jobs counts the book
	}
	return b
}

// Next yields the book first, then the segment's arrivals.
func (b *bookSource) Next(j *sim.JobSpec) bool {
	if len(b.book) > 0 {
		*j = b.book[0]
		b.book = b.book[1:]
		return true
	}
	if b.left == 0 {
		return false
	}
	if b.left > 0 {
		b.left--
	}
	return b.jobSource.Next(j)
}
