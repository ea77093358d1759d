package traces

import "strconv"

// parseFloat is strconv.ParseFloat(s, 64), with a fast path for the plain
// decimals that traces are made of ("2884.623644"). A decimal of at most 19
// digits whose value m is at most 2^53, k of them after the point, is
// m / 10^k with both operands exact in a float64 (10^k is for k ≤ 22), and IEEE division
// rounds correctly: the same bits as ParseFloat's (Clinger's fast path,
// which ParseFloat itself takes after a slower scan). Anything else (a sign,
// an exponent, more digits, "inf") goes to ParseFloat.
func parseFloat(s string) (float64, error) {
	var m uint64
	digits, frac := 0, -1 // frac: digits after the point; -1 before it
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			if digits == 19 {
				return strconv.ParseFloat(s, 64)
			}
			m = m*10 + uint64(c-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0:
			frac = 0
		default:
			return strconv.ParseFloat(s, 64)
		}
	}
	if digits == 0 || m > 1<<53 {
		return strconv.ParseFloat(s, 64)
	}
	f := float64(m)
	if frac > 0 {
		f /= pow10[frac]
	}
	return f, nil
}

// pow10[k] is 10^k for the k ≤ 19 digits of the fast path.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}
