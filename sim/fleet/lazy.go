package fleet

import "slices"

// A lazy release. When a node fails, the engine stops the training gang on
// it and the scheduling pass of the same instant places the gang again,
// first fit, on entirely free nodes: over 60 days of the meta scenario 88%
// of the nodes of each new placement were nodes the gang had just released
// (docs/performance.md, round eight). Released and taken again, each of
// them cost two updates of every capacity tree for nothing.
//
// ReleaseLater therefore holds back the release of a gang's whole nodes.
// FirstFit for a gang of their type reads them as the entirely free nodes
// they would be, beside the trees; Allocate takes back those of them in its
// placement as they stand, and releases the others. Any other read of the
// fleet first releases what is held back (settle), so every answer is the
// one the released fleet would give, and the versions, free counters and
// per-node state end the same. The one difference is where a first-fit
// hint points (a lower bound on the first node with room, which sets where
// a search starts, never what it finds).
//
// The bucket indexes (buckets.go) are unordered sets whose order follows
// the sequence of operations, which a node freed and taken again changes:
// once they are built, ReleaseLater releases at once.
//
// A method that reads free capacity (GPUs' free shares, the counters, the
// trees, the bucket indexes through index) must call f.settle() first;
// TestLazyReleaseMatchesEager compares a lazy fleet with an eager one
// through the methods it calls, so a new such method belongs in it too.

// lazyRelease is the held-back release of one gang's whole nodes.
type lazyRelease struct {
	shares []Share // whole-node shares of one GPU type, by rising node
	typ    TypeID
	gpus   int64  // GPUs on those nodes
	on     []bool // node n is held back (sized on first use)
	rest   []Share
}

// ReleaseLater returns the shares' capacity, as Release does; the whole
// nodes of a gang (two or more shares in rising node order) may be
// released only when something reads them (see lazyRelease).
func (f *Fleet) ReleaseLater(shares []Share) {
	f.settle()
	if f.ix.ready || len(shares) < 2 {
		f.Release(shares)
		return
	}
	p := &f.pend
	if p.on == nil {
		p.on = make([]bool, len(f.nodeType))
	}
	t := TypeID(f.nodeType[shares[0].Node])
	p.rest = p.rest[:0]
	for i, s := range shares {
		n := int(s.Node)
		if (i > 0 && s.Node <= shares[i-1].Node) || TypeID(f.nodeType[n]) != t {
			p.clear()
			f.Release(shares)
			return
		}
		if f.HoldsWhole(s) && f.wholeApplies(n, +1) {
			p.shares = append(p.shares, s)
			p.gpus += int64(f.nodeGPUs[n])
		} else {
			p.rest = append(p.rest, s)
		}
	}
	p.typ = t
	for _, s := range p.shares {
		p.on[s.Node] = true
	}
	f.version++ // the release, whenever its parts are applied
	f.applyShares(p.rest, +1)
}

func (p *lazyRelease) clear() {
	for _, s := range p.shares {
		p.on[s.Node] = false
	}
	p.shares, p.gpus = p.shares[:0], 0
}

// settle releases what ReleaseLater held back.
func (f *Fleet) settle() {
	if len(f.pend.shares) > 0 {
		f.applyShares(f.pend.shares, +1)
		f.pend.clear()
	}
}

// pendingGPUs returns the GPUs of type t on nodes held back.
func (f *Fleet) pendingGPUs(t TypeID) int64 {
	if len(f.pend.shares) > 0 && t == f.pend.typ {
		return f.pend.gpus
	}
	return 0
}

// settleFor settles unless d is a gang that only whole nodes of the held
// back type can hold (FirstFit reads held-back nodes for such a gang).
func (f *Fleet) settleFor(d Demand) {
	if len(f.pend.shares) > 0 && (d.Milli != FullGPU || d.GPUs <= f.maxGPUs[f.pend.typ]) {
		f.settle()
	}
}

// allocateHeld allocates shares while a release is held back: the held
// nodes the shares take whole are taken back as they stand, the other held
// nodes are released, then the other shares allocated, with the version
// bookkeeping of one Allocate.
func (f *Fleet) allocateHeld(shares []Share) {
	p := &f.pend
	kept := false
	for _, s := range shares {
		if p.on[s.Node] {
			if !f.HoldsWhole(s) {
				f.settle() // part of a held node: release it all first
				f.apply(shares, -1)
				return
			}
			kept = true
		}
	}
	if !kept {
		f.apply(shares, -1)
		return
	}
	f.version++
	f.taken++
	p.rest = p.rest[:0]
	for _, s := range shares {
		f.nodeTaken[s.Node] = f.taken
		if p.on[s.Node] {
			p.on[s.Node] = false // taken back as it stands
		} else {
			p.rest = append(p.rest, s)
		}
	}
	// Release the held nodes not taken back (those still marked), then
	// allocate the rest.
	p.shares = slices.DeleteFunc(p.shares, func(s Share) bool { return !p.on[s.Node] })
	f.settle()
	f.applyShares(p.rest, -1)
}

// unhold releases node n now if it is held back (SetDown takes it).
func (f *Fleet) unhold(n NodeID) {
	p := &f.pend
	if len(p.shares) == 0 || !p.on[n] {
		return
	}
	i := slices.IndexFunc(p.shares, func(s Share) bool { return s.Node == n })
	f.applyShares(p.shares[i:i+1], +1)
	p.shares = slices.Delete(p.shares, i, i+1)
	p.gpus -= int64(f.nodeGPUs[n])
	p.on[n] = false
}
