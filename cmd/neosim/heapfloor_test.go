package main

import (
	"runtime"
	"testing"
	"time"
)

// TestHeapFloor: the floor stays while the live heap is small and is let
// go after a collection that finds more than heapFloorDrop live (as for
// `neosim run`).
func TestHeapFloor(t *testing.T) {
	setHeapFloor(true)
	t.Cleanup(func() { heapFloor.Store(nil) })
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
