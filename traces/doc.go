// Package traces reads and writes the canonical job trace, neosim's one
// input format for recorded jobs, reads request traces (serving demand),
// and imports node lists as fleets.
//
// # The canonical job trace
//
// A trace is a table with one row per job. The file format follows the
// extension (case-insensitive; see FormatOf):
//
//	.csv            CSV with a header line (RFC 4180 quoting, UTF-8; a BOM is skipped)
//	.csv.gz         the same, gzip-compressed
//	.arrow .ipc .feather   Arrow IPC file format (Feather v2); the IPC stream format is accepted too
//	.arrows         Arrow IPC stream format
//	.parquet .pq    Parquet
//
// Columns are found by name (case-insensitive, any order):
//
//	column      type     required  meaning
//	job_id      string   yes       unique job name
//	submit_s    number   yes       submit time, seconds from the trace start, ≥ 0
//	gpus        integer  yes       GPUs the job needs, ≥ 1
//	duration_s  number   yes       run time on H100s if never interrupted, seconds, > 0
//	gpu_milli   integer  no        share of each GPU, 1..1000 (default 1000, a whole GPU)
//	gpu_type    string   no        required GPU type (fleet.LookupType); empty or "any": any type
//	tenant      string   no        who owns the job (default "internal")
//	segment     string   no        internal, on-demand, spot, reserved, serving (default internal)
//	priority    integer  no        scheduling priority (default 0)
//	patience_s  number   no        seconds the job waits in the queue before it is abandoned;
//	                               0 or empty: it waits forever
//	qos         string   no        the source's quality-of-service class, kept as given
//	                               (openb: LS, BE, Burstable, Guaranteed); default none
//	cpu_milli   integer  no        host CPU request in milli-cores, ≥ 0 (default 0: not given)
//	memory_mib  integer  no        host memory request in MiB, ≥ 0 (default 0: not given)
//
// An empty cell (or a null in Arrow and Parquet) in an optional column takes
// the default; in a required column it is an error. Other columns are
// ignored, with one warning line naming them (Options.Warn). In Arrow and
// Parquet, numeric columns may have any integer or floating-point type,
// string columns may be plain, large, view or dictionary-encoded strings,
// and job_id may also be an integer column. An integer column given as
// floats ("8.0", 1e3) is accepted when the value is whole.
//
// # Units
//
// Times are float seconds in the file and sim.Time (integer microseconds)
// in a sim.JobSpec, converted by sim.FromSeconds (rounded to the nearest
// microsecond). A duration must round to at least 1 µs. Times above 10^12 s
// are rejected so that sums of times cannot overflow. NaN and infinities
// are errors.
//
// # Sorting
//
// Readers stream: a trace of any length is read row by row (CSV) or record
// batch by record batch (Arrow, Parquet), never held in memory whole. So
// they do not sort: the canonical format MUST be sorted by submit_s
// (non-decreasing; ties keep file order), and a row submitted before the
// row above it is an error. Sort once when converting a trace (for
// example `sort -t, -k2,2g` after the header, or any dataframe tool).
//
// Duplicate job_ids are errors. To stay bounded in memory the reader keeps
// 64-bit hashes of the ids, not the ids: a list while the ids come in
// increasing order ("job-9" before "job-10": none can repeat, 8 bytes per
// job), a set from the first id out of order on (11 to 21 bytes per job).
// When two hashes match it reads the file again for the earlier rows with
// that hash to tell a duplicate from a hash collision, so the check is
// exact.
//
// # Errors
//
// Errors are for users: each is an *Error naming the file, the position
// (CSV: the physical line, the header being line 1; Arrow and Parquet: the
// 1-based data row) and the field:
//
//	traces: jobs.csv:17: field "gpus": "eight" is not a whole number
//	traces: jobs.csv: missing required column "duration_s" (header has: job_id, submit_s, gpus)
//	traces: jobs.parquet: row 9: field "submit_s": 12 is before the previous row's 30 (row 8): the canonical format must be sorted by submit_s
//
// Open returns header and schema errors; a bad row stops Reader.Next, and
// Reader.Err returns the error (the engine then stops the run with it).
//
// # Writing
//
// Writer (and Write) produce canonical traces in any of the formats (Arrow
// compressed with LZ4, Parquet with zstd), through a temporary file renamed on
// success. They refuse unsorted or invalid jobs, so what they write reads
// back.
//
// # Adapters
//
// Public traces in their own formats are read by adapters (Adapter,
// Register), chosen by name or detected from the CSV header by OpenAs:
// philly (the Philly job list, PhillyReader) and openb (Alibaba's openb pod
// lists, OpenbReader); docs/traces.md describes each. An adapter's Source
// yields canonical JobSpecs; one that skips rows (openb's CPU-only pods)
// implements Skipper. Inspect summarizes a trace and Convert writes it in
// the canonical format (`neosim trace inspect|convert`).
//
// # Request traces
//
// ReadRequests reads a serving request log (Azure LLM inference CSV,
// Mooncake JSON lines, BurstGPT CSV; detected from the content) into a
// Requests, the demand of a serving segment (workloads.RequestLog);
// InspectRequests summarizes one. docs/traces.md describes them.
//
// # Node lists
//
// ReadNodeList imports a CSV node list as []fleet.Group for --fleet FILE;
// see ReadNodeListWith for its columns and how racks map.
package traces
