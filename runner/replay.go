package runner

import (
	"fmt"
	"io"

	"neosim/scenario"
	"neosim/sim"
	"neosim/traces"
)

// afterHorizon passes a trace's jobs to the engine up to the horizon. At
// the first job submitted after it, it reads the rest of the trace only to
// count it (the rows' structure alone where the trace can, traces.CountRest)
// and ends: the engine never simulates those jobs (an arrival
// after the horizon ends the run anyway), and the run reports how many
// there were instead of losing them silently.
type afterHorizon struct {
	sim.Source
	horizon sim.Time
	// count is the number of trace jobs submitted after the horizon (the
	// first such job and every row after it), known once Next returned
	// false past the horizon.
	count int64
	// tailErr is a read error among the rows after the horizon: those rows
	// are not simulated, so it is a warning, not the run's error.
	tailErr error
	past    bool
}

// Next implements sim.Source.
func (a *afterHorizon) Next(s *sim.JobSpec) bool {
	if a.past || !a.Source.Next(s) {
		return false
	}
	if s.Submit <= a.horizon {
		return true
	}
	a.past = true
	if sk, ok := a.Source.(traces.CountRest); ok {
		n, err := sk.CountRest()
		a.count, a.tailErr = 1+n, err
		return false
	}
	var rest sim.JobSpec
	for a.count = 1; ; a.count++ {
		rest = sim.JobSpec{}
		if !a.Source.Next(&rest) {
			break
		}
	}
	a.tailErr = a.Source.Err()
	return false
}

// Err implements sim.Source: errors of the rows up to the horizon only.
func (a *afterHorizon) Err() error {
	if a.past {
		return nil
	}
	return a.Source.Err()
}

// warn reports the jobs after the horizon on one line, if any.
func (a *afterHorizon) warn(w io.Writer, trace string) {
	if a.tailErr != nil {
		fmt.Fprintf(w, "neosim: trace %s: after the horizon, counting stopped at a bad row: %v\n", trace, a.tailErr)
	}
	if a.count > 0 {
		fmt.Fprintf(w, "neosim: trace %s: %s jobs submitted after the horizon (%v) were not simulated (without --horizon the run replays the whole trace)\n",
			trace, traces.Thousands(a.count), a.horizon)
	}
}

// lastArrival reads the scenario's trace once and returns its last submit
// time: with no horizon, the synthetic sources stop arriving there, so that
// the run ends when every trace job has ended.
func lastArrival(s *scenario.Scenario) (sim.Time, error) {
	r, _, err := traces.OpenAs(s.Trace, s.TraceFormat, traces.Options{Warn: io.Discard, Models: s.GPUModels})
	if err != nil {
		return 0, err
	}
	defer r.Close()
	if ls, ok := r.(traces.LastSubmit); ok {
		if last, ok := ls.LastSubmit(); ok {
			return last, nil
		}
	}
	var last sim.Time
	var j sim.JobSpec
	for r.Next(&j) {
		last = max(last, j.Submit)
		j = sim.JobSpec{}
	}
	return last, r.Err()
}
