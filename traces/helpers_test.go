package traces

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"neosim/sim"
	"neosim/sim/fleet"
)

// writeFile writes content to name in a fresh temporary directory.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readAll opens path and reads every job; it returns the jobs and the first
// error, from Open or from the rows.
func readAll(t testing.TB, path string, opts Options) ([]sim.JobSpec, error) {
	t.Helper()
	if opts.Warn == nil {
		opts.Warn = &bytes.Buffer{}
	}
	r, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var jobs []sim.JobSpec
	var s sim.JobSpec
	for r.Next(&s) {
		jobs = append(jobs, s)
	}
	return jobs, r.Err()
}

// asError unwraps an *Error or fails the test.
func asError(t testing.TB, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *traces.Error", err, err)
	}
	return e
}

var testTenants = []string{"internal", "acme", "globex", "initech, inc.", `quote "q"`, "ünïcode"}

// genJobs makes n valid jobs sorted by submit time, covering every field's
// range, from a fixed seed.
func genJobs(n int, seed uint64) []sim.JobSpec {
	rng := rand.New(rand.NewPCG(seed, 0x7ace5))
	jobs := make([]sim.JobSpec, n)
	var t sim.Time
	for i := range jobs {
		if rng.IntN(4) != 0 { // some submit ties
			t += sim.Time(rng.Int64N(int64(10 * sim.Minute)))
		}
		s := sim.JobSpec{
			ID:       fmt.Sprintf("job-%06d", i),
			Submit:   t,
			GPUs:     int32(1 << rng.IntN(10)),
			Milli:    fleet.FullGPU,
			Tenant:   testTenants[rng.IntN(len(testTenants))],
			Segment:  sim.Segment(rng.IntN(int(sim.NumSegments))),
			Priority: int32(rng.IntN(200) - 100),
			Work:     1 + sim.Time(rng.Int64N(int64(30*sim.Day))),
		}
		switch i % 7 {
		case 1:
			s.ID = fmt.Sprintf("job,%d \"quoted\"", i) // needs CSV quoting
		case 2:
			s.GPUs, s.Milli = 1, uint16(1+rng.IntN(fleet.FullGPU))
		case 3:
			s.GPUTypes = fleet.Only(fleet.TypeID(rng.IntN(len(fleet.Catalog))))
		case 4:
			s.Patience = 1 + sim.Time(rng.Int64N(int64(sim.Day)))
		case 5:
			s.Work = 1 // the shortest job
		case 6:
			s.QoS = []string{"LS", "BE", "Burstable"}[rng.IntN(3)]
			s.CPUMilli, s.MemoryMiB = int32(rng.IntN(96_000)), int32(rng.IntN(1<<20))
		}
		jobs[i] = s
	}
	return jobs
}

// seq adapts a slice to the iterator Write takes.
func seq(jobs []sim.JobSpec) iter.Seq[sim.JobSpec] {
	return func(yield func(sim.JobSpec) bool) {
		for _, j := range jobs {
			if !yield(j) {
				return
			}
		}
	}
}
