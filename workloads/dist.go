package workloads

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"
)

// Dist is a distribution of non-negative values written as a spec string,
// so scenario files and flags share one notation:
//
//	const:V              always V
//	exp:MEAN             exponential with mean MEAN
//	uniform:A:B          uniform on [A, B)
//	lognormal:MEDIAN:SIGMA  log-normal with median MEDIAN and log-sd SIGMA
//	pareto:XM:ALPHA      Pareto with scale XM and shape ALPHA (heavy tail)
//	weibull:SCALE:SHAPE  Weibull
//	choice:V=W,V=W,…     V with probability proportional to weight W
//
// Continuous distributions are gonum's (stat/distuv) sampled by inversion
// (Quantile of a uniform draw from the caller's stream), which needs no
// allocation and keeps one draw per value, so streams stay aligned across
// runs (common random numbers).
type Dist struct {
	spec  string
	kind  string
	q     interface{ Quantile(float64) float64 }
	c     float64
	vals  []float64
	cumul []float64
}

// ParseDist reads a distribution spec (see Dist).
func ParseDist(spec string) (Dist, error) {
	d := Dist{spec: spec}
	kind, args, _ := strings.Cut(strings.TrimSpace(spec), ":")
	d.kind = kind
	nums := func(n int) ([]float64, error) {
		parts := strings.Split(args, ":")
		if len(parts) != n || args == "" {
			return nil, fmt.Errorf("distribution %q: %s takes %d parameter(s) separated by ':'", spec, kind, n)
		}
		out := make([]float64, n)
		for i, p := range parts {
			v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("distribution %q: parameter %q is not a number", spec, p)
			}
			out[i] = v
		}
		return out, nil
	}
	positive := func(p []float64) error {
		for _, v := range p {
			if v <= 0 {
				return fmt.Errorf("distribution %q: parameters must be > 0", spec)
			}
		}
		return nil
	}
	var p []float64
	var err error
	switch kind {
	case "const":
		if p, err = nums(1); err == nil && p[0] < 0 {
			err = fmt.Errorf("distribution %q: value must be ≥ 0", spec)
		}
		if err == nil {
			d.c = p[0]
		}
	case "exp":
		if p, err = nums(1); err == nil {
			if err = positive(p); err == nil {
				d.q = distuv.Exponential{Rate: 1 / p[0]}
			}
		}
	case "uniform":
		if p, err = nums(2); err == nil {
			if p[0] < 0 || p[1] <= p[0] {
				err = fmt.Errorf("distribution %q: need 0 ≤ A < B", spec)
			} else {
				d.q = distuv.Uniform{Min: p[0], Max: p[1]}
			}
		}
	case "lognormal":
		if p, err = nums(2); err == nil {
			if err = positive(p); err == nil {
				d.q = distuv.LogNormal{Mu: math.Log(p[0]), Sigma: p[1]}
			}
		}
	case "pareto":
		if p, err = nums(2); err == nil {
			if err = positive(p); err == nil {
				d.q = distuv.Pareto{Xm: p[0], Alpha: p[1]}
			}
		}
	case "weibull":
		if p, err = nums(2); err == nil {
			if err = positive(p); err == nil {
				d.q = distuv.Weibull{Lambda: p[0], K: p[1]}
			}
		}
	case "choice":
		err = d.parseChoice(args)
	default:
		err = fmt.Errorf("distribution %q: unknown kind %q (kinds: const, exp, uniform, lognormal, pareto, weibull, choice)", spec, kind)
	}
	return d, err
}

func (d *Dist) parseChoice(args string) error {
	var total float64
	for _, item := range strings.Split(args, ",") {
		v, w, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return fmt.Errorf("distribution %q: choice item %q is not VALUE=WEIGHT", d.spec, item)
		}
		fv, err1 := strconv.ParseFloat(v, 64)
		fw, err2 := strconv.ParseFloat(w, 64)
		if err1 != nil || err2 != nil || fv < 0 || fw <= 0 || math.IsInf(fv, 0) || math.IsInf(fw, 0) {
			return fmt.Errorf("distribution %q: choice item %q needs a value ≥ 0 and a weight > 0", d.spec, item)
		}
		total += fw
		d.vals = append(d.vals, fv)
		d.cumul = append(d.cumul, total)
	}
	for i := range d.cumul {
		d.cumul[i] /= total
	}
	d.cumul[len(d.cumul)-1] = 1
	return nil
}

// String returns the spec.
func (d Dist) String() string { return d.spec }

// Sample draws one value using exactly one uniform draw from r.
func (d *Dist) Sample(r *rand.Rand) float64 {
	u := r.Float64()
	switch {
	case d.q != nil:
		return d.q.Quantile(u)
	case d.vals != nil:
		return d.vals[sort.SearchFloat64s(d.cumul, u)]
	default:
		return d.c
	}
}

// Mean returns the distribution's mean (for sizing and docs).
func (d *Dist) Mean() float64 {
	switch q := d.q.(type) {
	case distuv.Exponential:
		return q.Mean()
	case distuv.Uniform:
		return q.Mean()
	case distuv.LogNormal:
		return q.Mean()
	case distuv.Pareto:
		return q.Mean()
	case distuv.Weibull:
		return q.Mean()
	}
	if d.vals != nil {
		m, prev := 0.0, 0.0
		for i, v := range d.vals {
			m += v * (d.cumul[i] - prev)
			prev = d.cumul[i]
		}
		return m
	}
	return d.c
}

// MarshalText and UnmarshalText let a Dist sit in YAML and flags as its spec.
func (d Dist) MarshalText() ([]byte, error) { return []byte(d.spec), nil }

// UnmarshalText parses a spec; "" is the zero Dist (not set: what an unset
// Dist marshals to), which Validate of the struct holding it reports.
func (d *Dist) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Dist{}
		return nil
	}
	v, err := ParseDist(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
