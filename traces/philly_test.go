package traces

import (
	"neosim/internal/sharedtest"

	"bytes"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"neosim/sim"
)

const phillyHeader = "timestamp,duration,num_gpus,gpu_time,cluster\n"

// phillyFixture is a generated Philly job list: unsorted, with a submit tie
// and times around the end of DST (2017-11-05 02:00 PDT → 01:00 PST).
const phillyFixture = phillyHeader +
	"2017-11-05 01:30:00,100.0,2,200.0,vcB\n" + // row 1: the repeated hour, first occurrence (PDT) = 08:30 UTC
	"2017-11-05 00:59:00,50.0,1,50.0,vcA\n" + // row 2: 07:59 UTC
	"2017-11-05 02:10:00,10.5,8,84.0,vcA\n" + // row 3: after the change (PST) = 10:10 UTC
	"2017-11-04 23:00:00,3600,1,3600,vcC\n" + // row 4: the earliest, 06:00 UTC
	"2017-11-05 00:59:00,7,4,28,vcB\n" // row 5: ties with row 2, so comes after it

func phillyWant() []sim.JobSpec {
	job := func(row int, submit sim.Time, gpus int32, work float64, vc string) sim.JobSpec {
		return sim.JobSpec{ID: fmt.Sprintf("philly-%d", row), Submit: submit, GPUs: gpus, Milli: 1000,
			Tenant: vc, Work: sim.FromSeconds(work)}
	}
	return []sim.JobSpec{
		job(4, 0, 1, 3600, "vcC"),
		job(2, 119*sim.Minute, 1, 50, "vcA"),
		job(5, 119*sim.Minute, 4, 7, "vcB"),
		job(1, 150*sim.Minute, 2, 100, "vcB"),
		job(3, 250*sim.Minute, 8, 10.5, "vcA"),
	}
}

// readSource reads every job of a Source and closes it.
func readSource(t testing.TB, src Source) ([]sim.JobSpec, error) {
	t.Helper()
	defer src.Close()
	var jobs []sim.JobSpec
	var s sim.JobSpec
	for src.Next(&s) {
		jobs = append(jobs, s)
	}
	return jobs, src.Err()
}

func TestPhillyFixture(t *testing.T) {
	path := writeFile(t, "philly_jobs.csv", phillyFixture)
	if f, err := Detect(path); err != nil || f != "philly" {
		t.Fatalf("Detect = %q, %v; want philly", f, err)
	}
	src, format, err := OpenAs(path, "auto", Options{})
	if err != nil || format != "philly" {
		t.Fatalf("OpenAs = %q, %v", format, err)
	}
	if src.(*PhillyReader).Len() != 5 {
		t.Errorf("Len = %d; want 5", src.(*PhillyReader).Len())
	}
	got, err := readSource(t, src)
	if err != nil {
		t.Fatal(err)
	}
	compareJobs(t, got, phillyWant())
}

// TestPhillyConvertRoundTrip converts the fixture to Arrow and reads the
// result back as canonical: the same jobs.
func TestPhillyConvertRoundTrip(t *testing.T) {
	in := writeFile(t, "philly.csv", phillyFixture)
	out := filepath.Join(t.TempDir(), "philly.arrow")
	res, err := Convert(in, "", out, Options{})
	if err != nil || res.Jobs != 5 || res.Format != "philly" {
		t.Fatalf("Convert = %+v, %v", res, err)
	}
	got, err := readAll(t, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	compareJobs(t, got, phillyWant())
}

func TestPhillyErrors(t *testing.T) {
	const ok = "2017-10-07 01:11:39,74,8,592,ee9e8c\n"
	tests := []struct {
		name  string
		csv   string
		line  int64
		field string
		msg   string
	}{
		{"missing column", "timestamp,duration,num_gpus,cluster\n", 0, "gpu_time", `missing required column "gpu_time"`},
		{"bad timestamp", phillyHeader + ok + "2017-10-07T01:11:39,74,8,592,x\n", 3, "timestamp", `"2017-10-07T01:11:39" is not a time like 2017-10-07 01:11:39`},
		{"bad date", phillyHeader + "2017-02-30 01:11:39,74,8,592,x\n", 2, "timestamp", "is not a time"},
		{"bad hour", phillyHeader + "2017-10-07 24:00:00,74,8,592,x\n", 2, "timestamp", "is not a time"},
		{"empty timestamp", phillyHeader + ",74,8,592,x\n", 2, "timestamp", "is empty"},
		{"skipped hour", phillyHeader + "2017-03-12 02:30:00,1,1,1,x\n", 2, "timestamp", "does not exist in America/Los_Angeles"},
		{"non-numeric num_gpus", phillyHeader + ok + ok + "2017-10-07 01:11:39,74,eight,592,x\n", 4, "num_gpus", `"eight" is not a whole number`},
		{"zero num_gpus", phillyHeader + "2017-10-07 01:11:39,74,0,0,x\n", 2, "num_gpus", "0 must be ≥ 1"},
		{"gpu_time mismatch", phillyHeader + ok + "2017-10-07 01:11:39,74,8,593,x\n", 3, "gpu_time", "593 is not duration × num_gpus = 74 × 8 = 592"},
		{"zero duration", phillyHeader + "2017-10-07 01:11:39,0,8,0,x\n", 2, "duration", "0 must be > 0"},
		{"text duration", phillyHeader + "2017-10-07 01:11:39,long,8,0,x\n", 2, "duration", `"long" is not a number`},
		{"too few fields", phillyHeader + "2017-10-07 01:11:39,74,8\n", 2, "", "has 3 fields; the header has 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "philly.csv", tt.csv)
			_, err := OpenPhilly(path, Options{Warn: io.Discard})
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

// TestPhillyTimes checks the timestamp conversion against the time package
// over 2017, minute by minute on the DST days: the same instant, except
// that the repeated hour is taken as its first occurrence.
func TestPhillyTimes(t *testing.T) {
	var d dayCache
	l := loc{file: "t.csv"}
	tab := &table{loc: &l, idx: []int{0}, want: []string{"timestamp"}}
	check := func(wall time.Time) {
		s := wall.Format("2006-01-02 15:04:05")
		tab.rec = []string{s}
		got, err := d.parse(tab, 0)
		want, perr := time.ParseInLocation("2006-01-02 15:04:05", s, phillyZone)
		if perr != nil {
			t.Fatal(perr)
		}
		// The first instant with this wall clock.
		if early := want.Add(-time.Hour); early.Format("2006-01-02 15:04:05") == s {
			want = early
		}
		if err != nil || got != want.Unix() {
			t.Fatalf("%s: got %d, %v; want %d (%s)", s, got, err, want.Unix(), want.UTC())
		}
	}
	utc := time.UTC
	for day := time.Date(2017, 1, 1, 0, 0, 0, 0, utc); day.Year() == 2017; day = day.AddDate(0, 0, 1) {
		step := 7 * time.Hour
		if (day.Month() == 3 && day.Day() == 12) || (day.Month() == 11 && day.Day() == 5) {
			step = time.Minute
		}
		for wall := day; wall.Day() == day.Day(); wall = wall.Add(step) {
			if day.Month() == 3 && day.Day() == 12 && wall.Hour() == 2 {
				continue // does not exist; TestPhillyErrors covers it
			}
			check(wall)
		}
	}
	// The repeated hour maps to PDT explicitly.
	tab.rec = []string{"2017-11-05 01:30:00"}
	got, _ := d.parse(tab, 0)
	if want := time.Date(2017, 11, 5, 8, 30, 0, 0, utc).Unix(); got != want {
		t.Errorf("01:30 on 2017-11-05 = %d; want %d (PDT)", got, want)
	}
}

// TestPhillyShared inspects the public Philly job list and checks the
// statistics of ../shared/traces/philly-2017/SOURCE.md.
func TestPhillyShared(t *testing.T) {
	path := filepath.Join(sharedtest.Traces(t), "philly-2017", "philly_jobs_pollux.csv")
	st, err := Inspect(path, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Format != "philly" || st.Jobs != 82_247 {
		t.Errorf("format %q, %d jobs; want philly, 82,247", st.Format, st.Jobs)
	}
	want := map[int32]int64{1: 76_627, 2: 1_818, 4: 1_870, 8: 1_643, 12: 7, 16: 199, 24: 7, 32: 67, 64: 6, 128: 3}
	if fmt.Sprint(st.GPUs) != fmt.Sprint(want) {
		t.Errorf("GPUs histogram %v; want %v", st.GPUs, want)
	}
	// 2017-09-04 10:30:41 PDT to 2017-12-22 08:02:11 PST: 108 days,
	// 21:31:30 plus the hour DST gave back.
	if span := st.LastSubmit - st.FirstSubmit; st.FirstSubmit != 0 || span != (108*24+22)*sim.Hour+31*sim.Minute+30*sim.Second {
		t.Errorf("submits %v..%v; want 0..108d22h31m30s", st.FirstSubmit, st.LastSubmit)
	}
	// SOURCE.md rounds to whole GPU-hours and seconds. Its p50, p90 and
	// p99 are nearest-rank quantiles, as Inspect's, so they match exactly
	// (numpy's default interpolation would give p90 11,264.8 and p99
	// 254,758.4: the gaps to the neighboring values).
	d := st.Duration
	if math.Abs(st.GPUHours-978_078) > 0.5 || d.Min != 1 || d.P50 != 1_144 || math.Abs(d.Mean-13_136) > 0.5 ||
		d.P90 != 11_266 || d.P99 != 254_884 || d.Max != 4_628_226 {
		t.Errorf("GPU-hours %.1f, durations %+v; want 978,078 and min 1, p50 1,144, mean 13,136, p90 11,266, p99 254,884, max 4,628,226", st.GPUHours, d)
	}
	if len(st.Tenants) != 15 || st.Tenants[0] != (Count{"6214e9", 41_226}) || st.Tenants[3] != (Count{"b436b2", 7_423}) {
		t.Errorf("tenants %v; want 15 VCs, 6214e9 first with 41,226 jobs", st.Tenants)
	}
	if len(st.Skipped) != 0 {
		t.Errorf("skipped %v; want none", st.Skipped)
	}
}

// phillyBytes reads a Philly list from memory.
func phillyBytes(data []byte) (*PhillyReader, error) {
	l := &loc{file: "fuzz.csv"}
	b, err := newCSV(l, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return readPhilly(l, b, Options{Warn: io.Discard})
}

func FuzzReadPhilly(f *testing.F) {
	f.Add([]byte(phillyFixture))
	f.Add([]byte(phillyHeader + "2017-03-12 02:30:00,1,1,1,x\n2017-03-12 03:30:00,1e-7,1,1e-7,\n"))
	f.Add([]byte(phillyHeader + "9999-12-31 23:59:59,1,1,1,x\n0001-01-01 00:00:00,NaN,2,NaN,y\n"))
	f.Add([]byte("cluster,gpu_time,num_gpus,duration,timestamp\nx,2,2,1,2017-10-07 01:11:39\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := phillyBytes(data)
		if err != nil {
			if e, ok := err.(*Error); !ok {
				t.Fatalf("error %v is a %T, not an *Error", err, err)
			} else if e.File != "fuzz.csv" {
				t.Fatalf("error %v names file %q", e, e.File)
			}
			return
		}
		jobs, err := readSource(t, r)
		if err != nil {
			t.Fatal(err)
		}
		checkJobs(t, jobs)
	})
}

// checkJobs fails if jobs break the canonical format.
func checkJobs(t *testing.T, jobs []sim.JobSpec) {
	t.Helper()
	var last sim.Time
	seen := map[string]bool{}
	for _, s := range jobs {
		if field, msg := checkSpec(&s, last); msg != "" {
			t.Fatalf("invalid job %+v: %s: %s", s, field, msg)
		}
		if seen[s.ID] {
			t.Fatalf("duplicate job_id %q", s.ID)
		}
		seen[s.ID] = true
		last = s.Submit
	}
}
