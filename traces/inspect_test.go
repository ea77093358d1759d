package traces

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"neosim/sim"
)

func TestInspectFixture(t *testing.T) {
	// Ten jobs of 1..10 s; one takes half a GPU, one 4 GPUs.
	var b strings.Builder
	b.WriteString("job_id,submit_s,gpus,duration_s,gpu_milli,tenant,qos\n")
	for i := 1; i <= 10; i++ {
		gpus, milli, tenant, qos := 1, 1000, "acme", ""
		switch i {
		case 3:
			milli = 500
		case 7:
			gpus, tenant, qos = 4, "globex", "BE"
		}
		fmt.Fprintf(&b, "j%d,%d,%d,%d,%d,%s,%s\n", i, 3600*i, gpus, i, milli, tenant, qos)
	}
	path := writeFile(t, "jobs.csv", b.String())
	st, err := Inspect(path, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Nearest rank: p50 is value ⌈5⌉ = 5, p90 value 9, p99 value ⌈9.9⌉ = 10.
	if st.Duration != (Quantiles{Min: 1, P50: 5, Mean: 5.5, P90: 9, P99: 10, Max: 10}) {
		t.Errorf("durations %+v", st.Duration)
	}
	// Σ gpus × milli/1000 × s: 55 s, less half of job 3's 3 s, plus 3 × 7 s.
	if want := (55 - 1.5 + 21) / 3600.0; st.GPUHours != want {
		t.Errorf("GPU-hours %v; want %v", st.GPUHours, want)
	}
	if st.Jobs != 10 || st.Fractional != 1 || st.SpanDays() != 9.0/24 || fmt.Sprint(st.GPUs) != "map[1:9 4:1]" ||
		fmt.Sprint(st.Tenants) != "[{acme 9} {globex 1}]" || fmt.Sprint(st.QoS) != "[{BE 1}]" {
		t.Errorf("stats %+v", st)
	}
	var out bytes.Buffer
	if err := st.Print(&out, 1); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\nformat canonical\n",
		"\njobs 10\n",
		"\nsubmits 3,600 s to 36,000 s (0.4 days)\n",
		"\nduration (s) min 1 p50 5 mean 5.5 p90 9 p99 10 max 10\n",
		"\ntenants (2; top 1) jobs\n",
		"\nacme 9 90.0%\n",
	} {
		if got := squeeze(out.String()); !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// squeeze collapses the spaces of a table's lines (and trims them), so
// that tests do not depend on column widths.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return "\n" + strings.Join(lines, "\n")
}

func TestFormatNumbers(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{Thousands(0), "0"}, {Thousands(999), "999"}, {Thousands(1000), "1,000"},
		{Thousands(-1234567), "-1,234,567"}, {fmtDecimal(978078.47, 1), "978,078.5"},
		{fmtDecimal(-0.25, 1), "-0.2"}, {fmtSeconds(1144), "1,144"}, {fmtSeconds(10.5), "10.5"},
		{fmtSeconds(0.000001), "0.000001"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q; want %q", tt.got, tt.want)
		}
	}
}

// TestCanonicalHostColumns reads the optional qos, cpu_milli and memory_mib
// columns and rejects bad values.
func TestCanonicalHostColumns(t *testing.T) {
	h := "job_id,submit_s,gpus,duration_s,qos,cpu_milli,memory_mib\n"
	jobs, err := readAll(t, writeFile(t, "jobs.csv", h+"a,0,1,10,LS,8000,16384\nb,1,1,10,,,\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if jobs[0].QoS != "LS" || jobs[0].CPUMilli != 8000 || jobs[0].MemoryMiB != 16384 ||
		jobs[1].QoS != "" || jobs[1].CPUMilli != 0 || jobs[1].MemoryMiB != 0 {
		t.Errorf("jobs %+v", jobs)
	}
	for _, tt := range []struct{ row, field, msg string }{
		{"a,0,1,10,LS,-1,0\n", "cpu_milli", "-1 must be ≥ 0"},
		{"a,0,1,10,LS,1.5,0\n", "cpu_milli", "1.5 is not a whole number"},
		{"a,0,1,10,LS,0,3000000000\n", "memory_mib", "3000000000 is too large"},
	} {
		_, err := readAll(t, writeFile(t, "jobs.csv", h+tt.row), Options{})
		if e := asError(t, err); e.Line != 2 || e.Field != tt.field || !strings.Contains(e.Msg, tt.msg) {
			t.Errorf("%q: error %v; want line 2, field %s: %s", tt.row, err, tt.field, tt.msg)
		}
	}
	// The writer refuses what the reader would.
	w, err := Create(filepath.Join(t.TempDir(), "out.arrow"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.Write(&sim.JobSpec{ID: "a", GPUs: 1, Milli: 1000, Work: 1, MemoryMiB: -1}); err == nil || !strings.Contains(err.Error(), `field "memory_mib"`) {
		t.Errorf("Write(memory -1) = %v", err)
	}
}

// TestConvertErrors checks that a failed conversion leaves no output.
func TestConvertErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "pods.csv")
	bad := openbFixture + "pod-g,1,1,1,1000,,LS,Running,3,10,3\n" // unsorted
	if err := os.WriteFile(in, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.parquet")
	_, err := Convert(in, "", out, Options{Warn: io.Discard})
	if e := asError(t, err); e.Line != 8 || e.Field != "creation_time" {
		t.Errorf("Convert error %v; want line 8, creation_time", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries; want only the input", len(entries))
	}
	if _, err := Convert(in, "", in, Options{}); err == nil || !strings.Contains(err.Error(), "is the input") {
		t.Errorf("Convert onto its input = %v", err)
	}
	if _, err := Convert(in, "pai", out, Options{}); err == nil || !strings.Contains(err.Error(), `unknown trace format "pai"`) {
		t.Errorf("Convert with an unknown format = %v", err)
	}
}

// TestReadBoundedMemory replays a generated canonical trace of a million
// jobs and checks that the heap grows by the reader's duplicate-check table
// (about 20 bytes per job), far below what holding the jobs would take
// (a sim.JobSpec is 120 bytes before its strings).
func TestReadBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and reads a million-row trace")
	}
	const rows = 1_000_000
	path := filepath.Join(t.TempDir(), "jobs.csv")
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	s := sim.JobSpec{GPUs: 8, Milli: 1000, Tenant: "acme", Work: sim.Hour, QoS: "LS", CPUMilli: 8000, MemoryMiB: 65536}
	for i := range rows {
		s.ID = "job-" + fmt.Sprint(i)
		s.Submit = sim.Time(i) * sim.Second
		if err := w.Write(&s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for r.Next(&s) {
		n++
	}
	if r.Err() != nil || n != rows {
		t.Fatalf("read %d rows, err %v", n, r.Err())
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(r)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	held := int64(rows) * int64(unsafe.Sizeof(s)+uintptr(len("job-999999")))
	t.Logf("%d rows, file %.1f MB; heap grew %.1f MB (%.1f bytes/row; holding the jobs: %.0f MB)",
		rows, float64(fi.Size())/1e6, float64(growth)/1e6, float64(growth)/rows, float64(held)/1e6)
	if growth > 32*rows || growth > fi.Size()/2 {
		t.Errorf("heap grew %d bytes reading %d rows (%d-byte file): the reader holds rows", growth, rows, fi.Size())
	}
	r.Close()
}

// TestHashSet checks the duplicate table across its growth, with 0 and
// colliding slots.
func TestHashSet(t *testing.T) {
	var s hashSet
	const n = 5000
	for i := range uint64(n) {
		h := i * 1024 // all in slot 0 of a 1024-slot table: long probe runs
		if s.add(h) {
			t.Fatalf("add(%d) reported a repeat", h)
		}
	}
	for i := range uint64(n) {
		if !s.add(i * 1024) {
			t.Fatalf("add(%d) again reported new", i*1024)
		}
	}
	if s.add(1) || !s.add(1) || s.n != n || !s.zero || len(s.slots) < n*4/3 { // 0 is kept aside: n-1 in slots, and 1
		t.Errorf("n %d, %d slots", s.n, len(s.slots))
	}
}
