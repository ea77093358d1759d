package experiment

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"neosim/policies"
	"neosim/results"
	"neosim/runner"
	"neosim/scenario"
)

// SweepSpec is a sweep file (docs/scale-out.md): a grid or a list of
// scenario variants, crossed with allocators, pricers and seeds.
type SweepSpec struct {
	// Name names the sweep (the default output folder results/sweep/NAME);
	// default: the sweep file's base name.
	Name string `yaml:"name"`
	// Scenario is the base scenario file, relative to the sweep file;
	// "" means the embedded default scenario.
	Scenario string `yaml:"scenario"`
	// Horizon, if set, overrides the scenario's horizon (e.g. 7d).
	Horizon string `yaml:"horizon"`
	// Warmup, if set, overrides the scenario's warm-up (e.g. 5d).
	Warmup     string   `yaml:"warmup"`
	Allocators []string `yaml:"allocators"`
	Pricers    []string `yaml:"pricers"`
	// Seeds: a list, or a string of ranges such as "1-5" or "1-3,9".
	Seeds yaml.Node `yaml:"seeds"`
	// Grid maps scenario paths (dot-separated YAML keys, e.g.
	// allocator_params.internal_share) to the values to sweep; the variants
	// are every combination, in the order written.
	Grid yaml.Node `yaml:"grid"`
	// Variants lists variants by name instead: each sets some scenario
	// paths.
	Variants []SweepVariant `yaml:"variants"`
	// Baseline is the cell the differences are taken against; empty fields
	// mean the first variant, allocator or pricer.
	Baseline struct {
		Variant   string `yaml:"variant"`
		Allocator string `yaml:"allocator"`
		Pricer    string `yaml:"pricer"`
	} `yaml:"baseline"`
}

// SweepVariant is one named variant of a sweep's variants list.
type SweepVariant struct {
	Name string    `yaml:"name"`
	Set  yaml.Node `yaml:"set"` // a mapping of scenario paths to values
}

// SweepOptions are how to run a sweep.
type SweepOptions struct {
	// Out is the output folder; "" means results/sweep/<name>.
	Out string
	// Jobs is the number of runs at once; ≤ 0 means runtime.NumCPU().
	Jobs int
	// Shard selects the runs of one shard; zero means all.
	Shard Shard
	Warn  io.Writer
	Done  func(RunDone)
	Run   runner.Options
	// Resume keeps the runs already complete in Out (a shard retried after
	// a failure, a sweep interrupted) and runs only the others; the result
	// is the same as a fresh run's.
	Resume bool
	// Precision, if set, adds seeds after the sweep's until each cell's
	// paired Δ net value against the baseline is known to within it (not
	// with Shard or Resume).
	Precision Precision
}

// Sweep is a parsed sweep file, ready to run.
type Sweep struct {
	m    *matrix
	file string
}

// SweepOverrides replace a sweep file's fields (for a quick look at a big
// sweep); empty fields change nothing.
type SweepOverrides struct {
	Horizon string // e.g. "2d"
	Seeds   string // e.g. "1-2"
	// Failures, if set, turns every variant's injected failures on or off.
	Failures *bool
}

// LoadSweep reads and checks a sweep file: every variant's scenario must
// parse and validate, every policy name be known, before anything runs.
func LoadSweep(path string, ov SweepOverrides) (*Sweep, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err // names the file
	}
	return ParseSweep(path, b, ov)
}

// ParseSweep parses sweep YAML; path labels errors and anchors the base
// scenario's relative path.
func ParseSweep(path string, b []byte, ov SweepOverrides) (*Sweep, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("sweep %s: %s", path, fmt.Sprintf(format, args...))
	}
	var spec SweepSpec
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&spec); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fail("empty file")
		}
		return nil, fail("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if ov.Horizon != "" {
		spec.Horizon = ov.Horizon
	}
	if ov.Seeds != "" {
		spec.Seeds = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: ov.Seeds}
	}
	if spec.Name == "" {
		spec.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if !safeName.MatchString(spec.Name) {
		return nil, fail("name %q: use letters, digits, '.', '-' and '_'", spec.Name)
	}
	// The base scenario, as YAML to edit.
	baseName, baseYAML := "the embedded default scenario", scenario.DefaultYAML()
	if spec.Scenario != "" {
		baseName = spec.Scenario
		if !filepath.IsAbs(baseName) {
			baseName = filepath.Join(filepath.Dir(path), baseName)
		}
		var err error
		if baseYAML, err = os.ReadFile(baseName); err != nil {
			return nil, fail("scenario: %v", err)
		}
	}
	var base yaml.Node
	if err := yaml.Unmarshal(baseYAML, &base); err != nil {
		return nil, fail("scenario %s: %v", baseName, err)
	}
	if ov.Failures != nil {
		if err := setPath(&base, "failures.enabled", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(*ov.Failures)}); err != nil {
			return nil, fail("failures: %v", err)
		}
	}
	if spec.Horizon != "" {
		if err := setPath(&base, "horizon", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: spec.Horizon}); err != nil {
			return nil, fail("horizon: %v", err)
		}
	}
	if spec.Warmup != "" {
		if err := setPath(&base, "warmup", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: spec.Warmup}); err != nil {
			return nil, fail("warmup: %v", err)
		}
	}

	m := &matrix{Name: spec.Name}
	variants, err := spec.variants()
	if err != nil {
		return nil, fail("%v", err)
	}
	if len(variants) == 0 {
		return nil, fail("no variants: give a grid or a variants list")
	}
	m.Params = variants[0].params
	for _, sv := range variants {
		doc, err := cloneNode(&base)
		if err != nil {
			return nil, fail("%v", err)
		}
		v := Variant{Name: sv.name}
		for i, p := range sv.params {
			if err := setPath(doc, p.Path, sv.nodes[i]); err != nil {
				return nil, fail("variant %s: %s: %v", sv.name, p.Path, err)
			}
			v.Values = append(v.Values, sv.values[i])
			v.ownAllocParams = v.ownAllocParams || strings.HasPrefix(p.Path, "allocator_params.")
			v.ownPricerParams = v.ownPricerParams || strings.HasPrefix(p.Path, "pricer_params.")
		}
		data, err := yaml.Marshal(doc)
		if err != nil {
			return nil, fail("variant %s: %v", sv.name, err)
		}
		label := fmt.Sprintf("%s (variant %s of sweep %s)", baseName, sv.name, path)
		s, err := scenario.Parse(label, data)
		if err == nil {
			s.FitWarmup() // as the runner does (it prints the note per run)
			err = s.Validate()
		}
		if err != nil {
			// The line numbers of the edited scenario mean nothing to the
			// user: name the sweep's lines that set the variant instead.
			var lines []string
			for i, p := range sv.params {
				lines = append(lines, fmt.Sprintf("%s (line %d)", p.Path, sv.nodes[i].Line))
			}
			msg := yamlLine.ReplaceAllString(err.Error(), "")
			msg = strings.TrimPrefix(msg, "scenario "+label+": ")
			return nil, fail("variant %s, which sets %s on %s: %s", sv.name, strings.Join(lines, ", "), baseName, msg)
		}
		v.load = func() (*scenario.Scenario, error) { return scenario.Parse(label, data) }
		m.Variants = append(m.Variants, v)
	}
	first, _ := m.Variants[0].load()
	if len(spec.Allocators) == 0 {
		spec.Allocators = []string{first.Allocator}
	}
	if len(spec.Pricers) == 0 {
		spec.Pricers = []string{first.Pricer}
	}
	seeds, err := spec.seeds()
	if err != nil {
		return nil, fail("seeds: %v", err)
	}
	if err := m.setPairs(spec.Allocators, spec.Pricers, seeds); err != nil {
		return nil, fail("%v", err)
	}
	if err := m.setBaseline(Cell{spec.Baseline.Variant, Pair{spec.Baseline.Allocator, spec.Baseline.Pricer}}); err != nil {
		return nil, fail("%v", err)
	}
	// Policy parameters fail here, not after hours of other runs.
	for _, v := range m.Variants {
		sc, _ := v.load()
		for _, pr := range m.Pairs {
			if pr.Allocator == sc.Allocator || v.ownAllocParams {
				if _, err := policies.Allocators.NewWith(pr.Allocator, sc.AllocatorParams); err != nil {
					return nil, fail("variant %s: %v", v.Name, err)
				}
			}
			if pr.Pricer == sc.Pricer || v.ownPricerParams {
				if _, err := policies.Pricers.NewWith(pr.Pricer, sc.PricerParams); err != nil {
					return nil, fail("variant %s: %v", v.Name, err)
				}
			}
		}
	}
	if err := m.setDigests(); err != nil {
		return nil, fail("%v", err)
	}
	return &Sweep{m: m, file: path}, nil
}

// Name is the sweep's name.
func (s *Sweep) Name() string { return s.m.Name }

// Runs is the number of runs of the whole sweep.
func (s *Sweep) Runs() int { return s.m.runs() }

// Pending is the number of runs of a shard not yet complete in out (in
// format): what Run with Resume will run.
func (s *Sweep) Pending(out string, sh Shard, format results.Format) int {
	todo, _ := s.m.resume(out, sh, format)
	return len(todo)
}

// ShardRuns is the number of runs of one shard.
func (s *Sweep) ShardRuns(sh Shard) int {
	if sh.whole() {
		return s.m.runs()
	}
	return len(s.m.shardRuns(sh))
}

// Variants, Pairs and Seeds span the sweep.
func (s *Sweep) Variants() []Variant { return s.m.Variants }
func (s *Sweep) Pairs() []Pair       { return s.m.Pairs }
func (s *Sweep) Seeds() []uint64     { return s.m.Seeds }

// DefaultSweepOut returns a sweep's default output folder.
func DefaultSweepOut(name string) string { return filepath.Join("results", "sweep", name) }

// Run runs the sweep, or one shard of it. A whole sweep ends with
// comparison.arrow; a shard writes only its runs (and the manifest):
// Merge combines the shards.
func (s *Sweep) Run(opt SweepOptions) (*Comparison, error) {
	if opt.Out == "" {
		opt.Out = DefaultSweepOut(s.m.Name)
	}
	if !opt.Shard.whole() && (opt.Shard.Index < 0 || opt.Shard.Index >= opt.Shard.Count) {
		return nil, fmt.Errorf("sweep: shard %s: the index must be in [0, %d)", opt.Shard, opt.Shard.Count)
	}
	c, err := s.m.run(execOptions{Out: opt.Out, Jobs: opt.Jobs, Shard: opt.Shard, Warn: opt.Warn, Done: opt.Done, Run: opt.Run, Resume: opt.Resume, Precision: opt.Precision})
	if err != nil {
		return nil, fmt.Errorf("sweep %s: %w", s.file, err)
	}
	return c, nil
}

// yamlLine matches the line numbers in a YAML decoding error.
var yamlLine = regexp.MustCompile(`line \d+: `)

// safeName is what a sweep or variant name may be: it becomes a folder.
var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// specVariant is a variant as the spec gives it.
type specVariant struct {
	name   string
	params []results.SweepParam
	nodes  []*yaml.Node // the values to set
	values []any        // float64 or string
}

// variants expands the grid or the list.
func (spec *SweepSpec) variants() ([]specVariant, error) {
	hasGrid := spec.Grid.Kind != 0
	switch {
	case hasGrid && len(spec.Variants) > 0:
		return nil, errors.New("give a grid or a variants list, not both")
	case hasGrid:
		return spec.gridVariants()
	}
	var out []specVariant
	names := map[string]bool{}
	for i, sv := range spec.Variants {
		if !safeName.MatchString(sv.Name) {
			return nil, fmt.Errorf("variants[%d]: name %q: use letters, digits, '.', '-', '+' and '_'", i, sv.Name)
		}
		if names[sv.Name] {
			return nil, fmt.Errorf("variants[%d]: name %q given twice", i, sv.Name)
		}
		names[sv.Name] = true
		if sv.Set.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("variant %s: set must map scenario paths to values", sv.Name)
		}
		v := specVariant{name: sv.Name}
		for k := 0; k < len(sv.Set.Content); k += 2 {
			key, val := sv.Set.Content[k], sv.Set.Content[k+1]
			v.params = append(v.params, results.SweepParam{Path: key.Value})
			v.nodes = append(v.nodes, val)
			v.values = append(v.values, paramValue(val))
		}
		out = append(out, v)
	}
	// Every variant must set the same paths, in the same order: they are
	// comparison.arrow's columns.
	for _, v := range out[min(1, len(out)):] {
		if !sameParams(v.params, out[0].params) {
			return nil, fmt.Errorf("variant %s sets %s, variant %s sets %s: every variant must set the same paths in the same order",
				v.name, paramPaths(v.params), out[0].name, paramPaths(out[0].params))
		}
	}
	return numericParams(out), nil
}

func (spec *SweepSpec) gridVariants() ([]specVariant, error) {
	g := &spec.Grid
	if g.Kind != yaml.MappingNode || len(g.Content) == 0 {
		return nil, fmt.Errorf("line %d: grid must map scenario paths to lists of values", g.Line)
	}
	type axis struct {
		path   string
		short  string
		values []*yaml.Node
	}
	var axes []axis
	for k := 0; k < len(g.Content); k += 2 {
		key, val := g.Content[k], g.Content[k+1]
		if val.Kind != yaml.SequenceNode || len(val.Content) == 0 {
			return nil, fmt.Errorf("line %d: grid.%s must be a non-empty list of values", val.Line, key.Value)
		}
		short := key.Value[strings.LastIndex(key.Value, ".")+1:]
		axes = append(axes, axis{key.Value, short, val.Content})
	}
	n := 1
	for _, a := range axes {
		n *= len(a.values)
		if n > 100_000 {
			return nil, errors.New("grid: more than 100,000 variants")
		}
	}
	out := make([]specVariant, n)
	names := map[string]bool{}
	for i := range out {
		v := &out[i]
		rest := i
		var parts []string
		// The first axis varies slowest.
		for ai := range axes {
			stride := 1
			for _, b := range axes[ai+1:] {
				stride *= len(b.values)
			}
			a := axes[ai]
			node := a.values[rest/stride]
			rest %= stride
			if node.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: grid.%s: values must be numbers or strings", node.Line, a.path)
			}
			v.params = append(v.params, results.SweepParam{Path: a.path})
			v.nodes = append(v.nodes, node)
			v.values = append(v.values, paramValue(node))
			parts = append(parts, a.short+"-"+node.Value)
		}
		v.name = strings.Join(parts, "_")
		if !safeName.MatchString(v.name) {
			return nil, fmt.Errorf("grid: variant name %q (from the values) is not a safe folder name: use simple values or a variants list", v.name)
		}
		if names[v.name] {
			return nil, fmt.Errorf("grid: two variants are named %q: a value is listed twice, or two paths end in the same key", v.name)
		}
		names[v.name] = true
	}
	return numericParams(out), nil
}

// paramValue is a YAML scalar's value in comparison.arrow: a float64 if it
// is a number, else its text.
func paramValue(n *yaml.Node) any {
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") {
		if f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64); err == nil && !math.IsInf(f, 0) {
			return f
		}
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	b, _ := yaml.Marshal(n)
	return strings.TrimSpace(string(b))
}

// numericParams marks the parameters whose values are all numbers, and
// turns the values of the others into text.
func numericParams(vs []specVariant) []specVariant {
	if len(vs) == 0 {
		return vs
	}
	for p := range vs[0].params {
		numeric := true
		for _, v := range vs {
			if _, ok := v.values[p].(float64); !ok {
				numeric = false
			}
		}
		for i := range vs {
			vs[i].params[p].Numeric = numeric
			if f, ok := vs[i].values[p].(float64); ok && !numeric {
				vs[i].values[p] = strconv.FormatFloat(f, 'g', -1, 64)
			}
		}
	}
	return vs
}

func sameParams(a, b []results.SweepParam) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Path != b[i].Path {
			return false
		}
	}
	return true
}

func paramPaths(ps []results.SweepParam) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Path)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// seeds reads the seeds field: a list of integers, or a string of ranges.
func (spec *SweepSpec) seeds() ([]uint64, error) {
	n := &spec.Seeds
	switch n.Kind {
	case 0:
		return []uint64{1, 2, 3}, nil
	case yaml.ScalarNode:
		return ParseSeeds(n.Value)
	case yaml.SequenceNode:
		var parts []string
		for _, c := range n.Content {
			parts = append(parts, c.Value)
		}
		return ParseSeeds(strings.Join(parts, ","))
	}
	return nil, fmt.Errorf("line %d: give a list or a string such as 1-5", n.Line)
}

// ParseSeeds parses "1-5", "1,2,7" or a mix ("1-3,9") into distinct seeds
// ≥ 1, in the order given.
func ParseSeeds(spec string) ([]uint64, error) {
	var seeds []uint64
	seen := map[uint64]bool{}
	for _, f := range strings.Split(spec, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(f, "-")
		a, err := strconv.ParseUint(lo, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a seed or a range such as 1-5", f)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("%q is not a range such as 1-5", f)
			}
		}
		if a == 0 {
			return nil, errors.New("seeds must be ≥ 1")
		}
		if b-a >= 1_000_000 {
			return nil, fmt.Errorf("%q: too many seeds", f)
		}
		for s := a; s <= b; s++ {
			if seen[s] {
				return nil, fmt.Errorf("seed %d given twice", s)
			}
			seen[s] = true
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		return nil, errors.New("no seed given")
	}
	return seeds, nil
}

// cloneNode deep-copies a YAML document.
func cloneNode(n *yaml.Node) (*yaml.Node, error) {
	b, err := yaml.Marshal(n)
	if err != nil {
		return nil, err
	}
	var c yaml.Node
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// matrixKeys are the scenario keys a sweep spans itself: a variant may not
// set them.
var matrixKeys = map[string]string{"allocator": "allocators", "pricer": "pricers", "seed": "seeds"}

// setPath sets a dot-separated path in a YAML document to val, creating
// mappings on the way; a path element that is a number indexes a list.
func setPath(doc *yaml.Node, path string, val *yaml.Node) error {
	keys := strings.Split(path, ".")
	if field, ok := matrixKeys[keys[0]]; ok && len(keys) == 1 {
		return fmt.Errorf("the sweep sets %s itself: list them under %s", keys[0], field)
	}
	n := doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			n.Content = []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}
		}
		n = n.Content[0]
	}
	for i, k := range keys {
		if k == "" {
			return errors.New("empty key in the path")
		}
		last := i == len(keys)-1
		switch n.Kind {
		case yaml.MappingNode:
			var child *yaml.Node
			for j := 0; j < len(n.Content); j += 2 {
				if n.Content[j].Value == k {
					child = n.Content[j+1]
					if last {
						n.Content[j+1] = val
					}
				}
			}
			if child == nil {
				child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
				if last {
					child = val
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, child)
			}
			n = child
		case yaml.SequenceNode:
			idx, err := strconv.Atoi(k)
			if err != nil || idx < 0 || idx >= len(n.Content) {
				return fmt.Errorf("%q: the scenario has a list of %d items there; index it with 0 to %d", k, len(n.Content), len(n.Content)-1)
			}
			if last {
				n.Content[idx] = val
			}
			n = n.Content[idx]
		default:
			return fmt.Errorf("%q: %s is a single value in the scenario, not a mapping", k, strings.Join(keys[:i], "."))
		}
	}
	return nil
}
