package workloads

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"neosim/sim"
)

// AcceptProbability returns the probability that an on-demand customer
// accepts a quote (per GPU-hour) when the list price is list, under the
// default demand curve: P(WTP ≥ quote) = 1 − F(quote/list), F the CDF of
// LogNormal(median WTPMedianRatio, log-sd WTPSigma). It is 1 for quotes
// ≤ 0, decreases in quote, and is 0 when list ≤ 0.
func AcceptProbability(quote, list float64) float64 {
	if !(list > 0) {
		return 0
	}
	if quote <= 0 {
		return 1
	}
	return 1 - distuv.LogNormal{Mu: math.Log(WTPMedianRatio), Sigma: WTPSigma}.CDF(quote/list)
}

// distRange returns the smallest and largest values d can take.
func distRange(d *Dist) (lo, hi float64) {
	switch {
	case d.q != nil:
		return d.q.Quantile(0), d.q.Quantile(1)
	case d.vals != nil:
		return slices.Min(d.vals), slices.Max(d.vals)
	}
	return d.c, d.c
}

// probAtLeast returns P(X ≥ x) for X ~ d.
func probAtLeast(d *Dist, x float64) float64 {
	switch {
	case d.q != nil:
		return 1 - d.q.(interface{ CDF(float64) float64 }).CDF(x)
	case d.vals != nil:
		p, prev := 0.0, 0.0
		for i, v := range d.vals {
			if v >= x {
				p += d.cumul[i] - prev
			}
			prev = d.cumul[i]
		}
		return p
	case d.c >= x:
		return 1
	}
	return 0
}

// AcceptProbability returns the probability that a customer of the
// segment accepts a quote (per GPU-hour): P(WTP ≥ quote). On-demand and
// spot: P(WTPRatio ≥ quote/list); reserved: P(Discount ≤ 1 − quote/list);
// serving (billed per token) accepts any quote. Call EnsureDefaults first.
func (s *ExternalSegment) AcceptProbability(quote float64) float64 {
	kind, _ := sim.ParseSegment(s.Segment)
	switch {
	case kind == sim.SegServing || quote <= 0:
		return 1
	case !(s.ListUSDPerHour > 0):
		return 0
	case kind == sim.SegReserved:
		// 1 − discount ≥ q/list ⇔ discount ≤ 1 − q/list.
		return 1 - probAtLeast(&s.Discount, math.Nextafter(1-quote/s.ListUSDPerHour, math.Inf(1)))
	}
	return probAtLeast(&s.WTPRatio, quote/s.ListUSDPerHour)
}
