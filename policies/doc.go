// Package policies holds the pluggable policies: allocators (who runs where,
// who is preempted) and pricers (what a GPU-hour costs a customer), each in
// its own file, registered by name in Allocators and Pricers from an init
// function. `neosim policies` lists them. A policy never changes the fleet:
// it reads a sim.View and acts through a sim.Plan, which the engine validates.
package policies
