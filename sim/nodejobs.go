package sim

import "neosim/sim/fleet"

// nodeJobs records which running jobs hold each node, so that a failure
// finds the jobs on its node. It is updated for every share of every run
// that starts and stops (a gang restarted after a failure: thousands of
// nodes), and read only by failures, so its updates are what it is built
// for: a job that holds a node whole (every GPU, in full: a gang's nodes,
// an 8-GPU job) is one entry of owner, an array written in node order for a
// gang's contiguous nodes; only jobs that share a node are kept in a list,
// which is a slice header and an array elsewhere in memory.
type nodeJobs struct {
	owner  []JobID   // the job holding the node whole; -1 if none
	shared [][]JobID // the jobs holding part of the node, in start order
}

func newNodeJobs(nodes int) nodeJobs {
	x := nodeJobs{owner: make([]JobID, nodes), shared: make([][]JobID, nodes)}
	for n := range x.owner {
		x.owner[n] = -1
	}
	return x
}

// add records job id on share sh; whole says sh holds its node whole.
func (x *nodeJobs) add(id JobID, sh fleet.Share, whole bool) {
	if whole {
		x.owner[sh.Node] = id
		return
	}
	x.shared[sh.Node] = append(x.shared[sh.Node], id)
}

// remove forgets job id on share sh, recorded by add with the same whole.
func (x *nodeJobs) remove(id JobID, sh fleet.Share, whole bool) {
	if whole {
		x.owner[sh.Node] = -1
		return
	}
	nj := x.shared[sh.Node]
	for k, other := range nj {
		if other == id {
			nj[k] = nj[len(nj)-1]
			x.shared[sh.Node] = nj[:len(nj)-1]
			return
		}
	}
}

// first returns a job running on node n (the owner, else the first of the
// list), or false if none does.
func (x *nodeJobs) first(n fleet.NodeID) (JobID, bool) {
	if id := x.owner[n]; id >= 0 {
		return id, true
	}
	if nj := x.shared[n]; len(nj) > 0 {
		return nj[0], true
	}
	return 0, false
}

// on returns the jobs running on node n (for Check).
func (x *nodeJobs) on(n fleet.NodeID) []JobID {
	if id := x.owner[n]; id >= 0 {
		return append([]JobID{id}, x.shared[n]...)
	}
	return x.shared[n]
}
