// Package calibrate measures real NVIDIA GPUs through NVML
// (github.com/NVIDIA/go-nvml) and fits the power profiles sim/econ uses:
// `neosim calibrate` is its command line, docs/calibration.md its manual.
//
// A run (Measure, or Run with an injected nvml.Interface) enumerates the
// devices, then walks a plan of steps: passive sampling (--sample), the
// operator's load command under duty cycles (--load-cmd, --duty) and the
// same command under power caps (--power-caps). Every interval it reads
// each device's energy counter, power, utilization, SM and memory clocks
// and temperature; raw samples go to an Arrow IPC file (SampleWriter).
// Fit turns samples into a Profile (JSON, schema econ.CalibrationSchema):
// per GPU model the idle power, the power at full load, the exponent of
// the curve between, and throughput and energy versus power cap. Builtin
// returns the profiles of SOURCES.md §4, which are not measurements.
//
// # Invariants
//
//   - NVML is only called after Init returned SUCCESS: after a failed Init
//     go-nvml kills the process on the next call (SOURCES.md §5). Init
//     failure returns a *DriverError and nothing else is called, not even
//     Shutdown.
//   - A reading that fails (ERROR_NOT_SUPPORTED or another error) is a null
//     in the samples and a count in Counts; sampling goes on.
//   - Power limits changed by a power-cap sweep are set back to the values
//     read before the sweep on every way out: the end, an error, a load
//     command that exits, a canceled context (SIGINT, SIGTERM), a panic.
//   - In memory a null reading is NaN; NVML readings are integers, never
//     NaN, so the two cannot be confused.
//   - Wall time is measured with the monotonic clock as a time.Duration
//     since the run started (the simulator's integer clock does not apply:
//     this package measures hardware, it does not simulate).
//
// The NVML side builds only with cgo on linux (go-nvml needs cgo); other
// builds get a stub whose Measure returns ErrNoNVML, so `CGO_ENABLED=0 go
// build ./...` works and `neosim calibrate --builtin` and `--fit` work
// everywhere.
package calibrate
