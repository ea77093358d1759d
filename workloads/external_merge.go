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
	if m.has[i] = m.srcs[i].Next(&m.pend[i]); m.has[i] {
		return
	}
	if err := m.srcs[i].Err(); err != nil && m.err == nil {
		m.err = err
	}
}

func (m *mergedSource) Name() string { return m.name }
func (m *mergedSource) Err() error   { return m.err }

func (m *mergedSource) Next(j *sim.JobSpec) bool {
	if m.err != nil {
		return false
	}
	best, at, pend := -1, sim.Time(0), m.pend[:len(m.has)]
	for i, has := range m.has {
		if has && (best < 0 || pend[i].Submit < at) {
			best, at = i, pend[i].Submit
		}
	}
	if best < 0 {
		return false
	}
	*j = m.pend[best]
	m.pull(best)
	return true
}
