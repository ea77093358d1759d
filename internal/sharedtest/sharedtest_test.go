package sharedtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a helper stopped it instead of
// stopping the goroutine.
type recorder struct {
	testing.TB
	failed, skipped string
}

type stopped struct{}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, a ...any) {
	r.failed = format
	panic(stopped{})
}
func (r *recorder) Skip(a ...any) {
	r.skipped = a[0].(string)
	panic(stopped{})
}

// call runs Traces in a fresh module with no ../shared beside it.
func call(t *testing.T, ci string) *recorder {
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.MkdirAll(filepath.Join(dir, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(dir, "pkg"))
	t.Setenv("CI", ci)
	r := &recorder{TB: t}
	func() {
		defer func() {
			if v := recover(); v != nil && v != (stopped{}) {
				panic(v)
			}
		}()
		Traces(r)
	}()
	return r
}

// TestMissing: without ../shared a test skips with one line locally and
// fails under CI.
func TestMissing(t *testing.T) {
	if r := call(t, ""); r.skipped == "" || r.failed != "" || strings.Contains(r.skipped, "\n") {
		t.Errorf("local run: skipped %q, failed %q; want one skip line", r.skipped, r.failed)
	}
	if r := call(t, "false"); r.skipped == "" || r.failed != "" {
		t.Errorf("CI=false: skipped %q, failed %q; want a skip", r.skipped, r.failed)
	}
	if r := call(t, "true"); r.failed == "" || r.skipped != "" || !strings.Contains(r.failed, "CI=") {
		t.Errorf("CI=true: skipped %q, failed %q; want a failure naming CI", r.skipped, r.failed)
	}
}
