package results

import (
	"fmt"
	"strings"
)

// Outputs selects which data files a run writes. The summary is always
// computed and summary.arrow and run.json are always written (a run folder
// is complete with them, and sweeps resume and merge from them); jobs and
// timeseries can be left out, which saves most of a run's writing when only
// its summary is wanted (a sweep, advise). The zero value writes nothing
// optional; AllOutputs writes every file.
type Outputs uint8

// The optional outputs.
const (
	OutJobs       Outputs = 1 << iota // jobs.arrow
	OutTimeseries                     // timeseries.arrow
	OutSummary                        // summary.arrow (always written; accepted for clarity)

	AllOutputs = OutJobs | OutTimeseries | OutSummary
)

var outputNames = []struct {
	name string
	o    Outputs
}{{"jobs", OutJobs}, {"timeseries", OutTimeseries}, {"summary", OutSummary}}

// ParseOutputs parses a comma-separated list of outputs ("jobs,timeseries,
// summary"; "all" for every one). The summary is always included.
func ParseOutputs(s string) (Outputs, error) {
	o := OutSummary
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "all" {
			o |= AllOutputs
			continue
		}
		found := false
		for _, n := range outputNames {
			if n.name == part {
				o |= n.o
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("results: unknown output %q (choose from jobs, timeseries, summary, all)", part)
		}
	}
	return o, nil
}

// String returns the outputs as ParseOutputs reads them.
func (o Outputs) String() string {
	var names []string
	for _, n := range outputNames {
		if o&n.o != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ",")
}
