package traces

import (
	"neosim/internal/sharedtest"

	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"neosim/sim"
	"neosim/sim/fleet"
)

const openbHeader = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"

// openbFixture is a hand-made pod list in openb's format (no openb data):
// one pod of each kind the adapter handles.
const openbFixture = openbHeader +
	"pod-a,8000,30000,1,500,,LS,Running,0,1000,10\n" + // a shared GPU
	"pod-b,4000,0,0,0,,BE,Succeeded,5,100,5\n" + // CPU-only: skipped
	"pod-c,96000,786432,8,1000,V100M16|V100M32,BE,Failed,5,3605,6\n" + // 8 GPUs, two models
	"pod-d,1000,1024,1,1000,,Burstable,Pending,7,99,\n" + // pending: skipped
	"pod-e,1000,1024,2,300,T4,Guaranteed,Running,9,9,9\n" + // lifetime 0: skipped
	"pod-f,2000,2048,2,300,A10,,Running,10,20.5,12\n" // 2 GPUs take whole GPUs; no qos

func typeOf(t *testing.T, name string) fleet.TypeSet {
	t.Helper()
	k, ok := fleet.LookupType(name)
	if !ok {
		t.Fatalf("no catalog type %q", name)
	}
	return fleet.Only(k)
}

func TestOpenbFixture(t *testing.T) {
	path := writeFile(t, "pods.csv", openbFixture)
	if f, err := Detect(path); err != nil || f != "openb" {
		t.Fatalf("Detect = %q, %v; want openb", f, err)
	}
	var warn bytes.Buffer
	src, _, err := OpenAs(path, "", Options{Warn: &warn, Models: map[string]string{"a10": "B200"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readSource(t, src)
	if err != nil {
		t.Fatal(err)
	}
	h100 := typeOf(t, "H100-SXM")
	want := []sim.JobSpec{
		{ID: "pod-a", Submit: 0, GPUs: 1, Milli: 500, Tenant: "internal", Work: 990 * sim.Second, QoS: "LS", CPUMilli: 8000, MemoryMiB: 30000},
		{ID: "pod-c", Submit: 5 * sim.Second, GPUs: 8, Milli: 1000, GPUTypes: h100, Tenant: "internal", Work: 3599 * sim.Second,
			QoS: "BE", CPUMilli: 96000, MemoryMiB: 786432},
		{ID: "pod-f", Submit: 10 * sim.Second, GPUs: 2, Milli: 1000, GPUTypes: typeOf(t, "B200"), Tenant: "internal",
			Work: 8500 * sim.Millisecond, CPUMilli: 2000, MemoryMiB: 2048},
	}
	compareJobs(t, got, want)
	skips := src.(Skipper).Skipped()
	if fmt.Sprint(skips) != fmt.Sprint(map[string]int64{SkipCPUOnly: 1, SkipPending: 1, SkipLifetime: 1}) {
		t.Errorf("Skipped = %v", skips)
	}
	wantNote := "traces: " + path + ": skipped 3 of 6 pods: 1 " + SkipCPUOnly + ", 1 " + SkipPending + ", 1 " + SkipLifetime + "\n"
	if warn.String() != wantNote {
		t.Errorf("warnings %q; want %q", warn.String(), wantNote)
	}
}

func TestOpenbErrors(t *testing.T) {
	const ok = "p0,1000,1024,1,1000,,LS,Running,0,10,0\n"
	row := func(name, numGPU, milli, spec, created, deleted, scheduled string) string {
		return strings.Join([]string{name, "1000", "1024", numGPU, milli, spec, "LS", "Running", created, deleted, scheduled}, ",") + "\n"
	}
	tests := []struct {
		name  string
		csv   string
		line  int64
		field string
		msg   string
	}{
		{"missing column", "name,num_gpu,gpu_milli,creation_time,deletion_time\n", 0, "scheduled_time", `missing required column "scheduled_time"`},
		{"unsorted", openbHeader + ok + row("p1", "1", "1000", "", "50", "60", "50") + row("p2", "1", "1000", "", "40", "60", "50"), 4, "creation_time",
			"40 is before the previous row's 50 (line 3): openb pod lists are sorted by creation_time"},
		{"unknown gpu model", openbHeader + ok + row("p1", "1", "1000", "T4|TPUv9", "1", "9", "1"), 3, "gpu_spec", `unknown GPU model "TPUv9"`},
		{"empty gpu model", openbHeader + row("p1", "1", "1000", "T4||P100", "1", "9", "1"), 2, "gpu_spec", `"T4||P100" has an empty model name`},
		{"non-numeric num_gpu", openbHeader + ok + row("p1", "one", "1000", "", "1", "9", "1"), 3, "num_gpu", `"one" is not a whole number`},
		{"negative num_gpu", openbHeader + row("p1", "-1", "1000", "", "1", "9", "1"), 2, "num_gpu", "-1 must be ≥ 0"},
		{"gpu_milli 0", openbHeader + row("p1", "1", "0", "", "1", "9", "1"), 2, "gpu_milli", "0 is outside 1..1000 for a 1-GPU pod"},
		{"gpu_milli too big", openbHeader + row("p1", "1", "1500", "", "1", "9", "1"), 2, "gpu_milli", "1500 is outside 0..1000"},
		{"bad creation", openbHeader + row("p1", "1", "1000", "", "soon", "9", "1"), 2, "creation_time", `"soon" is not a number`},
		{"negative deletion", openbHeader + row("p1", "1", "1000", "", "1", "-9", "1"), 2, "deletion_time", "-9 must be ≥ 0"},
		{"empty name", openbHeader + row("", "1", "1000", "", "1", "9", "1"), 2, "name", "is empty"},
		{"duplicate name", openbHeader + ok + row("p1", "1", "1000", "", "1", "9", "1") + row("p0", "1", "1000", "", "1", "9", "1"), 4, "name",
			`duplicate name "p0" (first on line 2)`},
		{"negative cpu", openbHeader + "p1,-5,1024,1,1000,,LS,Running,0,10,0\n", 2, "cpu_milli", "-5 must be ≥ 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "pods.csv", tt.csv)
			src, err := OpenOpenb(path, Options{Warn: io.Discard})
			if err == nil {
				_, err = readSource(t, src)
			}
			if err == nil {
				t.Fatal("no error")
			}
			e := asError(t, err)
			if e.File != path || e.Line != tt.line || e.Field != tt.field || !strings.Contains(e.Error(), tt.msg) {
				t.Errorf("error %q: file %q line %d field %q; want line %d field %q containing %q",
					e, e.File, e.Line, e.Field, tt.line, tt.field, tt.msg)
			}
		})
	}
}

// TestOpenbDuplicateAfterCollision forces every name to the same hash:
// distinct names pass, a repeated one is caught after the file is read
// again.
func TestOpenbDuplicateAfterCollision(t *testing.T) {
	path := writeFile(t, "pods.csv", openbHeader+
		"a,1,1,1,1000,,LS,Running,0,10,0\nb,1,1,1,1000,,LS,Running,1,10,1\nc,1,1,1,1000,,LS,Running,2,10,2\nb,1,1,1,1000,,LS,Running,3,10,3\n")
	r, err := OpenOpenb(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.ids.hash = func(string) uint64 { return 7 }
	jobs, err := readSource(t, r)
	if len(jobs) != 3 || err == nil || !strings.Contains(err.Error(), `pods.csv:5: field "name": duplicate name "b" (first on line 3)`) {
		t.Fatalf("read %d jobs, err %v", len(jobs), err)
	}
}

// TestOpenbShared inspects the public default pod list and checks the
// statistics of ../shared/traces/alibaba-openb-2023/SOURCE.md.
func TestOpenbShared(t *testing.T) {
	path := filepath.Join(sharedtest.Traces(t), "alibaba-openb-2023", "openb_pod_list_default.csv")
	st, err := Inspect(path, "", Options{Warn: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	// SOURCE.md: 8,152 pods, 7,064 GPU pods, 1,088 CPU-only, 897 pending
	// (no scheduled_time). The adapter replays the GPU pods that ran: the
	// 861 pending GPU pods (860 of 1 GPU, 1 of 2; the other 36 pending pods
	// are CPU-only) are skipped, leaving 6,203 jobs.
	if st.Format != "openb" || st.Jobs != 6_203 || st.Skipped[SkipCPUOnly] != 1_088 || st.Skipped[SkipPending] != 861 || len(st.Skipped) != 2 {
		t.Errorf("format %q, %d jobs, skipped %v", st.Format, st.Jobs, st.Skipped)
	}
	if pods := st.Jobs + st.Skipped[SkipCPUOnly] + st.Skipped[SkipPending]; pods != 8_152 || pods-st.Skipped[SkipCPUOnly] != 7_064 {
		t.Errorf("%d pods; want 8,152 of which 7,064 GPU pods", pods)
	}
	// SOURCE.md's num_gpu histogram of GPU pods {1: 6989, 2: 16, 4: 15,
	// 8: 44} less the pending ones.
	want := map[int32]int64{1: 6_989 - 860, 2: 16 - 1, 4: 15, 8: 44}
	if fmt.Sprint(st.GPUs) != fmt.Sprint(want) {
		t.Errorf("GPUs histogram %v; want %v", st.GPUs, want)
	}
	if st.FirstSubmit != 0 || st.LastSubmit != 12_901_761*sim.Second || math.Round(st.SpanDays()*10) != 1493 {
		t.Errorf("submits %v..%v (%.2f days); want 0..12,901,761 s, 149.3 days", st.FirstSubmit, st.LastSubmit, st.SpanDays())
	}
	// SOURCE.md's lifetime (deletion − scheduled: median 616 s, mean
	// 28,949 s) is over all 7,255 scheduled pods, CPU-only ones included;
	// over the GPU pods alone it is median 655 s, mean 30,851.1 s (checked
	// with python csv). TestOpenbSharedLifetime checks SOURCE.md's figure.
	d := st.Duration
	if d.Min != 4 || d.P50 != 655 || math.Abs(d.Mean-30_851.1) > 0.05 || d.Max != 12_537_496 {
		t.Errorf("durations %+v; want min 4, p50 655, mean 30,851.1, max 12,537,496", d)
	}
	if qos := fmt.Sprint(st.QoS); qos != "[{LS 3590} {BE 2510} {Burstable 97} {Guaranteed 6}]" {
		t.Errorf("QoS %s", qos)
	}
}

// TestOpenbSharedLifetime checks that the adapter's duration is SOURCE.md's
// lifetime: counting the CPU-only pods as 1-GPU pods (in a temporary copy of
// the file) gives its 7,255 scheduled pods, median 616 s and mean 28,949 s.
func TestOpenbSharedLifetime(t *testing.T) {
	in, err := os.ReadFile(filepath.Join(sharedtest.Traces(t), "alibaba-openb-2023", "openb_pod_list_default.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(in)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		if r[3] == "0" {
			r[3], r[4] = "1", "1000"
		}
	}
	var out bytes.Buffer
	csv.NewWriter(&out).WriteAll(recs)
	st, err := Inspect(writeFile(t, "pods.csv", out.String()), "openb", Options{Warn: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if st.Jobs != 7_255 || st.Duration.P50 != 616 || math.Round(st.Duration.Mean) != 28_949 {
		t.Errorf("%d jobs, durations %+v; want 7,255, median 616, mean 28,949", st.Jobs, st.Duration)
	}
}

// openbBytes reads a pod list from memory.
func openbBytes(data []byte, opts Options) (*OpenbReader, error) {
	return newOpenb(loc{file: "fuzz.csv"}, func(l *loc) (*csvBackend, error) {
		return newCSV(l, bytes.NewReader(data))
	}, opts)
}

func FuzzReadOpenb(f *testing.F) {
	f.Add([]byte(openbFixture))
	f.Add([]byte(openbHeader + "a,1,1,1,1000,,LS,Running,0,10,0\na,1,1,1,1000,,LS,Running,0,10,0\n"))
	f.Add([]byte(openbHeader + "a,1,1,1,1000,,LS,Running,5,10,0\nb,1,1,1,1000,,LS,Running,4,10,0\n"))
	f.Add([]byte(openbHeader + "a,1,1,3,7,G2|A10,LS,Running,1e12,1e12,0.0000001\nb,x,1,1,1000,MI300,,,NaN,1,\n"))
	f.Add([]byte("num_gpu,name,gpu_milli,scheduled_time,creation_time,deletion_time\n1,a,10,,0,5\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := openbBytes(data, Options{Warn: io.Discard})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Open error %v is a %T, not an *Error", err, err)
			}
			return
		}
		defer r.Close()
		var jobs []sim.JobSpec
		var s sim.JobSpec
		for n := 0; n < 10000 && r.Next(&s); n++ {
			jobs = append(jobs, s)
		}
		checkJobs(t, jobs)
		if err := r.Err(); err != nil {
			if e, ok := err.(*Error); !ok || e.Line < 1 {
				t.Fatalf("row error %v (%T) has no line", err, err)
			}
		}
	})
}
