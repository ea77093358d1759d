package econ

import (
	"math"
	"math/bits"
)

// u128 is an unsigned 128-bit integer, the ledger's accumulator for
// quantities that overflow int64 at fleet scale: GPU-time in
// milli-GPU-microseconds (a million GPUs for a year is 3.2e22) and revenue
// numerators in micro-dollars × milli-GPU-microseconds per GPU-hour.
// Adding is exact; overflow (beyond 3.4e38) panics, as it can only come
// from absurd input.
type u128 struct{ hi, lo uint64 }

// mul64 returns x × y.
func mul64(x, y uint64) u128 {
	hi, lo := bits.Mul64(x, y)
	return u128{hi, lo}
}

// add adds b to a.
func (a *u128) add(b u128) {
	var c uint64
	a.lo, c = bits.Add64(a.lo, b.lo, 0)
	a.hi, c = bits.Add64(a.hi, b.hi, c)
	if c != 0 {
		panic("econ: 128-bit accumulator overflow")
	}
}

// mul returns a × y.
func (a u128) mul(y uint64) u128 {
	h1, l1 := bits.Mul64(a.lo, y)
	h2, l2 := bits.Mul64(a.hi, y)
	hi, c := bits.Add64(h1, l2, 0)
	if h2 != 0 || c != 0 {
		panic("econ: 128-bit product overflow")
	}
	return u128{hi, l1}
}

// divRound returns a / d rounded to the nearest integer, halves up.
func (a u128) divRound(d uint64) u128 {
	q1, r1 := a.hi/d, a.hi%d
	q0, r := bits.Div64(r1, a.lo, d)
	q := u128{q1, q0}
	if r >= d-r { // 2r ≥ d without overflowing
		q.add(u128{0, 1})
	}
	return q
}

// int64 returns a as an int64, saturating at math.MaxInt64 (9.2e12 dollars
// in micro-dollars).
func (a u128) int64() int64 {
	if a.hi != 0 || a.lo > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(a.lo)
}

// float returns a as a float64 (rounded to 53 bits).
func (a u128) float() float64 {
	return float64(a.hi)*0x1p64 + float64(a.lo)
}
