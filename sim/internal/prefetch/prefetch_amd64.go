package prefetch

import "unsafe"

// Line starts loading the cache line that holds p into every cache level.
//
//go:noescape
func Line(p unsafe.Pointer)

// Lines starts loading the n cache lines from the one that holds p on.
//
//go:noescape
func Lines(p unsafe.Pointer, n int)
