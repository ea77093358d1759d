package main

import (
	"runtime"
	"runtime/metrics"
)

// heapFloor puts a floor under the garbage collector's heap goal while the
// live heap is small. Go collects whenever the heap has grown by GOGC% (100)
// of what the last collection left live, and at least every 4 MB: a sweep
// of small runs (a few MB live each) collected every 8 ms, 118 times in a
// one-second sweep of 200 runs, 8% of its CPU (GODEBUG=gctrace=1). 16 MB
// that stay live raise every goal by 32 MB, so such a sweep collects about
// a tenth as often. The bytes hold no pointers, so the collector never scans
// them, and are never written, so the operating system never backs them
// with memory. Go has no setting for a minimum heap (GOMEMLIMIT is a
// maximum); a "ballast" like this is the practice it leaves (golang/go#23044,
// #57175).
//
// A run whose live heap passes heapFloorDrop (the meta year's is 50–120
// MB) collects rarely anyway, and the floor would only add to its peak
// memory: after the first collection that finds that much live, the floor
// is let go.
//
// Measured (2-core VM, docs/performance.md, round ten): a compare of 200
// one-day small runs, 1 worker, 8,444–9,844 → 8,836–11,695 runs/min in
// three alternated pairs; a whole small run 17.4–18.0 → 15.3–16.8 ms.
var heapFloor []byte

const (
	heapFloorBytes = 16 << 20
	heapFloorDrop  = 32 << 20
)

// setHeapFloor sets the floor and watches each collection's live heap.
func setHeapFloor() {
	heapFloor = make([]byte, heapFloorBytes)
	watchHeapFloor()
}

// watchHeapFloor arms a sentinel whose finalizer runs after the next
// collection that finds it unreachable: it lets the floor go if the live
// heap (floor excluded) has passed heapFloorDrop, and arms the next one if
// not.
func watchHeapFloor() {
	s := new(floorSentinel)
	runtime.SetFinalizer(s, func(*floorSentinel) {
		if liveHeap() > heapFloorDrop+heapFloorBytes {
			heapFloor = nil
			return
		}
		watchHeapFloor()
	})
}

type floorSentinel struct{ _ [16]byte } // not tiny-allocated: its finalizer runs once it is unreachable

// liveHeap returns the bytes the last collection found live.
func liveHeap() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return sample[0].Value.Uint64()
}
