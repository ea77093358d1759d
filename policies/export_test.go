package policies

import (
	"testing"

	"neosim/workloads"
)

// DistOf returns a function that parses distribution specs, failing t on a
// bad one: the tests' shorthand for workload shapes (shared by the
// internal and the external test packages).
func DistOf(t testing.TB) func(spec string) workloads.Dist {
	return func(spec string) workloads.Dist {
		d, err := workloads.ParseDist(spec)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
}
