package runner

import (
	"sync"

	"neosim/sim"
)

// The engine's loop is one goroutine; on a machine with a second core,
// reading jobs (generators, trace decoding) and writing the output (the
// column builders, compression, the write system calls) run beside it, each
// on a goroutine of its own, handing jobs over in batches (a source's once
// the engine has read prefetchAfter jobs from it). Each source is
// still read in order, and the writer still sees every call in the order the
// engine made it, so the output is byte-identical to a serial run.

// prefetchBatch is how many jobs a source's goroutine reads per batch, and
// prefetchBatches how many batches it may read ahead.
const (
	prefetchBatch   = 1024
	prefetchBatches = 4
)

// prefetchAfter is how many jobs a source gives on the engine's goroutine
// before its own goroutine starts. A small run never starts one: the
// goroutine, its channels and its batches cost more than they save there,
// and it would read up to prefetchBatches batches past the horizon (a day
// of the small scenario has about 2,500 jobs; docs/performance.md, round
// eleven). A long run hands the source over once, after a few milliseconds.
const prefetchAfter = 4 * prefetchBatch

// prefetchSource reads a source on a goroutine of its own, up to
// prefetchBatches batches ahead of the engine, once the engine has read
// prefetchAfter jobs from it directly.
type prefetchSource struct {
	src     sim.Source
	inline  int                // jobs still to read on the caller's goroutine before starting the goroutine
	ended   bool               // the source ended (or failed) while read inline
	started bool               // the goroutine runs (or ran): the fields below are in use
	batches chan []sim.JobSpec // read batches, in order; closed at the end
	free    chan []sim.JobSpec // emptied batches, for reuse
	done    chan struct{}      // closed by stop
	exited  chan struct{}      // closed when the goroutine returns
	err     error              // the source's Err, set before batches closes (or when ended)
	cur     []sim.JobSpec
	pos     int
}

func newPrefetchSource(src sim.Source) *prefetchSource {
	return &prefetchSource{src: src, inline: prefetchAfter}
}

// start hands the source to a goroutine of its own. The source's state
// moves with it: the go statement orders every read made here before the
// goroutine's.
func (p *prefetchSource) start() {
	p.started = true
	p.batches = make(chan []sim.JobSpec, prefetchBatches)
	p.free = make(chan []sim.JobSpec, prefetchBatches+2)
	p.done, p.exited = make(chan struct{}), make(chan struct{})
	// Batches grow to prefetchBatch as they fill (and are reused).
	for range prefetchBatches + 2 {
		p.free <- nil
	}
	go p.run()
}

func (p *prefetchSource) run() {
	defer close(p.exited)
	defer close(p.batches)
	for {
		var b []sim.JobSpec
		select {
		case b = <-p.free:
		case <-p.done:
			return
		}
		b = b[:0]
		end := false
		for len(b) < prefetchBatch {
			b = append(b, sim.JobSpec{})
			if !p.src.Next(&b[len(b)-1]) {
				b = b[:len(b)-1]
				p.err = p.src.Err()
				end = true
				break
			}
		}
		if len(b) > 0 {
			select {
			case p.batches <- b:
			case <-p.done:
				return
			}
		}
		if end {
			return
		}
	}
}

func (p *prefetchSource) Name() string { return p.src.Name() }

// Err is the source's error once Next has returned false.
func (p *prefetchSource) Err() error { return p.err }

func (p *prefetchSource) Next(spec *sim.JobSpec) bool {
	if p.inline > 0 {
		if p.ended {
			return false
		}
		if p.src.Next(spec) {
			p.inline--
			return true
		}
		p.ended, p.err = true, p.src.Err()
		return false
	}
	if !p.started {
		p.start()
	}
	for p.pos >= len(p.cur) {
		if p.cur != nil {
			p.free <- p.cur // never blocks: free holds every batch
			p.cur = nil
		}
		b, ok := <-p.batches
		if !ok {
			return false
		}
		p.cur, p.pos = b, 0
	}
	*spec = p.cur[p.pos]
	p.pos++
	return true
}

// stop ends the goroutine, if it started (it may be reading ahead of a run
// that stopped at its horizon), and waits for it, so that the source can be
// closed.
func (p *prefetchSource) stop() {
	if !p.started {
		return
	}
	close(p.done)
	<-p.exited
}

// asyncBatch is how many ended jobs the writer's goroutine takes at once.
const asyncBatch = 4096

// asyncObserver hands JobEnded and Sampled calls, with copies of the job
// and the sample, to a goroutine that makes them on the observer it wraps,
// in the same order. JobStarted is not passed on: the output writer, the
// one observer wrapped so, does nothing there. Call close before reading
// anything from the wrapped observer.
type asyncObserver struct {
	o       sim.Observer
	cur     *observerBatch
	batches chan *observerBatch
	free    chan *observerBatch
	exited  chan struct{}
	once    sync.Once
}

type observerBatch struct {
	jobs    []sim.Job
	samples []batchSample
}

// batchSample is a sample taken after the batch's first at jobs ended.
type batchSample struct {
	at int
	s  sim.Sample
}

func newAsyncObserver(o sim.Observer) *asyncObserver {
	a := &asyncObserver{o: o, batches: make(chan *observerBatch, 2), free: make(chan *observerBatch, 3), exited: make(chan struct{})}
	// A batch's jobs grow to asyncBatch as it fills (and it is reused): a
	// small run does not pay for zeroing room it never uses.
	for range 2 {
		a.free <- &observerBatch{}
	}
	a.cur = &observerBatch{}
	go a.run()
	return a
}

func (a *asyncObserver) run() {
	defer close(a.exited)
	for b := range a.batches {
		k := 0
		for i := range b.jobs {
			for ; k < len(b.samples) && b.samples[k].at == i; k++ {
				a.o.Sampled(&b.samples[k].s)
			}
			a.o.JobEnded(&b.jobs[i])
		}
		for ; k < len(b.samples); k++ {
			a.o.Sampled(&b.samples[k].s)
		}
		b.jobs, b.samples = b.jobs[:0], b.samples[:0]
		a.free <- b
	}
}

func (a *asyncObserver) JobStarted(*sim.Job) {}

func (a *asyncObserver) JobEnded(j *sim.Job) {
	a.cur.jobs = append(a.cur.jobs, *j)
	// The placement's slice is the engine's, reused by the job's slot.
	a.cur.jobs[len(a.cur.jobs)-1].Shares = nil
	if len(a.cur.jobs) == asyncBatch {
		a.batches <- a.cur
		a.cur = <-a.free
	}
}

func (a *asyncObserver) Sampled(s *sim.Sample) {
	a.cur.samples = append(a.cur.samples, batchSample{len(a.cur.jobs), *s})
}

// close hands over the last batch and waits until the goroutine has made
// every call.
func (a *asyncObserver) close() {
	a.once.Do(func() {
		if len(a.cur.jobs) > 0 || len(a.cur.samples) > 0 {
			a.batches <- a.cur
		}
		close(a.batches)
		<-a.exited
	})
}
