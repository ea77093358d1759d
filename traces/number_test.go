package traces

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// checkParseFloat fails unless parseFloat(s) gives ParseFloat's bits and
// error.
func checkParseFloat(t *testing.T, s string) {
	t.Helper()
	got, gerr := parseFloat(s)
	want, werr := strconv.ParseFloat(s, 64)
	if math.Float64bits(got) != math.Float64bits(want) || (gerr == nil) != (werr == nil) {
		t.Fatalf("parseFloat(%q) = %v (%016x), %v; ParseFloat gives %v (%016x), %v",
			s, got, math.Float64bits(got), gerr, want, math.Float64bits(want), werr)
	}
}

// TestParseFloat compares parseFloat with strconv.ParseFloat on the edges
// of its fast path and on random decimals of every length.
func TestParseFloat(t *testing.T) {
	for _, s := range []string{"", ".", "0", "0.", ".5", "5.", "00.10", "-1.5", "+2", "1e3", "1.5e-3", "inf", "NaN",
		"1..2", "1.2.3", "1_000", "0x1p-2", " 1", "1 ",
		"9007199254740992", "9007199254740993", "900719925474099.3", "9007199254740992.0",
		"1234567890123456789", "12345678901234567890", "0.0000000000000000000001", "0.00000000000000000000001",
		"0.1", "0.2", "0.3", "2884.623644", "251774.144891", "31536000", "0.000001"} {
		checkParseFloat(t, s)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200_000 {
		whole := rng.IntN(20)
		s := ""
		for range whole {
			s += string(rune('0' + rng.IntN(10)))
		}
		if rng.IntN(4) != 0 {
			s += "."
			for range rng.IntN(25) {
				s += string(rune('0' + rng.IntN(10)))
			}
		}
		checkParseFloat(t, s)
	}
	for range 100_000 { // the decimals a writer prints: %g and fixed-point
		v := rng.ExpFloat64() * math.Pow(10, float64(rng.IntN(12)-3))
		checkParseFloat(t, strconv.FormatFloat(v, 'f', rng.IntN(10), 64))
		checkParseFloat(t, fmt.Sprint(v))
	}
}

// FuzzParseFloat compares parseFloat with strconv.ParseFloat.
func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"0", "2884.623644", "9007199254740993", "1e3", ".5"} {
		f.Add(s)
	}
	f.Fuzz(checkParseFloat)
}
