package sim

import "testing"

// FuzzParseDuration: no input panics; an accepted duration is ≥ 0 and
// formats to a string that parses back to the same value.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30d", "12h", "1d12h", "250ms", "3600", "1.5h", "2w", "", "5x", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v < 0", s, d)
		}
		if d == Forever {
			return
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v; String %q parses back to %v, %v", s, d, d.String(), back, err)
		}
	})
}
