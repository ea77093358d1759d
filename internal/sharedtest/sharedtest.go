// Package sharedtest finds the public traces that live beside the
// repository (../shared/traces), for tests that use them. A fresh clone has
// none: the tests skip, saying so.
package sharedtest

import (
	"os"
	"path/filepath"
	"testing"
)

// Traces returns ../shared/traces beside the repository root (the folder
// holding go.mod), or skips t when it is absent.
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
			t.Skip("no go.mod above the test's directory; cannot find ../shared/traces")
		}
		dir = parent
	}
	p := filepath.Join(filepath.Dir(dir), "shared", "traces")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipping: %s is absent (the public traces live beside the repository, not in it)", p)
	}
	return p
}

// Trace returns the file rel below Traces, or skips t when it is absent.
func Trace(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(Traces(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("skipping: public trace %s not found: %v", p, err)
	}
	return p
}
