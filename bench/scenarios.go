package bench

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"neosim/scenario"
)

// The benchmark scenarios, embedded so that `neosim bench suite` runs them
// from any folder.
//
//go:embed scenarios/*.yaml
var scenarioFiles embed.FS

// DefaultSuite is what `neosim bench suite` runs without names: the fast
// scenarios. The year of a million GPUs (meta) is asked for by name.
var DefaultSuite = []string{"small", "medium"}

// ScenarioNames returns the names of the embedded benchmark scenarios
// (bench/scenarios/NAME.yaml), sorted.
func ScenarioNames() []string {
	ents, _ := fs.ReadDir(scenarioFiles, "scenarios")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// LoadScenario returns an embedded benchmark scenario by name, or, for a
// name ending in .yaml or .yml, the scenario file at that path.
func LoadScenario(name string) (*scenario.Scenario, error) {
	if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
		return scenario.Load(name)
	}
	b, err := scenarioFiles.ReadFile(path.Join("scenarios", name+".yaml"))
	if err != nil {
		return nil, fmt.Errorf("bench: no benchmark scenario %q (known: %s; or give a .yaml file)", name, strings.Join(ScenarioNames(), ", "))
	}
	return scenario.Parse("bench/scenarios/"+name+".yaml", b)
}
