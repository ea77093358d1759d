// Package workloads generates jobs: arrival processes, job-shape
// distributions (Dist, written as spec strings such as "lognormal:3600:1.2"),
// and the workloads built from them. Every generator draws from its own
// random stream (sim.Stream with the workload's name), a fixed number of
// draws per job, so the jobs of a seed are the same whatever the policy.
// Generators are sim.Sources: pulled one job at a time, never materialized.
// This package reads no files (that is traces/).
package workloads
