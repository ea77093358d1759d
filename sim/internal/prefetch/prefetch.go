// Package prefetch asks the CPU to start loading a cache line that the
// caller will read soon, without waiting for it.
//
// A plain load used as a read-ahead (the engine's walks did this) holds the
// core's reorder buffer until its line arrives, so it overlaps a miss with
// only the instructions that fit in that buffer. A prefetch instruction
// retires at once. On amd64 Line is PREFETCHT0 (Intel SDM vol. 2B,
// "PREFETCHh"; AMD64 APM vol. 3); elsewhere it does nothing. It never
// faults and never changes what a program computes.
package prefetch
