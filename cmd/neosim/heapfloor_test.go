package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestHeapFloor: the process starts with the collector off; the first
// collection turns it back on and sets the floor; the floor stays while the
// live heap is small and is let go after a collection that finds more than
// heapFloorDrop live (as for `neosim run`).
func TestHeapFloor(t *testing.T) {
	gogc := debug.SetGCPercent(100)
	debug.SetGCPercent(gogc)
	limit := debug.SetMemoryLimit(-1)
	runtime.GC()
	// The limit well above what the test process holds: no collection
	// before the test asks for one.
	start := int64(liveHeap()) + 1<<30
	startHeapFloor(true, start)
	t.Cleanup(func() { heapFloor.Store(nil); debug.SetGCPercent(gogc); debug.SetMemoryLimit(limit) })
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Fatalf("GOGC is %d at start, want off", p)
	}
	if l := debug.SetMemoryLimit(-1); l != start {
		t.Fatalf("the memory limit is %d at start, want %d", l, start)
	}
	if heapFloor.Load() != nil {
		t.Fatal("the floor is set before the first collection")
	}
	for i := 0; i < 1000 && heapFloor.Load() == nil; i++ {
		runtime.GC()
		time.Sleep(time.Millisecond) // the finalizer goroutine turns the collector on
	}
	if p := debug.SetGCPercent(-1); p != gogc {
		t.Errorf("GOGC is %d after the first collection, want %d", p, gogc)
	}
	debug.SetGCPercent(gogc)
	if l := debug.SetMemoryLimit(-1); l != limit {
		t.Errorf("the memory limit is %d after the first collection, want %d as before", l, limit)
	}
	for range 5 {
		runtime.GC()
		time.Sleep(time.Millisecond) // the finalizer goroutine runs the watch
	}
	if heapFloor.Load() == nil {
		t.Fatalf("the floor was let go with %d MB live", liveHeap()>>20)
	}
	big := make([]byte, 2*heapFloorDrop)
	for i := 0; i < 1000 && heapFloor.Load() != nil; i++ {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	runtime.KeepAlive(big)
	if heapFloor.Load() != nil {
		t.Errorf("the floor is still held with %d MB live", liveHeap()>>20)
	}
}
