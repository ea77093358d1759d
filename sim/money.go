package sim

import (
	"math"
	"math/bits"

	"neosim/sim/fleet"
)

// Money is computed here, in integers, and nowhere else: the engine's
// revenue rate, the ledger (sim/econ) and the output writers (results) call
// these methods. (They live in sim rather than sim/econ because the engine
// needs them and sim/econ imports sim.)
//
//   - A job billed by the GPU-hour pays, for each of its runs, the run's
//     price (RunPriceMicroUSD: the price of the GPU type it ran on, µ$ per
//     GPU-hour) for the GPU-hours it held: GPUs × Milli/1000 × the run's
//     time. The engine adds each run's exact bill to the job when the run
//     ends (bill).
//   - A job billed by the token (TokenPriceMicroUSD > 0, µ$ per million
//     tokens) pays for the tokens it served: all of them if it completed,
//     else in proportion to the time it ran (TokensServed).
//
// Each job's revenue is rounded once, to the nearest micro-dollar (halves
// up); every total is the exact integer sum of those.

// microUSDPerGPUHourUnit is the GPU-time unit of a price: one GPU-hour in
// milli-GPU-microseconds (1000 × 3.6e9).
const microUSDPerGPUHourUnit = uint64(fleet.FullGPU) * uint64(Hour)

// RevenueMicroUSD returns what the job is billed for its whole life, in
// micro-dollars (0 for internal work).
func (j *Job) RevenueMicroUSD() int64 {
	if j.Runs > 0 && j.TokenPriceMicroUSD == 0 {
		return j.billed.microUSD(j.Segment)
	}
	return j.revenueFor(j.RunTime)
}

// WindowRevenueMicroUSD returns what the job is billed for the part of its
// run time inside the measurement window (Config.Warmup).
func (j *Job) WindowRevenueMicroUSD() int64 {
	if j.RunTimeBeforeWindow == 0 {
		return j.RevenueMicroUSD()
	}
	if j.Runs > 0 && j.TokenPriceMicroUSD == 0 {
		return j.billed.minus(j.billedBefore).microUSD(j.Segment)
	}
	return j.revenueFor(j.WindowRunTime())
}

// bill adds a run that held the job's GPUs for ran, before of it ahead of
// the measurement window, at the run's price.
func (j *Job) bill(ran, before Time) {
	if !j.Segment.External() || j.TokenPriceMicroUSD > 0 {
		return
	}
	rate := j.gpuHourRate(j.RunPriceMicroUSD)
	j.billed.add(bits.Mul64(rate, uint64(ran)))
	if before > 0 {
		j.billedBefore.add(bits.Mul64(rate, uint64(before)))
	}
}

// revenueFor is the bill of a job not billed run by run (a token price, or
// a job built outside the engine): its arrival quote, or its tokens, for
// run of its run time.
func (j *Job) revenueFor(run Time) int64 {
	if !j.Segment.External() || run <= 0 {
		return 0
	}
	if j.TokenPriceMicroUSD > 0 {
		tokens := j.TokensServed()
		if run != j.RunTime && j.RunTime > 0 { // the window's share of them
			tokens = mulDiv(uint64(tokens), uint64(run), uint64(j.RunTime))
		}
		// µ$ = tokens × (µ$ per 1e6 tokens) / 1e6
		hi, lo := bits.Mul64(uint64(tokens), uint64(j.TokenPriceMicroUSD))
		return divRound128(hi, lo, 1_000_000)
	}
	var w wide
	w.add(bits.Mul64(j.gpuHourRate(j.PriceMicroUSD), uint64(run)))
	return w.microUSD(j.Segment)
}

// gpuHourRate is price × milli-GPUs: µ$ × milli-GPU per GPU-hour. It fits
// 64 bits for any price below $1,000 per GPU-hour on 1.8e7 GPUs.
func (j *Job) gpuHourRate(price int64) uint64 {
	hi, rate := bits.Mul64(j.milliGPUs(), uint64(price))
	if hi != 0 || price < 0 {
		panic("sim: price × GPUs overflows 64 bits")
	}
	return rate
}

// wide is an unsigned 128-bit bill, in µ$ × milli-GPU-µs per GPU-hour.
type wide struct{ hi, lo uint64 }

func (w *wide) add(hi, lo uint64) {
	var c uint64
	w.lo, c = bits.Add64(w.lo, lo, 0)
	w.hi, c = bits.Add64(w.hi, hi, c)
	if c != 0 {
		panic("sim: 128-bit bill overflow")
	}
}

func (w wide) minus(v wide) wide {
	lo, b := bits.Sub64(w.lo, v.lo, 0)
	hi, _ := bits.Sub64(w.hi, v.hi, b)
	return wide{hi, lo}
}

// microUSD rounds the bill to micro-dollars (0 for internal work).
func (w wide) microUSD(seg Segment) int64 {
	if !seg.External() {
		return 0
	}
	return divRound128(w.hi, w.lo, microUSDPerGPUHourUnit)
}

// TokensServed returns the tokens a token-billed job served: all of them
// if it completed, else Tokens × min(RunTime, Work) / Work, rounded down.
func (j *Job) TokensServed() int64 {
	if j.State == Completed || j.Work <= 0 {
		return j.Tokens
	}
	return mulDiv(uint64(j.Tokens), uint64(min(j.RunTime, j.Work)), uint64(j.Work))
}

// revenueRate returns what the job is billed per hour while it runs, in
// nano-dollars per hour (µ$/h × 1000, so that a GPU share's rate is exact):
// the run's price × GPUs × Milli for a GPU-hour price; for a token price, its tokens'
// bill spread evenly over its Work.
func (j *Job) revenueRate() int64 {
	if !j.Segment.External() {
		return 0
	}
	if j.TokenPriceMicroUSD > 0 {
		if j.Work <= 0 {
			return 0
		}
		// n$/h = tokens × price / 1e6 µ$ × 1000 / (Work / 3.6e9 h)
		//      = tokens × price × 3.6e6 / Work
		hi, lo := bits.Mul64(uint64(j.Tokens), uint64(j.TokenPriceMicroUSD))
		if hi != 0 {
			panic("sim: token bill overflows 64 bits")
		}
		hi, lo = bits.Mul64(lo, 3_600_000)
		return divRound128(hi, lo, uint64(j.Work))
	}
	return int64(j.milliGPUs()) * j.RunPriceMicroUSD
}

// milliGPUs is the job's holding in milli-GPUs: GPUs × Milli.
func (j *Job) milliGPUs() uint64 {
	m := uint64(j.Milli)
	if m == 0 {
		m = fleet.FullGPU
	}
	return uint64(j.GPUs) * m
}

// mulDiv returns x × y / d rounded down (d > 0), computed in 128 bits.
func mulDiv(x, y, d uint64) int64 {
	hi, lo := bits.Mul64(x, y)
	if hi >= d {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, d)
	return int64(min(q, math.MaxInt64))
}

// divRound128 returns the 128-bit (hi, lo) / d rounded to the nearest
// integer, halves up, saturating at math.MaxInt64.
func divRound128(hi, lo, d uint64) int64 {
	if hi >= d {
		return math.MaxInt64
	}
	q, r := bits.Div64(hi, lo, d)
	if r >= d-r { // 2r ≥ d without overflowing
		q++
	}
	return int64(min(q, math.MaxInt64))
}
