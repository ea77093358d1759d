package policies_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"neosim/policies"
	"neosim/sim"
	"neosim/sim/fleet"
)

// Example_smallestFirst runs the allocator of docs/policies.md
// (example_smallestfirst_test.go, registered like a shipped policy), made
// by the registry as a scenario would name it: on one 8-GPU node with 4
// GPUs busy, the 1-GPU and 2-GPU jobs start before the 6-GPU job queued
// ahead of them, which waits for room.
func Example_smallestFirst() {
	a, err := policies.Allocators.NewWith("smallest-first", map[string]any{"max_starts": 10})
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
	if err := sim.New(sim.Config{}, f, a, nil, []sim.Source{&fixed{jobs: jobs}}, starts).Run(); err != nil {
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

// startLog records each job's first start.
type startLog struct{ lines []string }

func (l *startLog) JobStarted(j *sim.Job) {
	if j.FirstStart == j.Start {
		l.lines = append(l.lines, fmt.Sprintf("%s at %v", j.ID, j.Start))
	}
}
func (*startLog) JobEnded(*sim.Job)   {}
func (*startLog) Sampled(*sim.Sample) {}

// TestDocsExampleIsCompiled: example_smallestfirst_test.go, which the
// package's tests compile and register, is docs/policies.md's example
// byte for byte, so the documented code compiles and runs.
func TestDocsExampleIsCompiled(t *testing.T) {
	doc, err := os.ReadFile("../docs/policies.md")
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile("example_smallestfirst_test.go")
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
	if want := s[:strings.Index(s, "```\n")]; string(code) != want {
		t.Errorf("policies/example_smallestfirst_test.go and docs/policies.md's example differ: copy the one you changed onto the other")
	}
}
