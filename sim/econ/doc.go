// Package econ is the economics of a run: the cost model (capex amortized
// straight-line, power × PUE × $/kWh, network and operations overhead,
// support per customer, the value of internal delay) and the Ledger, an
// engine observer that books revenue by segment and customer and the
// GPU-time each segment used, and reports costs, margins and energy.
//
// Every default comes from ../shared/calibration/SOURCES.md and says which
// row (DefaultCostModel); docs/economics.md has the formulas, the
// attribution rules and an example.
//
// # Invariants
//
//   - Revenue is exact: per segment it is Σ over jobs of price (µ$ per
//     GPU-hour) × GPUs × Milli × RunTime, summed in 128-bit integers and
//     rounded once, halves up, to the micro-dollar.
//   - Costs are modeled, not billed: Report computes them in float64 dollars
//     from the exact integer GPU-time totals. External + Internal = Total,
//     kind by kind, and Total.Direct() is the whole fleet's capex, overhead
//     and power over the run.
//   - Power is linear in busy GPUs, so the energy of a run needs only the
//     busy GPU-hours per type and segment, not a time integral: the ledger
//     is exact without sampling error.
//   - The observer hot path (JobEnded) does not allocate once a customer is
//     known, and is O(1).
package econ
