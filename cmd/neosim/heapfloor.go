package main

// heapFloor puts a floor under the garbage collector's heap goal. Go collects
// whenever the heap has grown by GOGC% (100) of what the last collection left
// live, and at least every 4 MB: a sweep of small runs (a few MB live each)
// collected every 8 ms, 118 times in a one-second sweep of 200 runs, 8% of
// its CPU (GODEBUG=gctrace=1). 16 MB that stay live raise every goal by 32
// MB, so such a sweep collects about a tenth as often; a run whose heap is
// hundreds of MB hardly notices. The bytes hold no pointers, so the collector
// never scans them, and are never written, so the operating system never
// backs them with memory: the process's resident size does not grow by
// them. Go has no setting for a minimum heap (GOMEMLIMIT is a maximum); a
// "ballast" like this is the practice it leaves (golang/go#23044, #57175).
//
// Measured (2-core VM, docs/performance.md, round ten): a compare of 200
// one-day small runs, 1 worker, 7,411–9,360 → 8,130–10,380 runs/min in three
// alternated pairs; a whole small run 17.4–18.0 → 15.3–16.8 ms.
var heapFloor []byte

const heapFloorBytes = 16 << 20

func setHeapFloor() { heapFloor = make([]byte, heapFloorBytes) }
