package fleet

import "testing"

// FuzzParseSpec: no fleet spec panics ParseSpec or New.
func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"64x1xH100", "1000x8xH100,250x8xB200", "0x8xH100", "8xH100", "1x65xB200", "3x8xp100"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseSpec(s)
		if err != nil {
			return
		}
		total := 0
		for _, x := range g {
			if x.Nodes > 0 && x.GPUsPerNode > 0 {
				total += x.Nodes * x.GPUsPerNode
			}
		}
		if total > 1<<20 {
			return // too large to build in a fuzz iteration
		}
		fl, err := New(g)
		if err == nil && fl.GPUs() != total {
			t.Fatalf("%q: %d GPUs, want %d", s, fl.GPUs(), total)
		}
	})
}
