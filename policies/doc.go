// Package policies holds the pluggable policies: allocators (who runs where,
// who is preempted) and pricers (what a GPU-hour costs a customer), each in
// its own file, registered by name in Allocators and Pricers from an init
// function. `neosim policies` lists them. A policy never changes the fleet:
// it reads a sim.View and acts through a sim.Plan, which the engine validates.
//
// Every policy goes through one lifecycle (Registry.NewWith): the factory
// makes it, the scenario's parameters are decoded over it, EnsureDefaults
// sets the ones left unset and Validate checks them; Schedule and Quote
// never set defaults. A pricer reads its spot price (SpotPrice) without
// changing anything; one whose price has state updates it only when the
// engine calls Update on its own schedule (sim.Updater), so sampling never
// changes a run. docs/policies.md shows how to write a new policy in one
// file.
package policies
