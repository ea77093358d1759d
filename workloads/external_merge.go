package workloads

import "neosim/sim"

// mergedSource merges the segments' sources by submit time.
type mergedSource struct {
	name string
	srcs []sim.Source
	pend []sim.JobSpec
	has  []bool
	err  error
}

func (m *mergedSource) pull(i int) {
	m.has[i] = m.srcs[i].Next(&m.pend[i])
	if err := m.srcs[i].Err(); !m.has[i] && err != nil && m.err == nil {
		m.err = err
	}
}

func (m *mergedSource) Name() string { return m.name }
func (m *mergedSource) Err() error   { return m.err }

func (m *mergedSource) Next(j *sim.JobSpec) bool {
	if m.err != nil {
		return false
	}
	best := -1
	for i := range m.srcs {
		if m.has[i] && (best < 0 || m.pend[i].Submit < m.pend[best].Submit) {
			best = i
		}
	}
	if best < 0 {
		return false
	}
	*j = m.pend[best]
	m.pull(best)
	return true
}
