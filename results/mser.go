package results

// MSER5 returns the warm-up that the MSER-5 rule picks for a series of
// equally spaced observations (White 1997, "An effective truncation
// heuristic for bias reduction in simulation output", Simulation 69(6);
// Franklin & White 2008): average the series in batches of 5, and truncate
// the d batches that minimize the standard error of the remaining batch
// means' mean, MSER(d) = Σ_{j>d} (b_j − b̄_d)² / (k − d)², over d ≤ k/2.
// It returns the number of observations to drop (a multiple of 5) and
// false when the series is too short to say (fewer than 10 batches) or a
// minimum at k/2 says the run is too short to reach steady state.
func MSER5(x []float64) (drop int, ok bool) {
	const batch = 5
	k := len(x) / batch
	if k < 10 {
		return 0, false
	}
	b := make([]float64, k)
	for j := range b {
		var s float64
		for _, v := range x[j*batch : (j+1)*batch] {
			s += v
		}
		b[j] = s / batch
	}
	// Suffix sums give every MSER(d) in O(k): Σ(b − b̄)² = Σb² − (Σb)²/n.
	best, bestD := -1.0, 0
	var sum, sq float64
	stats := make([]float64, k)
	for j := k - 1; j >= 0; j-- {
		sum += b[j]
		sq += b[j] * b[j]
		n := float64(k - j)
		stats[j] = max(0, sq-sum*sum/n) / (n * n)
	}
	for d := 0; d <= k/2; d++ {
		if best < 0 || stats[d] < best {
			best, bestD = stats[d], d
		}
	}
	return bestD * batch, bestD < k/2
}
