package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// heapFloor puts a floor under the garbage collector's heap goal. Go
// collects whenever the heap has grown by GOGC% (100) of what the last
// collection left live, and at least every 4 MB: a sweep of small runs (a
// few MB live each) collected every 8 ms, 8% of its CPU (GODEBUG=gctrace=1).
// 16 MB that stay live raise every goal by 32 MB, so it collects about a
// tenth as often. The bytes hold no pointers, so the collector never scans
// them, and are never written, so the operating system never backs them
// with memory. Go has no setting for a minimum heap (GOMEMLIMIT is a
// maximum); a "ballast" like this is the practice it leaves (golang/go#23044,
// #57175).
//
// The commands that make many runs in one process (advise, compare, sweep,
// bench) keep the floor: they build and drop each run's fleet, job table and
// buffers again and again, so they collect often whatever their live heap.
// `neosim run` lets it go after the first collection that finds more than
// heapFloorDrop live besides it (the meta year's live heap is 50–120 MB): a
// run that large collects rarely anyway, and the floor would only add to its
// peak memory. docs/performance.md (round ten) has the measurements.
//
// A floor allocated at start made the heap exceed the first goal (4 MB) at
// once, so every process collected once in its first milliseconds (0.9 ms
// of CPU in a small run). So the process starts with the collector off
// (GOGC=off) under a memory limit of heapFloorStart, Go's own setting for
// "do not collect before" (golang/go#48409): a small run never collects.
// The first collection, when the heap reaches the limit, turns GOGC back
// on, lifts the limit, and only then sets the floor (for `neosim run`, if
// the live heap is still under heapFloorDrop). Where GOGC or GOMEMLIMIT is
// set, the user's settings hold from the start and the floor is set at
// once.
//
// It is atomic because the finalizer that lets it go runs on a goroutine
// of the runtime's.
var heapFloor atomic.Pointer[[]byte]

const (
	heapFloorBytes = 16 << 20
	heapFloorDrop  = 32 << 20
	heapFloorStart = 32 << 20
)

// setHeapFloor sets the floor, after the first collection where it can;
// with letGo, it watches each collection's live heap to let the floor go
// once it is large.
func setHeapFloor(letGo bool) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		holdHeapFloor(letGo)
		return
	}
	startHeapFloor(letGo, heapFloorStart)
}

// startHeapFloor turns the collector off until the memory in use reaches
// start; the first collection then turns it on again and sets the floor.
func startHeapFloor(letGo bool, start int64) {
	gogc := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(start)
	s := new(floorSentinel)
	runtime.SetFinalizer(s, func(*floorSentinel) {
		debug.SetGCPercent(gogc)
		debug.SetMemoryLimit(limit)
		if letGo && liveHeap() > heapFloorDrop {
			return // a large run: no floor
		}
		holdHeapFloor(letGo)
	})
}

// holdHeapFloor allocates the floor; with letGo, it watches for the live
// heap to pass heapFloorDrop.
func holdHeapFloor(letGo bool) {
	b := make([]byte, heapFloorBytes)
	heapFloor.Store(&b)
	if letGo {
		watchHeapFloor()
	}
}

// watchHeapFloor arms a sentinel whose finalizer runs after the next
// collection that finds it unreachable: it lets the floor go if the live
// heap (floor excluded) has passed heapFloorDrop, and arms the next one if
// not.
func watchHeapFloor() {
	s := new(floorSentinel)
	runtime.SetFinalizer(s, func(*floorSentinel) {
		if liveHeap() > heapFloorDrop+heapFloorBytes {
			heapFloor.Store(nil)
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
