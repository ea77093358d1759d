// Package sim is neosim's discrete-event engine: simulated time (integer
// microseconds), the typed event queue, the job model and its state machine,
// the engine's one hot loop, random streams, and the plugin interfaces the
// engine calls (Allocator, Pricer, Source, Observer).
//
// # The hot loop
//
// Engine.Run pops small value Events from a monotone radix heap (EventQueue)
// and switches on their Kind. Events are totally ordered by (time, kind,
// push sequence), so a run never depends on map order or goroutines.
// Cancellation is lazy: a job carries a generation stamp that every change of
// its run bumps; an event whose stamp is stale is skipped when popped.
// Jobs live in a table of reusable slots (JobID), so memory grows with the
// jobs in flight, not the length of the trace. Sources are pulled one job at
// a time.
//
// # Policies propose, the engine disposes
//
// An Allocator reads a View and acts through a Plan; every Plan call is
// validated against the fleet and applied at once, or refused. Observers
// (metrics, ledgers, Arrow writers) are told of starts, ends and samples.
//
// # Invariants
//
// Engine.Check verifies conservation (allocated capacity equals what running
// jobs hold, per GPU and per segment), that every live job is in exactly one
// place, and the fleet's own indexes. Tests run it after every event
// (Config.CheckInvariants); broken invariants panic.
//
// This package knows no concrete policy, trace format or file format; its
// tests run the engine on sim/simtest's minimal FIFO allocator, flat pricer
// and Poisson and list sources.
package sim
