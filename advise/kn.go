package advise

import (
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// kn is the state of Kim & Nelson's fully sequential procedure (KN; "A
// fully sequential procedure for indifference-zone selection in
// simulation", ACM TOMACS 11(3), 2001) with common random numbers, and of
// Andradóttir & Kim's sequential feasibility check ("Fully sequential
// procedures for comparing constrained systems via simulation", Naval
// Research Logistics 57(5), 2010). docs/advise.md explains both.
type kn struct {
	res   *Result
	opt   *Options
	n0    int
	delta float64 // indifference zone of the net value, USD/month
	h2    float64 // KN's h² for the net value
	hf2   float64 // the feasibility check's h²
	// betaF is one check's share of α (each bound of each candidate).
	betaF float64
	// s2[i][l] is the first-stage variance of X_i − X_l (net value).
	s2 [][]float64
	// v2d, v2s are each candidate's first-stage variances of the caused
	// delay and of the slowdown increase.
	v2d, v2s []float64
}

// knH2 is KN's h² = 2η(n0 − 1), η = ½[(2α / (k − 1))^(−2/(n0−1)) − 1]
// (the constant c = 1): k − 1 comparisons share α.
func knH2(alpha float64, k, n0 int) float64 {
	pairs := float64(max(1, k-1))
	eta := 0.5 * (math.Pow(2*alpha/pairs, -2/float64(n0-1)) - 1)
	return 2 * eta * float64(n0-1)
}

func newKN(res *Result, opt Options, n0 int) *kn {
	k := len(res.Candidates)
	s := &kn{res: res, opt: &res.Options, n0: n0}
	// α is split between selection and the bounds' checks (Bonferroni):
	// half to each when there is a bound; each check of a candidate's
	// bound gets its share of the other half.
	bounds := 0
	if !math.IsNaN(opt.MaxDelayGPUHoursPerMonth) {
		bounds++
	}
	if !math.IsNaN(opt.MaxSlowdownIncrease) {
		bounds++
	}
	alphaSel := opt.Alpha
	if bounds > 0 {
		alphaSel = opt.Alpha / 2
		// One system's check is KN's two-system case (k − 1 = 1) at its
		// share of α.
		s.betaF = opt.Alpha / 2 / float64(k*bounds)
		s.hf2 = knH2(s.betaF, 2, n0)
	}
	s.h2 = knH2(alphaSel, k, n0)
	s.s2 = make([][]float64, k)
	s.v2d, s.v2s = make([]float64, k), make([]float64, k)
	best := 0.0
	for i := range k {
		ci := &res.Candidates[i]
		s.s2[i] = make([]float64, k)
		for l := range k {
			if l != i {
				s.s2[i][l] = variance(n0, func(j int) float64 { return ci.Obs[j].NetValue - res.Candidates[l].Obs[j].NetValue })
			}
		}
		s.v2d[i] = variance(n0, func(j int) float64 { return ci.Obs[j].DelayCaused })
		s.v2s[i] = variance(n0, func(j int) float64 { return ci.Obs[j].SlowdownIncrease })
		best = max(best, math.Abs(mean(ci.Obs[:n0], netValue)))
	}
	s.delta = opt.Indifference
	if s.delta <= 0 {
		s.delta = opt.IndifferenceFraction * best
	}
	if !(s.delta > 0) {
		s.delta = 1 // nothing sells anywhere: a dollar a month
	}
	return s
}

// variance is the sample variance of f(0), …, f(n−1).
func variance(n int, f func(j int) float64) float64 {
	var sum float64
	for j := range n {
		sum += f(j)
	}
	m := sum / float64(n)
	var ss float64
	for j := range n {
		d := f(j) - m
		ss += d * d
	}
	return ss / float64(n-1)
}

// contention lists the candidates still in contention.
func (s *kn) contention() []int {
	var out []int
	for i := range s.res.Candidates {
		if s.res.Candidates[i].Status == InContention {
			out = append(out, i)
		}
	}
	return out
}

// check applies the feasibility checks and then the eliminations with the
// first r seeds of every candidate in contention.
func (s *kn) check(r int) {
	cont := s.contention()
	for _, i := range cont {
		c := &s.res.Candidates[i]
		if c.Delay == Undecided {
			c.Delay = s.feasibility(c.Obs[:r], delayCaused, s.opt.MaxDelayGPUHoursPerMonth, s.v2d[i])
		}
		if c.Slowdown == Undecided {
			c.Slowdown = s.feasibility(c.Obs[:r], slowdownIncrease, s.opt.MaxSlowdownIncrease, s.v2s[i])
		}
		if c.Delay == Infeasible || c.Slowdown == Infeasible {
			c.Status, c.DecidedAt = Excluded, r
		}
	}
	cont = s.contention()
	var out []int
	by := map[int]int{}
	for _, i := range cont {
		for _, l := range cont {
			if l != i && s.res.Candidates[l].feasible() && s.beats(l, i, r) {
				out = append(out, i)
				by[i] = l
				break
			}
		}
	}
	for _, i := range out { // all at once: KN compares within the old set
		c := &s.res.Candidates[i]
		c.Status, c.DecidedAt, c.EliminatedBy = Eliminated, r, by[i]
	}
}

// beats reports whether l eliminates i after r seeds: X̄_i(r) < X̄_l(r) −
// W_il(r), W_il(r) = max{0, (δ / 2r)(h² S²_il / δ² − r)}. Candidates whose
// results are equal on every seed (the paired variance 0 and equal
// means) are one decision: the preferred one (prefer) eliminates the
// other.
func (s *kn) beats(l, i, r int) bool {
	ci, cl := &s.res.Candidates[i], &s.res.Candidates[l]
	mi, ml := mean(ci.Obs[:r], netValue), mean(cl.Obs[:r], netValue)
	s2 := s.s2[i][l]
	if s2 == 0 && mi == ml {
		return identical(ci, cl) && s.res.prefer(l, i)
	}
	w := max(0, s.delta/(2*float64(r))*(s.h2*s2/(s.delta*s.delta)-float64(r)))
	return mi < ml-w
}

// tLooks is the most looks of the t-bound shortcut of feasibility, which
// shares its α among them (Bonferroni).
const tLooks = 100

// feasibility is Andradóttir & Kim's check of one bound q after r seeds:
// with tolerance ε = Tolerance × q (or Tolerance, if q is 0) and R(r) =
// max{0, h² S² / (2ε) − ε r / 2}, Σ (Y_j − q) ≤ −R(r) is feasible and
// ≥ R(r) infeasible; otherwise undecided. That region is drawn for
// candidates within about ε of the bound; one far from it (a noisy,
// heavily loaded candidate ten times over the budget) would take hundreds
// of seeds to leave it. So for the first tLooks looks a one-sided Student-t
// bound at β/tLooks (β the check's share of α; a union bound over the
// looks keeps the error of the shortcut within β) also decides.
func (s *kn) feasibility(obs []Obs, f func(*Obs) float64, q, v2 float64) Feasibility {
	if d := s.region(obs, f, q, v2); d != Undecided {
		return d
	}
	if len(obs)-s.n0 >= tLooks {
		return Undecided
	}
	xs := make([]float64, len(obs))
	for j := range obs {
		xs[j] = f(&obs[j])
	}
	m := stat.Mean(xs, nil)
	sd := stat.StdDev(xs, nil)
	n := float64(len(xs))
	half := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(1-s.betaF/tLooks) * sd / math.Sqrt(n)
	switch {
	case m-half > q:
		return Infeasible
	case m+half <= q:
		return Feasible
	}
	return Undecided
}

// region is Andradóttir & Kim's sequential region (feasibility).
func (s *kn) region(obs []Obs, f func(*Obs) float64, q, v2 float64) Feasibility {
	eps := s.opt.Tolerance * q
	if eps <= 0 {
		eps = s.opt.Tolerance
	}
	r := float64(len(obs))
	var sum float64
	for j := range obs {
		sum += f(&obs[j]) - q
	}
	rr := max(0, s.hf2*v2/(2*eps)-eps*r/2)
	switch {
	case math.IsInf(sum, 1):
		return Infeasible
	case sum <= -rr:
		return Feasible
	case sum >= rr:
		return Infeasible
	}
	return Undecided
}
