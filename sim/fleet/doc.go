// Package fleet models the GPU fleet: the GPU catalog (with sourced
// defaults), the topology region → datacenter → cluster → rack (NVLink
// domain) → node → GPU, and the free-capacity indexes that let a placement
// find room without scanning every node.
//
// State is struct-of-slices indexed by node number. Capacity is kept per
// GPU in milli-GPU (1000 = a whole GPU) so fractional-GPU jobs share GPUs.
// Three 16-ary max trees over nodes (wholly free GPUs per node, largest free
// share per node, entirely free nodes) answer "first node in this type's
// range with at least k" in O(log n). Per-type counters answer "can this fit
// at all right now" in O(1), so a job that does not fit costs nothing.
// Bucket indexes (buckets.go, racks.go), built on first use, file nodes by
// wholly free GPUs per (type, GPU count), shared GPUs by free milli, and
// racks by GPUs on entirely free nodes, for best fit, packing, random and
// rack-aware choices in O(1) to O(GPUs per node) without a scan.
//
// Policies see a Fleet through the read-only View and never change it; the
// engine applies validated placements with Allocate and Release. In steady
// state nothing here allocates.
package fleet
