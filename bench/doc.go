// Package bench holds neosim's benchmarks: engine micro-benchmarks (the
// classic hold model against a baseline written the way most Go code would
// be), named scenario runs under bench/scenarios/, the paper reproductions
// (bench/fragmentation: the FGD paper's openb experiment, run as `neosim
// bench fragmentation`) and the NVML calibration tool. Nothing here is needed by
// the simulator at run time. Run them with `make bench`.
package bench
