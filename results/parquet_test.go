package results

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"neosim/sim"
)

// readParquet reads a .parquet file back with arrow-go's Parquet reader
// (file + pqarrow): its Arrow schema, row-group count (as batches) and every
// column as Go values (nil for a null).
func readParquet(t *testing.T, path string) readFile {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	schema, err := fr.Schema()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer tbl.Release()
	// The reader tags each field with its Parquet field ID ("-1": none);
	// drop that to compare with the schemas written.
	fields := schema.Fields()
	for i := range fields {
		fields[i].Metadata = arrow.Metadata{}
	}
	md := schema.Metadata()
	schema = arrow.NewSchema(fields, &md)
	out := readFile{schema: schema, batches: pf.NumRowGroups(), rows: int(tbl.NumRows()), cols: map[string][]any{}}
	for c := range int(tbl.NumCols()) {
		col := tbl.Column(c)
		var vals []any
		for _, chunk := range col.Data().Chunks() {
			for k := range chunk.Len() {
				vals = append(vals, value(chunk, k))
			}
		}
		out.cols[col.Name()] = vals
	}
	return out
}

// forEachFormat runs test as a subtest for each output format.
func forEachFormat(t *testing.T, test func(*testing.T, Format)) {
	for format := range numFormats {
		t.Run(format.String(), func(t *testing.T) { test(t, format) })
	}
}

// readData reads a data file of either format.
func readData(t *testing.T, path string) readFile {
	t.Helper()
	if filepath.Ext(path) == ".parquet" {
		return readParquet(t, path)
	}
	return readArrow(t, path)
}

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Format
		ok   bool
	}{
		{"arrow", FormatArrow, true},
		{"parquet", FormatParquet, true},
		{"", 0, false},
		{"Parquet", 0, false},
		{"ipc", 0, false},
	} {
		got, err := ParseFormat(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && got.String() != tc.in {
			t.Errorf("ParseFormat(%q).String() = %q", tc.in, got)
		}
	}
	if _, err := ParseFormat("csv"); err == nil || !bytes.Contains([]byte(err.Error()), []byte("arrow or parquet")) {
		t.Errorf("ParseFormat error does not list the choices: %v", err)
	}
	if got := FormatParquet.File("jobs"); got != "jobs.parquet" {
		t.Errorf("FormatParquet.File(jobs) = %q", got)
	}
	for _, s := range Schemas() {
		if got := FormatArrow.File(s.Name); got != s.File {
			t.Errorf("FormatArrow.File(%q) = %q, want %q", s.Name, got, s.File)
		}
	}
	if _, err := CreateFormat(t.TempDir(), numFormats); err == nil {
		t.Error("CreateFormat with an unknown format succeeded")
	}
}

// writeEngineRun simulates the test workload into dir in the given format,
// with batch rows per batch (row group).
func writeEngineRun(t *testing.T, dir string, format Format, batch, jobs int) *Writer {
	t.Helper()
	w, err := create(dir, format, batch, AllOutputs)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := runEngine(t, w, jobs, 40*sim.Hour)
	if err := w.Commit(info); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestParquetMatchesArrow: a run written as Parquet reads back (with
// arrow-go's Parquet reader) with the same schema, metadata, rows and
// values, bit for bit, as the same run written as Arrow IPC.
func TestParquetMatchesArrow(t *testing.T) {
	for _, batch := range []int{BatchRows, 64} {
		root := t.TempDir()
		arrowDir, pqDir := filepath.Join(root, "arrow"), filepath.Join(root, "parquet")
		wa := writeEngineRun(t, arrowDir, FormatArrow, batch, 400)
		wp := writeEngineRun(t, pqDir, FormatParquet, batch, 400)
		if wp.Format() != FormatParquet || wa.Format() != FormatArrow {
			t.Errorf("Format() = %v, %v", wa.Format(), wp.Format())
		}
		if wa.Summary().Jobs != wp.Summary().Jobs || wa.Summary().GPUHours != wp.Summary().GPUHours {
			t.Errorf("batch %d: summaries differ: %+v vs %+v", batch, wa.Summary(), wp.Summary())
		}
		if got, want := listAll(t, pqDir), []string{"/jobs.parquet", "/run.json", "/summary.parquet", "/timeseries.parquet"}; !slices.Equal(got, want) {
			t.Errorf("parquet run folder holds %v, want %v", got, want)
		}
		if jobs := readParquet(t, filepath.Join(pqDir, "jobs.parquet")); jobs.batches != (jobs.rows+batch-1)/batch {
			t.Errorf("jobs.parquet has %d rows in %d row groups, want one per %d rows", jobs.rows, jobs.batches, batch)
		}
		compareRunFormats(t, arrowDir, pqDir)
	}
}

// CompareRunFormats is compareRunFormats, for parquet_run_test.go (package
// results_test, which can import the runner).
var CompareRunFormats = compareRunFormats

// compareRunFormats checks that the Parquet run folder pqDir holds what the
// Arrow run folder arrowDir holds: the same schemas and metadata, row
// counts, batches (row groups) and values, compared exactly, and that
// run.json names each folder's format.
func compareRunFormats(t *testing.T, arrowDir, pqDir string) {
	t.Helper()
	for _, s := range Schemas() {
		a := readArrow(t, filepath.Join(arrowDir, FormatArrow.File(s.Name)))
		p := readParquet(t, filepath.Join(pqDir, FormatParquet.File(s.Name)))
		checkMeta(t, p, s)
		if p.rows != a.rows || p.batches != a.batches {
			t.Errorf("%s: %d rows in %d row groups, arrow has %d in %d batches", s.Name, p.rows, p.batches, a.rows, a.batches)
		}
		for _, c := range s.Columns {
			av, pv := a.cols[c.Name], p.cols[c.Name]
			if len(av) != len(pv) {
				t.Errorf("%s.%s: %d values, arrow %d", s.Name, c.Name, len(pv), len(av))
				continue
			}
			for i := range av {
				if av[i] != pv[i] { // float64s compare exactly: no NaN is written
					t.Errorf("%s.%s[%d] = %#v, arrow %#v", s.Name, c.Name, i, pv[i], av[i])
					break
				}
			}
		}
	}
	for dir, want := range map[string]Format{arrowDir: FormatArrow, pqDir: FormatParquet} {
		var run struct{ Format string }
		b, _ := os.ReadFile(filepath.Join(dir, RunFile))
		if err := json.Unmarshal(b, &run); err != nil || run.Format != want.String() {
			t.Errorf("%s: run.json format = %q (%v), want %q", dir, run.Format, err, want)
		}
	}
}

// TestParquetMetadata inspects the Parquet footer itself: the neosim keys
// and nothing else, zstd column chunks, REQUIRED/OPTIONAL as nullable says.
func TestParquetMetadata(t *testing.T) {
	dir := t.TempDir()
	writeEngineRun(t, dir, FormatParquet, 100, 300)
	for _, s := range Schemas() {
		pf, err := file.OpenParquetFile(filepath.Join(dir, FormatParquet.File(s.Name)), false)
		if err != nil {
			t.Fatal(err)
		}
		md := pf.MetaData()
		kv := map[string]string{}
		for _, k := range md.KeyValueMetadata() {
			kv[k.Key] = *k.Value
		}
		// The neosim keys, and the serialized Arrow schema.
		if len(kv) != 3 || kv[MetaSchemaVersion] != SchemaVersion || kv[MetaFile] != s.Name || kv["ARROW:schema"] == "" {
			t.Errorf("%s: key/value metadata keys %v, want %s=%s, %s=%s and ARROW:schema", s.Name, slices.Sorted(maps.Keys(kv)),
				MetaSchemaVersion, SchemaVersion, MetaFile, s.Name)
		}
		if md.NumRowGroups() == 0 {
			t.Fatalf("%s: no row group", s.Name)
		}
		rg := md.RowGroup(0)
		for i, c := range s.Columns {
			cc, err := rg.ColumnChunk(i)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Compression() != compress.Codecs.Zstd {
				t.Errorf("%s.%s: compression %v, want zstd", s.Name, c.Name, cc.Compression())
			}
			col := md.Schema.Column(i)
			if col.Name() != c.Name || (col.MaxDefinitionLevel() > 0) != c.Nullable {
				t.Errorf("%s: column %d is %s (max definition level %d), want %s nullable=%v", s.Name, i, col.Name(), col.MaxDefinitionLevel(), c.Name, c.Nullable)
			}
		}
		pf.Close()
	}
}
