package layers

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"path"
	"slices"
	"strings"
	"testing"
)

const module = "neosim"

// simLayer is the engine's tree: the engine, the fleet, the economics.
var simLayer = []string{"sim", "sim/econ", "sim/fleet"}

// model are the model layers: they describe jobs, fleets, policies and
// outputs, and never import a layer that runs simulations.
var model = []string{"policies", "policies/frag", "workloads", "traces", "results", "results/plots", "scenario"}

// runLayers run simulations or tools around them.
var runLayers = []string{"runner", "experiment", "advise", "bench", "bench/fragmentation", "calibrate", "cmd/neosim"}

// mayImport is the package map of docs/design.md: each package's allowed
// imports within the module. A package missing here fails the test, so a
// new package gets its line in the map.
var mayImport = map[string][]string{
	"sim/fleet":             {},
	"sim/internal/prefetch": {},
	"sim":                   append(slices.Clone(simLayer), "sim/internal/prefetch"),
	"sim/econ":              simLayer,
	"sim/simtest":           simLayer,
	"policies/frag":         simLayer,
	"policies":              append([]string{"policies/frag"}, simLayer...),
	"workloads":             simLayer,
	"traces":                simLayer,
	"results":               simLayer,
	"results/plots":         append([]string{"results"}, simLayer...),
	"scenario":              append([]string{"workloads"}, simLayer...),
	"calibrate":             simLayer,
	"runner":                append(slices.Clone(model), simLayer...),
	"experiment":            append([]string{"runner"}, append(slices.Clone(model), simLayer...)...),
	"advise":                append([]string{"runner"}, append(slices.Clone(model), simLayer...)...),
	"bench":                 append([]string{"runner", "experiment"}, append(slices.Clone(model), simLayer...)...),
	"bench/fragmentation":   append(slices.Clone(model), simLayer...),
	"cmd/neosim":            nil,            // the command line: anything
	"deploy/kubernetes":     {"experiment"}, // a test of the cluster files only
	"internal/arrowtest":    append(slices.Clone(model), simLayer...),
	"internal/sharedtest":   {},
	"internal/layers":       {},
}

type pkg struct {
	ImportPath string
	Imports    []string
}

// packages lists the module's packages and their imports (without tests)
// with go list.
func packages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var ps []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if len(ps) < len(mayImport)-3 {
		t.Fatalf("go list found %d packages", len(ps))
	}
	return ps
}

// local returns an import path relative to the module ("" if outside it),
// without a build variant suffix such as " [neosim/cmd/neosim]" (PGO).
func local(imp string) (string, bool) {
	imp, _, _ = strings.Cut(imp, " ")
	if imp == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(imp, module+"/")
	return rel, ok
}

func under(p string, roots []string) bool {
	for _, r := range roots {
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

// TestImportMap checks every package's imports against mayImport, and the
// three rules of the design (docs/design.md):
//   - sim/… imports only sim/…;
//   - the model layers never import runner, experiment, bench, calibrate
//     or cmd;
//   - calibration is not under bench/.
func TestImportMap(t *testing.T) {
	for _, p := range packages(t) {
		name, _ := local(p.ImportPath)
		allowed, known := mayImport[name]
		if !known {
			t.Errorf("package %s is not in the package map: add it to docs/design.md and to mayImport", name)
			continue
		}
		if strings.HasPrefix(name, "bench/") && strings.Contains(path.Base(name), "calibrat") {
			t.Errorf("%s: calibration lives in calibrate/, not under bench/", name)
		}
		for _, imp := range p.Imports {
			dep, ok := local(imp)
			if !ok {
				continue
			}
			switch {
			case under(name, []string{"sim"}) && !under(dep, []string{"sim"}):
				t.Errorf("%s imports %s: the engine's tree (sim/…) imports only sim/…", name, dep)
			case under(name, model) && under(dep, runLayers):
				t.Errorf("%s imports %s: a model layer imports no run layer", name, dep)
			case allowed != nil && !slices.Contains(allowed, dep):
				t.Errorf("%s imports %s, which the package map does not allow (it allows %v)", name, dep, allowed)
			}
		}
	}
}

// TestRulesBite: the checks above catch a forbidden edge (a guard against
// a test that passes because it checks nothing).
func TestRulesBite(t *testing.T) {
	if !under("sim/econ", []string{"sim"}) || under("simulate", []string{"sim"}) || !under("results/plots", model) || !under("calibrate", runLayers) {
		t.Fatal("under() misplaces packages")
	}
	if slices.Contains(mayImport["scenario"], "runner") || slices.Contains(mayImport["sim"], "workloads") {
		t.Fatal("the map allows a forbidden edge")
	}
	if d, ok := local("neosim/cmd/neosim [neosim/cmd/neosim]"); !ok || d != "cmd/neosim" {
		t.Fatalf("local() = %q, %v", d, ok)
	}
}
