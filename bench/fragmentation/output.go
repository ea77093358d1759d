package fragmentation

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"neosim/results"
)

// Output file names in the --out folder.
const (
	ArrowFile = "fragmentation.arrow"
	JSONFile  = "fragmentation.json"
)

// Schema is fragmentation.arrow's: one row per (policy, seed, arrived
// percent).
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: "policy", Type: arrow.BinaryTypes.String},        // random, dotprod, gpuclustering, gpupacking, bestfit, fgd
	{Name: "seed", Type: arrow.PrimitiveTypes.Int64},        // tune seed
	{Name: "arrived_pct", Type: arrow.PrimitiveTypes.Int32}, // arrived GPU demand, % of GPU capacity (0..130)
	{Name: "alloc_pct", Type: arrow.PrimitiveTypes.Float64}, // allocated GPU milli, % of GPU capacity
}, func() *arrow.Metadata {
	md := arrow.NewMetadata([]string{"neosim.file"}, []string{"fragmentation"})
	return &md
}())

// Write writes fragmentation.arrow (Schema; results.WriteArrowFile) and fragmentation.json
// (the resolved configuration and the per-policy summary) into dir, each
// through a temporary name renamed at the end.
func (r *Result) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("fragmentation: %w", err)
	}
	if err := r.writeArrow(filepath.Join(dir, ArrowFile)); err != nil {
		return err
	}
	return r.writeJSON(filepath.Join(dir, JSONFile))
}

func (r *Result) writeArrow(path string) error {
	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, Schema)
	defer b.Release()
	pol := b.Field(0).(*array.StringBuilder)
	seed := b.Field(1).(*array.Int64Builder)
	arr := b.Field(2).(*array.Int32Builder)
	alloc := b.Field(3).(*array.Float64Builder)
	for i := range r.Runs {
		run := &r.Runs[i]
		for x, v := range run.Alloc {
			pol.Append(run.Policy.String())
			seed.Append(run.Seed)
			arr.Append(int32(x))
			alloc.Append(v)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	return results.WriteArrowFile(path, rec)
}

// jsonPolicy is one line of the summary in fragmentation.json.
type jsonPolicy struct {
	Policy         string  `json:"policy"`
	AllocPct100    float64 `json:"alloc_pct_at_100"`
	SD100          float64 `json:"alloc_pct_at_100_sd"`
	AllocPctEnd    float64 `json:"alloc_pct_at_end"`
	Unallocated100 float64 `json:"unallocated_gpus_at_100"`
	FailedPods     float64 `json:"failed_pods_mean"`
}

func (r *Result) writeJSON(path string) error {
	c := r.Config
	pols := make([]string, len(c.Policies))
	for i, p := range c.Policies {
		pols[i] = p.String()
	}
	doc := struct {
		Pods     string       `json:"pods"`
		Nodes    string       `json:"nodes"`
		Seeds    []int64      `json:"seeds"`
		Policies []string     `json:"policies"`
		Tune     float64      `json:"tune"`
		Coverage float64      `json:"coverage"`
		GPUs     int          `json:"gpus"`
		Typical  int          `json:"target_shapes"`
		Shapes   int          `json:"shapes"`
		WallS    float64      `json:"wall_s"`
		Summary  []jsonPolicy `json:"summary"`
	}{c.Pods, c.Nodes, c.Seeds, pols, c.Tune, c.Coverage, r.GPUs, r.Typical, r.Shapes, r.Wall.Seconds(), nil}
	for _, s := range r.Summary() {
		doc.Summary = append(doc.Summary, jsonPolicy{s.Policy.String(), s.Mean100, s.SD100, s.MeanEnd, s.Unallocated100, s.FailedPods})
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("fragmentation: %w", err)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("fragmentation: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("fragmentation: %w", err)
	}
	return nil
}
