// Package sharedtest finds the public traces that live beside the
// repository (../shared/traces), for tests that use them. A fresh clone has
// none: locally such a test skips with one line saying so; under CI (the
// environment variable CI set to true, which CI services set and CI has
// ../shared) it fails, saying what is missing, so that a CI run never
// passes by skipping.
package sharedtest

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Traces returns ../shared/traces beside the repository root (the folder
// holding go.mod), or skips t when it is absent (fails t under CI).
func Traces(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			missing(t, "no go.mod above the test's directory; cannot find ../shared/traces")
		}
		dir = parent
	}
	p := filepath.Join(filepath.Dir(dir), "shared", "traces")
	if _, err := os.Stat(p); err != nil {
		missing(t, p+" is absent (the public traces live beside the repository, not in it)")
	}
	return p
}

// Trace returns the file rel below Traces, or skips t when it is absent
// (fails t under CI).
func Trace(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Traces(t), rel)
	if _, err := os.Stat(p); err != nil {
		missing(t, "public trace "+p+" not found: "+err.Error())
	}
	return p
}

// CI reports whether the tests run under CI: the environment variable CI
// parses as true (GitHub Actions, GitLab and most CI services set CI=true).
func CI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// missing stops t for an absent trace: a failure under CI, else a skip.
func missing(t testing.TB, why string) {
	t.Helper()
	if CI() {
		t.Fatalf("CI=%s but %s; CI must provide ../shared beside the repository", os.Getenv("CI"), why)
	}
	t.Skip("skipping: " + why)
}
