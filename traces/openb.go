package traces

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"neosim/sim"
	"neosim/sim/fleet"
)

// The openb adapter reads the pod lists of Alibaba's GPU cluster trace v2023
// ("openb", Weng et al., ATC'23): openb_pod_list_*.csv in
// ../shared/traces/alibaba-openb-2023. That data is for research or study
// only: keep it out of the repository.
//
// Format: CSV, one row per pod (a job), sorted by creation_time:
//
//	name            pod id (openb-pod-NNNN)                    → job_id
//	cpu_milli       CPU request, milli-cores                   → cpu_milli
//	memory_mib      memory request, MiB                        → memory_mib
//	num_gpu         GPUs requested (0, 1, 2, 4, 8)             → gpus
//	gpu_milli       share of each GPU, used when num_gpu is 1  → gpu_milli
//	gpu_spec        allowed GPU models joined by '|'; empty: any → gpu_type
//	qos             LS, BE, Burstable or Guaranteed            → qos
//	pod_phase       last phase seen (not used)
//	creation_time   seconds from the trace start               → submit_s
//	deletion_time   seconds from the trace start
//	scheduled_time  seconds from the trace start; empty for Pending pods
//
// Quirks and choices:
//   - The rows stream: one CSV record in memory at a time, plus about 20
//     bytes per job to reject duplicate names as the canonical reader does.
//     An unsorted file (a creation_time below the row above) is an error.
//   - submit_s is creation_time as given (the trace starts at 0).
//   - duration_s is the pod's lifetime deletion_time − scheduled_time, the
//     time it held its GPUs. Recorded models map to H100-SXM by default
//     (fleet.DefaultModels), so durations replay as recorded.
//   - Rows that are not GPU jobs with a known run time are counted and
//     skipped, and one warning line at the end of the file gives the
//     counts (Options.Warn; Skipped returns them):
//     CPU-only pods (num_gpu 0), which the fleet does not model;
//     pending pods (no scheduled_time), which never ran, so their run time
//     is unknown (deletion − creation would be how long they waited, not a
//     run time);
//     pods whose deletion_time is not after their scheduled_time (lifetime
//     ≤ 0), which a replay cannot run. None occur in openb_pod_list_default.
//   - gpu_milli counts only for 1-GPU pods (1..1000; empty: 1000). A pod of
//     several GPUs takes whole GPUs, whatever its gpu_milli says.
//   - gpu_spec "A|B" allows any of the models, each mapped to a catalog type
//     by fleet.ResolveModel with Options.Models ahead of the defaults; an
//     unknown model is an error naming the line.
//   - Every job is internal (segment internal, tenant internal, priority 0,
//     no patience); qos is carried as given.
func init() {
	Register(Adapter{
		Name: "openb",
		Doc:  "Alibaba GPU trace v2023 pod lists openb_pod_list_*.csv (name, num_gpu, gpu_milli, creation_time, …)",
		Detect: func(h []string) bool {
			return hasAll(h, "name", "num_gpu", "gpu_milli", "creation_time", "scheduled_time")
		},
		Open: func(path string, opts Options) (Source, error) { return OpenOpenb(path, opts) },
	})
}

// Columns of a pod list: the required ones, then the optional ones.
const (
	obName = iota
	obNumGPU
	obCreation
	obDeletion
	obScheduled
	obGPUMilli
	obSpec
	obQoS
	obCPU
	obMem
	obPhase
)

var (
	openbRequired = []string{"name", "num_gpu", "creation_time", "deletion_time", "scheduled_time"}
	openbOptional = []string{"gpu_milli", "gpu_spec", "qos", "cpu_milli", "memory_mib", "pod_phase"}
)

// Reasons for skipping a pod, the keys of OpenbReader.Skipped.
const (
	SkipCPUOnly  = "CPU-only pods (num_gpu 0)"
	SkipPending  = "pending pods (no scheduled_time: never ran)"
	SkipLifetime = "pods with lifetime ≤ 0 (deletion_time ≤ scheduled_time)"
)

var openbSkips = [...]string{SkipCPUOnly, SkipPending, SkipLifetime}

// OpenbReader streams an openb pod list (see the openb adapter above). It
// implements Source and Skipper.
type OpenbReader struct {
	loc
	name   string
	t      *table
	reopen func() (*csvBackend, error)
	warn   io.Writer
	models map[string]string

	last     sim.Time
	lastLine int64
	rows     int64
	skipped  [len(openbSkips)]int64

	ids uniqueIDs // the names so far

	specs map[string]fleet.TypeSet
	qoses map[string]string

	err  error
	done bool
}

var (
	_ Source  = (*OpenbReader)(nil)
	_ Skipper = (*OpenbReader)(nil)
)

// OpenOpenb opens a pod list and reads its header.
func OpenOpenb(path string, opts Options) (*OpenbReader, error) {
	return newOpenb(loc{file: path}, func(l *loc) (*csvBackend, error) {
		b, err := openCSVFile(l)
		if err != nil {
			return nil, err
		}
		return b.(*csvBackend), nil
	}, opts)
}

func newOpenb(l loc, open func(*loc) (*csvBackend, error), opts Options) (*OpenbReader, error) {
	r := &OpenbReader{loc: l, name: "openb trace " + l.file, warn: opts.Warn, models: opts.Models}
	r.reopen = func() (*csvBackend, error) { return open(&r.loc) }
	b, err := r.reopen()
	if err != nil {
		return nil, err
	}
	if r.t, err = newTable(&r.loc, b, openbRequired, openbOptional, opts.Warn); err != nil {
		b.close()
		return nil, err
	}
	r.ids = newUniqueIDs()
	r.specs = map[string]fleet.TypeSet{}
	r.qoses = map[string]string{}
	return r, nil
}

// Name identifies the source, e.g. "openb trace openb_pod_list_default.csv".
func (r *OpenbReader) Name() string { return r.name }

// Err returns the error that stopped Next, or nil at a clean end.
func (r *OpenbReader) Err() error { return r.err }

// Skipped returns the pods skipped so far, by reason (reasons with none
// are left out).
func (r *OpenbReader) Skipped() map[string]int64 {
	m := map[string]int64{}
	for i, n := range r.skipped {
		if n > 0 {
			m[openbSkips[i]] = n
		}
	}
	return m
}

// Close releases the file. It is safe to call more than once.
func (r *OpenbReader) Close() error {
	r.done = true
	if r.t == nil {
		return nil
	}
	err := r.t.b.close()
	r.t = nil
	return err
}

// Next fills s with the next GPU pod that ran, skipping the others.
func (r *OpenbReader) Next(s *sim.JobSpec) bool {
	if r.done || r.err != nil {
		return false
	}
	for {
		ok, err := r.t.next()
		if err == nil && ok {
			r.rows++
			var emit bool
			emit, err = r.convert(s)
			if err == nil && emit {
				return true
			}
		}
		if err != nil {
			r.err = err
		}
		if err != nil || !ok {
			r.done = true
			if err == nil {
				r.note()
			}
			return false
		}
	}
}

// note writes the one warning line that counts skipped pods.
func (r *OpenbReader) note() {
	var parts []string
	var total int64
	for i, n := range r.skipped {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, openbSkips[i]))
			total += n
		}
	}
	if total == 0 {
		return
	}
	w := r.warn
	if w == nil {
		w = os.Stderr
	}
	fmt.Fprintf(w, "traces: %s: skipped %d of %d pods: %s\n", r.file, total, r.rows, strings.Join(parts, ", "))
}

// convert reads the current row into s; emit is false for a skipped pod.
func (r *OpenbReader) convert(s *sim.JobSpec) (emit bool, err error) {
	t := r.t
	id := t.field(obName)
	if id == "" {
		return false, t.errAt(obName, "is empty; the column is required")
	}
	created, err := t.seconds(obCreation, false)
	if err != nil {
		return false, err
	}
	submit := sim.FromSeconds(created)
	if submit < r.last {
		return false, t.errAt(obCreation, "%s is before the previous row's %s (line %d): openb pod lists are sorted by creation_time",
			fmtNum(created), fmtNum(r.last.Seconds()), r.lastLine)
	}
	r.last, r.lastLine = submit, t.line
	if err := r.checkUnique(id); err != nil {
		return false, err
	}
	gpus, err := t.int(obNumGPU, 0, math.MaxInt32, true)
	if err != nil {
		return false, err
	}
	if gpus == 0 {
		r.skipped[0]++
		return false, nil
	}
	milli, err := t.int(obGPUMilli, 0, fleet.FullGPU, false)
	switch {
	case err != nil:
		return false, err
	case gpus > 1 || t.field(obGPUMilli) == "":
		milli = fleet.FullGPU
	case milli == 0:
		return false, t.errAt(obGPUMilli, "0 is outside 1..%d for a 1-GPU pod", fleet.FullGPU)
	}
	types, err := r.spec()
	if err != nil {
		return false, err
	}
	cpu, err := t.int(obCPU, 0, math.MaxInt32, false)
	if err != nil {
		return false, err
	}
	mem, err := t.int(obMem, 0, math.MaxInt32, false)
	if err != nil {
		return false, err
	}
	deleted, err := t.seconds(obDeletion, false)
	if err != nil {
		return false, err
	}
	if t.field(obScheduled) == "" {
		r.skipped[1]++
		return false, nil
	}
	scheduled, err := t.seconds(obScheduled, false)
	if err != nil {
		return false, err
	}
	work := sim.FromSeconds(deleted) - sim.FromSeconds(scheduled)
	if work < 1 {
		r.skipped[2]++
		return false, nil
	}
	*s = sim.JobSpec{
		ID:        strings.Clone(id),
		Submit:    submit,
		GPUs:      int32(gpus),
		Milli:     uint16(milli),
		GPUTypes:  types,
		Tenant:    DefaultTenant,
		Segment:   sim.SegInternal,
		Work:      work,
		QoS:       r.qos(),
		CPUMilli:  int32(cpu),
		MemoryMiB: int32(mem),
	}
	return true, nil
}

// spec maps gpu_spec to a type set, caching each distinct spec.
func (r *OpenbReader) spec() (fleet.TypeSet, error) {
	s := r.t.field(obSpec)
	if s == "" {
		return 0, nil
	}
	if ts, ok := r.specs[s]; ok {
		return ts, nil
	}
	var ts fleet.TypeSet
	for _, m := range strings.Split(s, "|") {
		m = strings.TrimSpace(m)
		if m == "" {
			return 0, r.t.errAt(obSpec, "%q has an empty model name", s)
		}
		k, err := fleet.ResolveModel(m, r.models)
		if err != nil {
			return 0, r.t.errAt(obSpec, "%v", err)
		}
		ts |= fleet.Only(k)
	}
	if len(r.specs) < maxCache {
		r.specs[strings.Clone(s)] = ts
	}
	return ts, nil
}

// qos returns the qos cell, one shared copy per distinct value.
func (r *OpenbReader) qos() string {
	s := r.t.field(obQoS)
	if s == "" {
		return ""
	}
	if q, ok := r.qoses[s]; ok {
		return q
	}
	q := strings.Clone(s)
	if len(r.qoses) < maxCache {
		r.qoses[q] = q
	}
	return q
}

// checkUnique rejects a name seen on an earlier row, exactly.
func (r *OpenbReader) checkUnique(id string) error {
	first, dup, err := r.ids.add(id, r.earlier)
	if err != nil {
		return err
	}
	if dup {
		return r.t.errAt(obName, "duplicate name %q (first on line %d)", id, first)
	}
	return nil
}

// earlier reads the file again up to the current row and returns the rows
// whose name has hash h.
func (r *OpenbReader) earlier(h uint64) ([]idAt, error) {
	b, err := r.reopen()
	if err != nil {
		return nil, err
	}
	defer b.close()
	t := &table{loc: &r.loc, b: b, idx: r.t.idx, want: r.t.want}
	var rows []idAt
	for {
		ok, err := t.next()
		if err != nil {
			return nil, err
		}
		if !ok || t.line >= r.t.line {
			if !ok || len(rows) == 0 {
				return nil, r.errAt(r.t.line, "", "an earlier row vanished while reading the file again (was the file changed?)")
			}
			return rows, nil
		}
		if name := t.field(obName); r.ids.hash(name) == h {
			rows = append(rows, idAt{strings.Clone(name), t.line})
		}
	}
}

// InternalOnly reports that every openb pod is internal work.
func (r *OpenbReader) InternalOnly() bool { return true }
