package sim

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

// bigRound rounds num/den to the nearest integer, halves up.
func bigRound(num, den *big.Int) int64 {
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if r.Lsh(r, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64()
}

// TestRevenueExact checks every money path against math/big: GPU-hour
// prices with GPU shares, billed at one quote or run by run at each run's
// price, token prices for completed and cut-short jobs, the measurement
// window's share, and the revenue rate.
func TestRevenueExact(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	bi := func(v int64) *big.Int { return big.NewInt(v) }
	for i := range 20000 {
		j := Job{JobSpec: JobSpec{
			Segment: Segment(1 + r.IntN(int(NumSegments-1))),
			GPUs:    int32(1 + r.IntN(4096)),
			Milli:   uint16(1 + r.IntN(1000)),
			Work:    Time(1 + r.Int64N(int64(400*Day))),
		}}
		j.RunTime = Time(r.Int64N(int64(j.Work) + 1))
		if r.IntN(2) == 0 {
			j.State = Completed
		} else {
			j.State = Unfinished
		}
		token := r.IntN(2) == 0
		if token {
			j.Tokens = r.Int64N(1 << 36)                    // 6.9e10: a month of a replica at 26k tokens/s
			j.TokenPriceMicroUSD = 1 + r.Int64N(20_000_000) // up to $20 per million tokens
		} else {
			j.PriceMicroUSD = r.Int64N(50_000_000) // up to $50 per GPU-hour
		}
		if r.IntN(3) == 0 {
			j.RunTimeBeforeWindow = Time(r.Int64N(int64(j.RunTime) + 1))
		}
		// Half the GPU-hour jobs are billed run by run, as the engine does:
		// up to 3 runs, each at its own type's price.
		type run struct {
			price       int64
			ran, before Time
		}
		var runs []run
		if !token && r.IntN(2) == 0 {
			left, beforeLeft := j.RunTime, j.RunTimeBeforeWindow
			for k := 0; left > 0 || k == 0; k++ {
				ran := left
				if k < 2 {
					ran = Time(r.Int64N(int64(left) + 1))
				}
				before := min(ran, beforeLeft)
				ru := run{price: r.Int64N(50_000_000), ran: ran, before: before}
				runs = append(runs, ru)
				j.RunPriceMicroUSD = ru.price
				j.bill(ran, before)
				j.Runs++
				left -= ran
				beforeLeft -= before
			}
		}

		// What the job owes for run time run, exactly.
		want := func(run Time) int64 {
			if run <= 0 {
				return 0
			}
			if token {
				served := bi(j.Tokens)
				if j.State != Completed {
					served.Mul(served, bi(int64(min(j.RunTime, j.Work))))
					served.Quo(served, bi(int64(j.Work)))
				}
				if run != j.RunTime {
					served.Mul(served, bi(int64(run)))
					served.Quo(served, bi(int64(j.RunTime)))
				}
				return bigRound(served.Mul(served, bi(j.TokenPriceMicroUSD)), bi(1_000_000))
			}
			if len(runs) > 0 { // Σ over the runs of price × GPU-time (in the window)
				num := new(big.Int)
				for _, ru := range runs {
					t := ru.ran
					if run != j.RunTime {
						t -= ru.before
					}
					x := bi(ru.price)
					x.Mul(x, bi(int64(j.GPUs)*int64(j.Milli)))
					num.Add(num, x.Mul(x, bi(int64(t))))
				}
				return bigRound(num, bi(1000*int64(Hour)))
			}
			num := bi(j.PriceMicroUSD)
			num.Mul(num, bi(int64(j.GPUs)*int64(j.Milli)))
			num.Mul(num, bi(int64(run)))
			return bigRound(num, bi(1000*int64(Hour)))
		}
		if got, w := j.RevenueMicroUSD(), want(j.RunTime); got != w {
			t.Fatalf("job %d (%+v): revenue %d µ$, want %d", i, j.JobSpec, got, w)
		}
		if got, w := j.WindowRevenueMicroUSD(), want(j.WindowRunTime()); got != w {
			t.Fatalf("job %d: window revenue %d µ$, want %d", i, got, w)
		}
		var rate int64
		if token {
			num := bi(j.Tokens)
			num.Mul(num, bi(j.TokenPriceMicroUSD))
			num.Mul(num, bi(3_600_000))
			rate = bigRound(num, bi(int64(j.Work)))
		} else {
			rate = j.RunPriceMicroUSD * int64(j.GPUs) * int64(j.Milli)
		}
		if got := j.revenueRate(); got != rate {
			t.Fatalf("job %d: rate %d n$/h, want %d", i, got, rate)
		}
	}
	internal := Job{JobSpec: JobSpec{Segment: SegInternal, GPUs: 8, Milli: 1000, Work: Hour}, RunTime: Hour}
	internal.PriceMicroUSD = 1_000_000
	if internal.RevenueMicroUSD() != 0 || internal.revenueRate() != 0 {
		t.Error("internal work is billed")
	}
}
