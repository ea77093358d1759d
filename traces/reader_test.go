package traces

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"neosim/sim"
	"neosim/sim/fleet"
)

const header = "job_id,submit_s,gpus,duration_s\n"

// TestReadCSVErrors checks that every kind of bad input gives an *Error
// with the right file, line and field.
func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		name  string
		csv   string
		line  int64
		field string
		msg   string // a substring of the message
	}{
		{"missing required column", "job_id,submit_s,gpus\na,0,1\n", 0, "duration_s",
			`missing required column "duration_s" (header has: job_id, submit_s, gpus)`},
		{"missing two columns", "job_id,gpus\na,1\n", 0, "submit_s",
			`missing required columns "submit_s", "duration_s"`},
		{"empty file", "", 0, "", "empty file"},
		{"duplicate column", "job_id,submit_s,gpus,duration_s,GPUS\n", 1, "gpus", `column "gpus" appears twice (columns 3 and 5)`},
		{"non-numeric gpus", header + "a,0,8,10\nb,1,eight,10\n", 3, "gpus", `"eight" is not a whole number`},
		{"fractional gpus", header + "a,0,2.5,10\n", 2, "gpus", "2.5 is not a whole number"},
		{"zero gpus", header + "a,0,0,10\n", 2, "gpus", "0 must be ≥ 1"},
		{"huge gpus", header + "a,0,3000000000,10\n", 2, "gpus", "too large"},
		{"empty gpus", header + "a,0,,10\n", 2, "gpus", "is empty; the column is required"},
		{"negative duration", header + "a,0,1,10\nb,0,1,-5\n", 3, "duration_s", "-5 must be > 0"},
		{"zero duration", header + "a,0,1,0\n", 2, "duration_s", "0 must be > 0"},
		{"sub-microsecond duration", header + "a,0,1,1e-7\n", 2, "duration_s", "rounds to 0 µs"},
		{"infinite duration", header + "a,0,1,+Inf\n", 2, "duration_s", "+Inf is not a finite number"},
		{"NaN submit", header + "a,NaN,1,10\n", 2, "submit_s", "NaN is not a finite number"},
		{"negative submit", header + "a,-1,1,10\n", 2, "submit_s", "-1 must be ≥ 0"},
		{"text submit", header + "a,noon,1,10\n", 2, "submit_s", `"noon" is not a number`},
		{"enormous submit", header + "a,1e13,1,10\n", 2, "submit_s", "too large"},
		{"empty job_id", header + " ,0,1,10\n", 2, "job_id", "is empty"},
		{"duplicate job_id", header + "x,0,1,10\ny,1,1,10\nx,2,1,10\n", 4, "job_id", `duplicate job_id "x" (first on line 2)`},
		{"unsorted", header + "a,5,1,10\nb,7,1,10\nc,6,1,10\n", 4, "submit_s",
			"6 is before the previous row's 7 (line 3): the canonical format must be sorted by submit_s"},
		{"gpu_milli zero", "job_id,submit_s,gpus,duration_s,gpu_milli\na,0,1,10,0\n", 2, "gpu_milli", "0 is outside 1..1000"},
		{"gpu_milli too big", "job_id,submit_s,gpus,duration_s,gpu_milli\na,0,1,10,500\nb,0,1,10,1001\n", 3, "gpu_milli", "1001 is outside 1..1000"},
		{"unknown gpu_type", "job_id,submit_s,gpus,duration_s,gpu_type\na,0,1,10,H100\nb,0,1,10,V100\n", 3, "gpu_type",
			`unknown GPU type "V100"; known: A100-80GB, H100-SXM`},
		{"unknown segment", "job_id,submit_s,gpus,duration_s,segment\na,0,1,10,spot\nb,0,1,10,vip\n", 3, "segment",
			`unknown segment "vip" (segments: internal, on-demand`},
		{"bad priority", "job_id,submit_s,gpus,duration_s,priority\na,0,1,10,high\n", 2, "priority", `"high" is not a whole number`},
		{"priority overflow", "job_id,submit_s,gpus,duration_s,priority\na,0,1,10,9999999999\n", 2, "priority", "is outside"},
		{"negative patience", "job_id,submit_s,gpus,duration_s,patience_s\na,0,1,10,-1\n", 2, "patience_s", "-1 must be ≥ 0"},
		{"too few fields", header + "a,0,1,10\nb,0,1\n", 3, "", "has 3 fields; the header has 4"},
		{"too many fields", header + "a,0,1,10,extra\n", 2, "", "has 5 fields; the header has 4"},
		{"bare quote", header + "a,0,1,10\nb\"x,0,1,10\n", 3, "", "malformed CSV"},
		// A quoted job_id spans lines 2-3: the next row is on line 4.
		{"physical lines", header + "\"multi\nline\",0,1,10\nb,0,one,10\n", 4, "gpus", `"one" is not a whole number`},
		// Blank lines are skipped but counted.
		{"blank lines", header + "a,0,1,10\n\n\nb,0,1,-1\n", 5, "duration_s", "must be > 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "jobs.csv", tt.csv)
			_, err := readAll(t, path, Options{})
			if err == nil {
				t.Fatal("read succeeded; want an error")
			}
			e := asError(t, err)
			if e.File != path || e.Line != tt.line || e.Field != tt.field || e.Row {
				t.Errorf("error at file %q line %d (row %v) field %q; want %q line %d field %q\n%v",
					e.File, e.Line, e.Row, e.Field, path, tt.line, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), "traces: "+path) {
				t.Errorf("error %q does not start with the file", err)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    *Error
		want string
	}{
		{&Error{File: "jobs.csv", Line: 17, Field: "gpus", Msg: `"eight" is not a whole number`},
			`traces: jobs.csv:17: field "gpus": "eight" is not a whole number`},
		{&Error{File: "jobs.parquet", Line: 3, Row: true, Field: "gpus", Msg: "-1 must be ≥ 1"},
			`traces: jobs.parquet: row 3: field "gpus": -1 must be ≥ 1`},
		{&Error{File: "jobs.csv", Line: 4, Msg: "has 3 fields; the header has 4"},
			`traces: jobs.csv:4: has 3 fields; the header has 4`},
		{&Error{File: "x.csv", Msg: "cannot open", Err: os.ErrNotExist},
			`traces: x.csv: cannot open: file does not exist`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q; want %q", got, tt.want)
		}
	}
	// The missing-column message names the column once, as the brief shows.
	path := writeFile(t, "jobs.csv", "job_id,submit_s,gpus\n")
	_, err := Open(path, Options{})
	want := `traces: ` + path + `: missing required column "duration_s" (header has: job_id, submit_s, gpus)`
	if err == nil || err.Error() != want {
		t.Errorf("Open = %v; want %s", err, want)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "jobs.txt"), Options{}); err == nil || !strings.Contains(err.Error(), `unknown trace format ".txt"`) {
		t.Errorf("Open(.txt) = %v; want an unknown-format error", err)
	}
	missing := filepath.Join(dir, "nope.csv")
	_, err := Open(missing, Options{})
	if e := asError(t, err); e.File != missing || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Open(missing) = %v", err)
	}
	garbage := writeFile(t, "jobs.parquet", "this is not parquet")
	if _, err := Open(garbage, Options{}); asError(t, err).File != garbage {
		t.Errorf("Open(garbage parquet) = %v", err)
	}
	garbage = writeFile(t, "jobs.arrow", "this is not arrow either")
	if _, err := Open(garbage, Options{}); asError(t, err).File != garbage {
		t.Errorf("Open(garbage arrow) = %v", err)
	}
}

func TestReadCSVDefaultsAndParsing(t *testing.T) {
	path := writeFile(t, "jobs.csv", "\uFEFF Job_ID , submit_s,gpus,duration_s,gpu_milli,gpu_type,tenant,segment,priority,patience_s\n"+
		"a,0,8,3600,,,,,,\n"+
		"b, 1.5 ,1,0.000001,250,h100,acme,On-Demand,-3,60\n"+
		"c,1.5,8.0,1e3,1000,any,acme,spot,7,0\n"+
		"17,2,1,1,1,GB200-NVL72,x,on_demand,0,\n")
	jobs, err := readAll(t, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h100, _ := fleet.LookupType("H100")
	gb200, _ := fleet.LookupType("GB200")
	want := []sim.JobSpec{
		{ID: "a", Submit: 0, GPUs: 8, Milli: 1000, Tenant: "internal", Segment: sim.SegInternal, Work: sim.Hour},
		{ID: "b", Submit: 1500 * sim.Millisecond, GPUs: 1, Milli: 250, GPUTypes: fleet.Only(h100), Tenant: "acme", Segment: sim.SegOnDemand, Priority: -3, Work: 1, Patience: sim.Minute},
		{ID: "c", Submit: 1500 * sim.Millisecond, GPUs: 8, Milli: 1000, Tenant: "acme", Segment: sim.SegSpot, Priority: 7, Work: 1000 * sim.Second},
		{ID: "17", Submit: 2 * sim.Second, GPUs: 1, Milli: 1, GPUTypes: fleet.Only(gb200), Tenant: "x", Segment: sim.SegOnDemand, Work: sim.Second},
	}
	if !reflect.DeepEqual(jobs, want) {
		t.Errorf("read\n%+v\nwant\n%+v", jobs, want)
	}
}

func TestUnknownColumnsWarnOnce(t *testing.T) {
	var rows strings.Builder
	rows.WriteString("job_id,user,submit_s,gpus,duration_s,queue\n")
	for i := range 50 {
		rows.WriteString("j" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ",bob,1,1,1,q\n")
	}
	path := writeFile(t, "jobs.csv", rows.String())
	var warn bytes.Buffer
	jobs, err := readAll(t, path, Options{Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 50 {
		t.Fatalf("read %d jobs; want 50", len(jobs))
	}
	got := warn.String()
	if strings.Count(got, "\n") != 1 || !strings.Contains(got, `"user", "queue"`) || !strings.HasPrefix(got, "traces: "+path+": ignoring unknown columns") {
		t.Errorf("warnings:\n%s\nwant exactly one line naming \"user\" and \"queue\"", got)
	}

	// No unknown columns: no warning.
	warn.Reset()
	if _, err := readAll(t, writeFile(t, "ok.csv", header+"a,0,1,1\n"), Options{Warn: &warn}); err != nil || warn.Len() != 0 {
		t.Errorf("err %v, warnings %q; want none", err, warn.String())
	}
}

func TestReaderSource(t *testing.T) {
	path := writeFile(t, "jobs.csv", header+"a,0,1,10\n")
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var src sim.Source = r
	if src.Name() != "trace "+path {
		t.Errorf("Name() = %q", src.Name())
	}
	var s sim.JobSpec
	if !src.Next(&s) || s.ID != "a" {
		t.Fatalf("first Next: %+v, %v", s, src.Err())
	}
	if src.Next(&s) || src.Err() != nil {
		t.Fatalf("second Next: want false, nil; got err %v", src.Err())
	}
	if src.Next(&s) {
		t.Fatal("Next after the end returned true")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if r.Next(&s) {
		t.Fatal("Next after Close returned true")
	}
}

// TestDuplicateAfterCollision makes every id hash the same to check that
// collisions are told apart from duplicates, with ids in order until the
// repeat (the hashes move into the set there) and out of order from the
// start.
func TestDuplicateAfterCollision(t *testing.T) {
	for _, tc := range []struct {
		ids   []string
		first int
	}{
		{[]string{"a", "b", "c", "d", "c"}, 4},
		{[]string{"d", "c", "b", "a", "c"}, 3},
	} {
		rows := header
		for i, id := range tc.ids {
			rows += fmt.Sprintf("%s,%d,1,1\n", id, i)
		}
		path := writeFile(t, "jobs.csv", rows)
		r, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r.ids.hash = func(string) uint64 { return 42 }
		var s sim.JobSpec
		for i, want := range tc.ids[:4] {
			if !r.Next(&s) || s.ID != want {
				t.Fatalf("%v row %d: got %q, err %v", tc.ids, i, s.ID, r.Err())
			}
		}
		if r.Next(&s) {
			t.Fatalf("%v: duplicate c accepted", tc.ids)
		}
		e := asError(t, r.Err())
		if want := fmt.Sprintf(`duplicate job_id "c" (first on line %d)`, tc.first); e.Line != 6 || e.Field != "job_id" || !strings.Contains(e.Msg, want) {
			t.Errorf("%v: error %v; want %s on line 6", tc.ids, r.Err(), want)
		}
		r.Close()
	}
}

// TestExternalRows reads the segment column for an external row, in every
// format: none without the column or with internal rows only, one at the
// end, and an unknown segment (which Next reports) counted as external.
func TestExternalRows(t *testing.T) {
	csv := func(rows ...string) string {
		return strings.TrimSuffix(header, "\n") + ",segment\n" + strings.Join(rows, "")
	}
	for _, tc := range []struct {
		name, content string
		want          bool
	}{
		{"no segment column", header + "a,0,1,10\nb,1,1,10\n", false},
		{"internal only", csv("a,0,1,10,internal\n", "b,1,1,10,\n", "c,2,1,10,INTERNAL\n"), false},
		{"spot last", csv("a,0,1,10,internal\n", "b,1,1,10,internal\n", "c,2,1,10,spot\n"), true},
		{"unknown segment", csv("a,0,1,10,internal\n", "b,1,1,10,nope\n"), true},
	} {
		r, err := Open(writeFile(t, "jobs.csv", tc.content), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.ExternalRows(); got != tc.want {
			t.Errorf("%s: ExternalRows() = %v, want %v", tc.name, got, tc.want)
		}
		r.Close()
	}
	dir := t.TempDir()
	for _, ext := range []string{".arrow", ".parquet"} {
		for _, spot := range []bool{false, true} {
			jobs := genJobs(300, 9)
			for i := range jobs {
				jobs[i].Segment = sim.SegInternal
			}
			if spot {
				jobs[299].Segment = sim.SegSpot
			}
			path := filepath.Join(dir, fmt.Sprintf("jobs-%v%s", spot, ext))
			if err := Write(path, seq(jobs)); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := r.ExternalRows(); got != spot {
				t.Errorf("%s, a spot job %v: ExternalRows() = %v", ext, spot, got)
			}
			var s sim.JobSpec
			if !r.Next(&s) || s.ID != jobs[0].ID { // reading beside Next leaves Next alone
				t.Errorf("%s: Next after ExternalRows gave %q, err %v", ext, s.ID, r.Err())
			}
			r.Close()
		}
	}
}

// TestLastSubmit reads the submit column alone and agrees with the jobs'
// latest submit time in every format; a value that does not read as a time
// gives ok false (the caller reads the jobs, and Next reports it).
func TestLastSubmit(t *testing.T) {
	dir := t.TempDir()
	jobs := genJobs(500, 11)
	want := jobs[len(jobs)-1].Submit
	for _, ext := range []string{".csv", ".arrow", ".parquet"} {
		path := filepath.Join(dir, "jobs"+ext)
		if err := Write(path, seq(jobs)); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := r.LastSubmit(); !ok || got != want {
			t.Errorf("%s: LastSubmit() = %v, %v; want %v", ext, got, ok, want)
		}
		r.Close()
	}
	for _, bad := range []string{"x", "-1", "1e13"} {
		r, err := Open(writeFile(t, "jobs.csv", header+"a,0,1,10\nb,"+bad+",1,10\n"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := r.LastSubmit(); ok {
			t.Errorf("submit_s %q: LastSubmit ok", bad)
		}
		r.Close()
	}
}

// TestCountRest counts the rows after the last one Next read, without
// reading their fields (a bad value there is not a job anyone simulates),
// stops at a row that breaks the file's structure, and ends the Reader.
func TestCountRest(t *testing.T) {
	for _, tc := range []struct {
		name, rows string
		n          int64
		err        string
	}{
		{"clean", "b,1,1,10\nc,2,1,10\nd,3,1,10\n", 3, ""},
		{"a bad field", "b,1,1,10\nc,2,many,10\nd,3,1,10\n", 3, ""},
		{"a short row", "b,1,1,10\nc,2,1\nd,3,1,10\n", 1, "has 3 fields"},
	} {
		r, err := Open(writeFile(t, "jobs.csv", header+"a,0,1,10\n"+tc.rows), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var s sim.JobSpec
		if !r.Next(&s) || s.ID != "a" {
			t.Fatalf("%s: first row %q, err %v", tc.name, s.ID, r.Err())
		}
		n, err := r.CountRest()
		if n != tc.n || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: CountRest() = %d, %v; want %d, %q", tc.name, n, err, tc.n, tc.err)
		}
		if r.Next(&s) {
			t.Errorf("%s: Next after CountRest gave %q", tc.name, s.ID)
		}
		r.Close()
	}
	r, err := Open(writeFile(t, "jobs.csv", header+"a,0,1,10\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var s sim.JobSpec
	for r.Next(&s) {
	}
	if n, err := r.CountRest(); n != 0 || err != nil {
		t.Errorf("CountRest at the end = %d, %v", n, err)
	}
	r.Close()
}
