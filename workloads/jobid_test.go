package workloads

import (
	"strconv"
	"testing"
)

// TestJobIDs: the IDs are the prefix and the job's number in decimal.
func TestJobIDs(t *testing.T) {
	for _, prefix := range []string{"", "eval-"} {
		c := newJobIDs(prefix)
		for n := 1; n <= 123_456; n++ {
			if got, want := c.next(), prefix+strconv.Itoa(n); got != want {
				t.Fatalf("job %d: ID %q, want %q", n, got, want)
			}
		}
	}
}
