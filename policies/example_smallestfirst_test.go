package policies

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"neosim/sim"
	"neosim/sim/fleet"
)

func init() {
	Allocators.Register("smallest-first", "waiting jobs by size, smallest first (first fit); a job that does not fit is skipped",
		func() Allocator { return &SmallestFirst{} })
}

// SmallestFirst starts waiting jobs in order of size (GPUs × share),
// smallest first, ties in queue order, each placed with first fit. A job
// that does not fit now is skipped, so small jobs never wait behind large
// ones; large jobs can starve while small ones keep arriving.
type SmallestFirst struct {
	// LargestFirst reverses the order (largest first).
	LargestFirst bool `yaml:"largest_first,omitempty"`
	// MaxStarts caps the jobs started per pass; 0: no cap.
	MaxStarts int `yaml:"max_starts,omitempty"`

	buf   []fleet.Share // reused: no allocation per pass once warm
	queue []sim.JobID
}

var _ Allocator = (*SmallestFirst)(nil)

// Name returns "smallest-first".
func (*SmallestFirst) Name() string { return "smallest-first" }

// Validate checks the parameters (the registry calls it after decoding
// them; MaxStarts has no default to set: 0 means no cap).
func (a *SmallestFirst) Validate() error {
	if a.MaxStarts < 0 {
		return fmt.Errorf("max_starts: must be ≥ 0, got %d", a.MaxStarts)
	}
	return nil
}

// Schedule starts jobs by size.
func (a *SmallestFirst) Schedule(v *sim.View, p *sim.Plan) {
	// Starting a job changes v.Queue(): walk a copy.
	a.queue = append(a.queue[:0], v.Queue()...)
	size := func(id sim.JobID) int64 { j := v.Job(id); return int64(j.GPUs) * int64(j.Milli) }
	slices.SortStableFunc(a.queue, func(x, y sim.JobID) int {
		if a.LargestFirst {
			return cmp.Compare(size(y), size(x))
		}
		return cmp.Compare(size(x), size(y))
	})
	started := 0
	for _, id := range a.queue {
		if a.MaxStarts > 0 && started == a.MaxStarts {
			return
		}
		shares, _, ok := v.Fleet().FirstFit(v.Job(id).Demand(), a.buf[:0])
		a.buf = shares
		if !ok {
			continue
		}
		if err := p.Start(id, shares); err != nil {
			panic("smallest-first: first fit proposed an invalid placement: " + err.Error())
		}
		started++
	}
}

// ---- end of the docs/policies.md example; what follows runs it ----

// Example_smallestFirst runs the allocator of docs/policies.md, made by
// the registry as a scenario would name it: on one 8-GPU node, the 1-GPU
// and 2-GPU jobs start before the 6-GPU job that arrived first, which
// waits for room.
func Example_smallestFirst() {
	a, err := Allocators.NewWith("smallest-first", map[string]any{"max_starts": 10})
	if err != nil {
		fmt.Println(err)
		return
	}
	f, _ := fleet.New([]fleet.Group{{Nodes: 1, GPUsPerNode: 8, Type: "H100"}})
	jobs := []sim.JobSpec{
		{ID: "busy", GPUs: 4, Work: sim.Hour},
		{ID: "big", Submit: sim.Second, GPUs: 6, Work: sim.Hour},
		{ID: "one", Submit: sim.Second, GPUs: 1, Work: sim.Hour},
		{ID: "two", Submit: sim.Second, GPUs: 2, Work: sim.Hour},
	}
	for i := range jobs {
		jobs[i].Milli, jobs[i].Segment = fleet.FullGPU, sim.SegInternal
	}
	starts := &startLog{}
	if err := sim.New(sim.Config{}, f, a, nil, []sim.Source{&specList{jobs: jobs}}, starts).Run(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Join(starts.lines, "\n"))
	// Output:
	// busy at 0s
	// one at 1s
	// two at 1s
	// big at 1h1s
}

// specList is a Source over a fixed list of jobs.
type specList struct {
	jobs []sim.JobSpec
	i    int
}

func (s *specList) Name() string { return "list" }
func (s *specList) Err() error   { return nil }
func (s *specList) Next(j *sim.JobSpec) bool {
	if s.i == len(s.jobs) {
		return false
	}
	*j = s.jobs[s.i]
	s.i++
	return true
}

// startLog records each job's first start.
type startLog struct{ lines []string }

func (l *startLog) JobStarted(j *sim.Job) {
	if j.FirstStart == j.Start {
		l.lines = append(l.lines, fmt.Sprintf("%s at %v", j.ID, j.Start))
	}
}
func (*startLog) JobEnded(*sim.Job)   {}
func (*startLog) Sampled(*sim.Sample) {}

// TestDocsExampleIsThisFile: the code above is docs/policies.md's example,
// byte for byte (bar the imports the runner needs).
func TestDocsExampleIsThisFile(t *testing.T) {
	doc, err := os.ReadFile("../docs/policies.md")
	if err != nil {
		t.Fatal(err)
	}
	me, err := os.ReadFile("example_smallestfirst_test.go")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, "A complete allocator, `policies/smallestfirst.go`")
	if i < 0 {
		t.Fatal("docs/policies.md: no complete allocator example")
	}
	s = s[i:]
	s = s[strings.Index(s, "```go\n")+len("```go\n"):]
	want := s[:strings.Index(s, "```\n")]
	got := string(me[:strings.Index(string(me), "\n// ---- end of the docs/policies.md example")])
	got = strings.Replace(got, testImports, docImports, 1)
	if got != want {
		t.Errorf("policies/example_smallestfirst_test.go and docs/policies.md's example differ: copy the one you changed onto the other")
	}
}

// docImports and testImports are the example's imports in the docs and
// here (the runner below needs more).
const (
	docImports = `import (
	"cmp"
	"fmt"
	"slices"

	"neosim/sim"
	"neosim/sim/fleet"
)
`
	testImports = `import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"neosim/sim"
	"neosim/sim/fleet"
)
`
)
