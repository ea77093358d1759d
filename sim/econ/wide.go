package econ

import (
	"math/bits"
)

// u128 is an unsigned 128-bit integer, the ledger's accumulator for
// quantities that overflow int64 at fleet scale: GPU-time in
// milli-GPU-microseconds (a million GPUs for a year is 3.2e22).
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

// float returns a as a float64 (rounded to 53 bits).
func (a u128) float() float64 {
	return float64(a.hi)*0x1p64 + float64(a.lo)
}
