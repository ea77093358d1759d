package fragmentation

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"neosim/policies/frag"
)

// Pod is one row of a pod list: a task shape to sample.
type Pod struct {
	Name   string
	CPU    int64         // milli-CPU
	Memory int64         // MiB
	GPUs   int           // 0 for a CPU-only pod
	Milli  uint16        // milli-GPU of each GPU (clamped to 1000); 0 for a CPU-only pod
	Models frag.ModelSet // allowed GPU models (Inputs.Models numbering); empty: any
}

// Task returns the pod's task shape.
func (p *Pod) Task() frag.Task {
	return frag.Task{CPU: p.CPU, Memory: p.Memory, GPUs: p.GPUs, Milli: p.Milli, Models: p.Models}
}

// TotalMilli returns the milli-GPU the pod asks in all (GPUs × Milli).
func (p *Pod) TotalMilli() int64 { return int64(p.GPUs) * int64(p.Milli) }

// NodeSpec is one row of a node list.
type NodeSpec struct {
	Name   string
	CPU    int64 // milli-CPU
	Memory int64 // MiB
	GPUs   int
	Model  int // index in Inputs.Models
}

// Inputs are a pod list and a node list, each sorted by name (the order
// the authors' simulator starts from).
type Inputs struct {
	PodsFile, NodesFile string
	Pods                []Pod
	Nodes               []NodeSpec
	Models              []string // GPU model names; Pod.Models and NodeSpec.Model index it
}

// GPUs returns the cluster's GPU count.
func (in *Inputs) GPUs() int {
	n := 0
	for _, s := range in.Nodes {
		n += s.GPUs
	}
	return n
}

// Load reads a node list (openb_node_list_*.csv: sn, cpu_milli,
// memory_mib, gpu, model) and a pod list (openb_pod_list_*.csv: name,
// cpu_milli, memory_mib, num_gpu, gpu_milli[, gpu_spec]). Every row is
// used: CPU-only pods and nodes without GPUs included, whatever their
// phase or times (which the experiment ignores). Errors name the file,
// the line and the column.
func Load(podsFile, nodesFile string) (*Inputs, error) {
	in := &Inputs{PodsFile: podsFile, NodesFile: nodesFile}
	models := map[string]int{}
	model := func(name string) (int, error) {
		if k, ok := models[name]; ok {
			return k, nil
		}
		if len(in.Models) == 64 {
			return 0, fmt.Errorf("more than 64 GPU models")
		}
		models[name] = len(in.Models)
		in.Models = append(in.Models, name)
		return models[name], nil
	}

	err := readCSV(nodesFile, "node list", []string{"sn", "cpu_milli", "memory_mib", "gpu", "model"}, nil, func(c *cells) error {
		s := NodeSpec{Name: c.str("sn")}
		var err error
		if s.CPU, err = c.int("cpu_milli", 0, 1<<40); err != nil {
			return err
		}
		if s.Memory, err = c.int("memory_mib", 0, 1<<40); err != nil {
			return err
		}
		g, err := c.int("gpu", 0, 64)
		if err != nil {
			return err
		}
		s.GPUs = int(g)
		if m := c.str("model"); m != "" {
			if s.Model, err = model(m); err != nil {
				return c.errf("model", "%v", err)
			}
		} else if s.GPUs > 0 {
			return c.errf("model", "is empty on a node with GPUs")
		}
		in.Nodes = append(in.Nodes, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(in.Nodes) == 0 {
		return nil, fmt.Errorf("%s: no nodes", nodesFile)
	}
	if in.GPUs() == 0 {
		return nil, fmt.Errorf("%s: no GPUs on any node", nodesFile)
	}

	err = readCSV(podsFile, "pod list", []string{"name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"}, []string{"gpu_spec"}, func(c *cells) error {
		p := Pod{Name: c.str("name")}
		var err error
		if p.CPU, err = c.int("cpu_milli", 0, 1<<40); err != nil {
			return err
		}
		if p.Memory, err = c.int("memory_mib", 0, 1<<40); err != nil {
			return err
		}
		g, err := c.int("num_gpu", 0, 64)
		if err != nil {
			return err
		}
		p.GPUs = int(g)
		if p.GPUs > 0 {
			m := int64(frag.FullGPU) // an empty gpu_milli: whole GPUs
			if c.str("gpu_milli") != "" {
				if m, err = c.int("gpu_milli", 1, 1<<31); err != nil {
					return err
				}
			}
			// The authors' converter clamps gpu_milli to 1000.
			p.Milli = uint16(min(m, frag.FullGPU))
			if p.GPUs > 1 && p.Milli < frag.FullGPU {
				return c.errf("gpu_milli", "%d on a %d-GPU pod: only 1-GPU pods may share a GPU", p.Milli, p.GPUs)
			}
			for _, name := range strings.Split(c.str("gpu_spec"), "|") {
				if name = strings.TrimSpace(name); name == "" {
					continue
				}
				k, err := model(name)
				if err != nil {
					return c.errf("gpu_spec", "%v", err)
				}
				p.Models |= 1 << k
			}
		}
		in.Pods = append(in.Pods, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(in.Pods) == 0 {
		return nil, fmt.Errorf("%s: no pods", podsFile)
	}
	slices.SortStableFunc(in.Pods, func(a, b Pod) int { return strings.Compare(a.Name, b.Name) })
	slices.SortStableFunc(in.Nodes, func(a, b NodeSpec) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(in.Pods); i++ {
		if in.Pods[i].Name == in.Pods[i-1].Name {
			return nil, fmt.Errorf("%s: duplicate pod name %q", podsFile, in.Pods[i].Name)
		}
	}
	for i := 1; i < len(in.Nodes); i++ {
		if in.Nodes[i].Name == in.Nodes[i-1].Name {
			return nil, fmt.Errorf("%s: duplicate node name %q", nodesFile, in.Nodes[i].Name)
		}
	}
	return in, nil
}

// cells is the current CSV record with its column index.
type cells struct {
	file string
	line int
	col  map[string]int
	rec  []string
}

func (c *cells) str(name string) string {
	i, ok := c.col[name]
	if !ok || i >= len(c.rec) {
		return ""
	}
	return strings.TrimSpace(c.rec[i])
}

func (c *cells) errf(name, format string, a ...any) error {
	return fmt.Errorf("%s:%d: column %s: %s", c.file, c.line, name, fmt.Sprintf(format, a...))
}

func (c *cells) int(name string, lo, hi int64) (int64, error) {
	s := c.str(name)
	if s == "" {
		return 0, c.errf(name, "is empty")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, c.errf(name, "%q is not a whole number", s)
	}
	if v < lo || v > hi {
		return 0, c.errf(name, "%d is outside %d..%d", v, lo, hi)
	}
	return v, nil
}

// readCSV reads a CSV file with a header naming at least the required
// columns, calling row for each record.
func readCSV(path, what string, required, optional []string, row func(*cells) error) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s %s: no such file", what, path)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReader(f))
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err == io.EOF {
		return fmt.Errorf("%s %s: empty file (the first line must be a header: %s)", what, path, strings.Join(required, ","))
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	c := &cells{file: path, col: map[string]int{}}
	for i, h := range head {
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF")
		}
		c.col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	var missing []string
	for _, r := range required {
		if _, ok := c.col[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s %s: missing column(s) %s (need %s; optional %s)", what, path,
			strings.Join(missing, ", "), strings.Join(required, ", "), strings.Join(optional, ", "))
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", what, path, err)
		}
		c.line, _ = cr.FieldPos(0)
		c.rec = rec
		if err := row(c); err != nil {
			return err
		}
	}
}
