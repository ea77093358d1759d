// Package advise answers "how much of the fleet should we sell, and at what
// price?" with a recommendation and its evidence (`neosim advise`;
// docs/advise.md).
//
// It owns the search, not the simulation: every candidate decision (an
// allocator, a pricer, the share of the fleet the partition allocator keeps
// for internal training, a multiplier on every external list price) is
// simulated by runner.Run, seed by seed, with common random numbers (seed
// base+i is the same jobs for every candidate). A fully sequential
// ranking-and-selection procedure (Kim & Nelson 2001, with the feasibility
// check of Andradóttir & Kim 2010 for the delay budget; search.go) spends
// further seeds only on the candidates that may still be best or whose
// feasibility is still open, runs them in parallel, and stops when one
// feasible candidate is left (separated at 95%) or the budget of runs or
// wall time ends.
//
// Outputs (output.go, plots.go, report.go; docs/output-schema.md, "advise"):
// advice.json (the recommendation, versioned by SchemaVersion),
// advice.arrow (every candidate and its statistics), the trade-off plots
// (PNG and SVG) and report.html, one self-contained page.
//
// Invariants:
//   - Every candidate is simulated with the seeds Base, Base+1, … in that
//     order, so any two candidates are compared on the same seeds (paired).
//   - A candidate run writes its files into a temporary folder that is
//     removed once its summary is read: the search keeps summaries only.
//   - The same flags give the same advice.json and advice.arrow, except for
//     the wall time and with --budget-time, whose cut depends on the clock.
package advise
