package plots_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"neosim/experiment"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"neosim/internal/arrowtest"
	"neosim/results"
	"neosim/results/plots"
	"neosim/runner"
	"neosim/scenario"
	"neosim/sim"
)

// small is the default scenario on a fleet small enough for internal jobs
// to wait (so the wait CDFs have a shape), for one simulated day.
func small() *scenario.Scenario {
	s := scenario.Default()
	s.Horizon = scenario.Duration(sim.Day)
	s.Fleet = scenario.Fleet{Spec: "300x8xH100"}
	s.Failures = nil
	return s
}

var (
	runOnce, cmpOnce sync.Once
	runDir, cmpDir   string
	runErr, cmpErr   error
)

// runOutput returns a folder holding one run's output, made once per test
// binary (tests must not write plots into it: they copy it).
func runOutput(t *testing.T) string {
	t.Helper()
	runOnce.Do(func() {
		runDir, runErr = os.MkdirTemp("", "plots-run-")
		if runErr == nil {
			_, runErr = runner.Run(small(), runner.Options{Out: runDir})
		}
	})
	if runErr != nil {
		t.Fatal(runErr)
	}
	return runDir
}

// cmpOutput returns a comparison's folder: fifo and priority × flat × seeds
// 1, 2.
func cmpOutput(t *testing.T) string {
	t.Helper()
	cmpOnce.Do(func() {
		cmpDir, cmpErr = os.MkdirTemp("", "plots-cmp-")
		if cmpErr == nil {
			load := func() (*scenario.Scenario, error) { return small(), nil }
			_, cmpErr = experiment.Compare(load, experiment.CompareOptions{Allocators: []string{"fifo", "priority"},
				Pricers: []string{"flat"}, Seeds: []uint64{1, 2}, Out: cmpDir, Jobs: 4})
		}
	})
	if cmpErr != nil {
		t.Fatal(cmpErr)
	}
	return cmpDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range []string{runDir, cmpDir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

// copyTree copies the regular files under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkPNG decodes a PNG and checks its size and that something is drawn.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() != 1200 || b.Dy() < 600 || b.Dy() > 900 {
		t.Errorf("%s: %d×%d pixels, want 1200 wide and 600 to 900 high", path, b.Dx(), b.Dy())
	}
	if n := colors(img, 8); n < 8 {
		t.Errorf("%s: %d colors: blank?", path, n)
	}
}

// colors counts the distinct colors of img, up to max.
func colors(img image.Image, max int) int {
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
			if len(seen) >= max {
				return len(seen)
			}
		}
	}
	return len(seen)
}

// svgTexts parses an SVG file as XML and returns its <text> strings.
func svgTexts(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	var texts []string
	var root string
	inText := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: not XML: %v", path, err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tk.Name.Local
			}
			inText = tk.Name.Local == "text"
		case xml.EndElement:
			inText = false
		case xml.CharData:
			if inText {
				texts = append(texts, string(tk))
			}
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root element <%s>, want <svg>", path, root)
	}
	return texts
}

// hasText reports whether one of texts contains s.
func hasText(texts []string, s string) bool {
	return slices.ContainsFunc(texts, func(x string) bool { return strings.Contains(x, s) })
}

// checkFiles checks that Run or Comparison returned exactly dir/NAME.png
// and dir/NAME.svg for names, that each exists, and that no temporary file
// is left.
func checkFiles(t *testing.T, dir string, got []string, names ...string) {
	t.Helper()
	var want []string
	for _, n := range names {
		want = append(want, filepath.Join(dir, n+".png"), filepath.Join(dir, n+".svg"))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	for _, p := range want {
		if strings.HasSuffix(p, ".png") {
			checkPNG(t, p)
		}
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	if len(tmps) > 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, runOutput(t), dir)
	files, err := plots.Run(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, files, "utilization", "spot_price", "wait_cdf")

	// utilization: a legend entry for each segment that held GPUs, and
	// none for the others.
	texts := svgTexts(t, filepath.Join(dir, "utilization.svg"))
	ts := filepath.Join(dir, "timeseries.arrow")
	used := 0
	for s := sim.SegInternal; s < sim.NumSegments; s++ {
		busy, _ := arrowtest.Column(t, ts, "busy_gpus_"+strings.ReplaceAll(s.String(), "-", "_"))
		want := slices.ContainsFunc(busy, func(v float64) bool { return v > 0 })
		if got := slices.Contains(texts, s.String()); got != want {
			t.Errorf("utilization.svg: legend entry %q: %v, want %v (texts %q)", s, got, want, texts)
		}
		if want {
			used++
		}
	}
	if used < 2 {
		t.Errorf("only %d segments held GPUs: the test run is too small to check the legend", used)
	}
	if !hasText(texts, "Utilization") || !hasText(texts, "time (hours)") {
		t.Errorf("utilization.svg: no title or axis label: %q", texts)
	}

	// wait_cdf: one entry per segment with started jobs, with their count.
	texts = svgTexts(t, filepath.Join(dir, "wait_cdf.svg"))
	jobs := filepath.Join(dir, "jobs.arrow")
	waits, _ := arrowtest.Column(t, jobs, "wait_s")
	_, segs := arrowtest.Column(t, jobs, "segment")
	started := map[string]int{}
	for i, w := range waits {
		if !math.IsNaN(w) {
			started[segs[i]]++
		}
	}
	if len(started) < 2 {
		t.Fatalf("started jobs by segment %v: the test run is too small", started)
	}
	for seg, n := range started {
		if want := fmt.Sprintf("%s (%d jobs)", seg, n); !slices.Contains(texts, want) {
			t.Errorf("wait_cdf.svg: no legend entry %q in %q", want, texts)
		}
	}
	for _, tick := range []string{"1s", "1m", "1h"} {
		if !slices.Contains(texts, tick) {
			t.Errorf("wait_cdf.svg: no tick %q on the wait axis: %q", tick, texts)
		}
	}

	// spot_price: the default pricer quotes a spot price, so a line.
	texts = svgTexts(t, filepath.Join(dir, "spot_price.svg"))
	if !slices.Contains(texts, "spot price") || hasText(texts, "no spot price") {
		t.Errorf("spot_price.svg: want the line's legend entry: %q", texts)
	}

	// Deterministic: drawing again gives the same bytes.
	first := map[string][]byte{}
	for _, p := range files {
		first[p], _ = os.ReadFile(p)
	}
	if _, err := plots.Run(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range files {
		if again, _ := os.ReadFile(p); !bytes.Equal(first[p], again) {
			t.Errorf("%s differs between two draws of the same data", filepath.Base(p))
		}
	}
}

// writeArrow writes one record batch of cols (name → float64 values, NaN
// for null; or string or bool values) to path as an Arrow IPC file.
func writeArrow(t *testing.T, path string, names []string, cols []any) {
	t.Helper()
	mem := memory.NewGoAllocator()
	var fields []arrow.Field
	var arrs []arrow.Array
	n := 0
	for i, c := range cols {
		switch v := c.(type) {
		case []float64:
			b := array.NewFloat64Builder(mem)
			for _, x := range v {
				if math.IsNaN(x) {
					b.AppendNull()
				} else {
					b.Append(x)
				}
			}
			fields = append(fields, arrow.Field{Name: names[i], Type: arrow.PrimitiveTypes.Float64, Nullable: true})
			arrs = append(arrs, b.NewArray())
			n = len(v)
		case []bool:
			b := array.NewBooleanBuilder(mem)
			b.AppendValues(v, nil)
			fields = append(fields, arrow.Field{Name: names[i], Type: arrow.FixedWidthTypes.Boolean})
			arrs = append(arrs, b.NewArray())
			n = len(v)
		case []string:
			b := array.NewStringBuilder(mem)
			b.AppendValues(v, nil)
			fields = append(fields, arrow.Field{Name: names[i], Type: arrow.BinaryTypes.String})
			arrs = append(arrs, b.NewArray())
			n = len(v)
		}
	}
	sc := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(sc, arrs, int64(n))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(sc), ipc.WithZstd())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRunEdgeCases: a pricer without a spot price, no started job, and
// missing columns.
func TestRunEdgeCases(t *testing.T) {
	nan := math.NaN()
	tsNames := []string{"t_s", "gpus_total", "spot_price_usd_per_gpu_h"}
	tsCols := []any{[]float64{0, 300, 600}, []float64{8, 8, 8}, []float64{nan, nan, nan}}
	for s := sim.SegInternal; s < sim.NumSegments; s++ {
		tsNames = append(tsNames, "busy_gpus_"+strings.ReplaceAll(s.String(), "-", "_"))
		tsCols = append(tsCols, []float64{0, float64(s), 1})
	}
	dir := t.TempDir()
	writeArrow(t, filepath.Join(dir, "timeseries.arrow"), tsNames, tsCols)
	writeArrow(t, filepath.Join(dir, "jobs.arrow"), []string{"segment", "wait_s"},
		[]any{[]string{"internal", "spot"}, []float64{nan, nan}})
	files, err := plots.Run(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, files, "utilization", "spot_price", "wait_cdf")
	if texts := svgTexts(t, filepath.Join(dir, "spot_price.svg")); !hasText(texts, "no spot price") {
		t.Errorf("spot_price.svg without a spot price: no note in %q", texts)
	}
	if texts := svgTexts(t, filepath.Join(dir, "wait_cdf.svg")); !hasText(texts, "no job started") {
		t.Errorf("wait_cdf.svg without started jobs: no note in %q", texts)
	}

	// A missing column: the error names the file and the column, and no
	// file is written.
	for _, tc := range []struct {
		file, drop string
	}{
		{"timeseries.arrow", "busy_gpus_spot"},
		{"timeseries.arrow", "spot_price_usd_per_gpu_h"},
		{"jobs.arrow", "wait_s"},
	} {
		dir := t.TempDir()
		writeArrow(t, filepath.Join(dir, "timeseries.arrow"), tsNames, tsCols)
		writeArrow(t, filepath.Join(dir, "jobs.arrow"), []string{"segment", "wait_s"},
			[]any{[]string{"internal"}, []float64{3}})
		names, cols := tsNames, tsCols
		if tc.file == "jobs.arrow" {
			names, cols = []string{"segment", "queue_s"}, []any{[]string{"internal"}, []float64{3}}
		} else {
			i := slices.Index(names, tc.drop)
			names = slices.Delete(slices.Clone(names), i, i+1)
			cols = slices.Delete(slices.Clone(cols), i, i+1)
		}
		writeArrow(t, filepath.Join(dir, tc.file), names, cols)
		_, err := plots.Run(dir)
		if err == nil || !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), `"`+tc.drop+`"`) {
			t.Errorf("without %s column %s: error %v, want one naming both", tc.file, tc.drop, err)
		}
		if got, _ := filepath.Glob(filepath.Join(dir, "*.[ps][nv]g")); len(got) > 0 {
			t.Errorf("without %s column %s: files written: %v", tc.file, tc.drop, got)
		}
	}

	// A column of the wrong type.
	dir = t.TempDir()
	writeArrow(t, filepath.Join(dir, "timeseries.arrow"), tsNames, tsCols)
	writeArrow(t, filepath.Join(dir, "jobs.arrow"), []string{"segment", "wait_s"}, []any{[]string{"internal"}, []string{"3"}})
	if _, err := plots.Run(dir); err == nil || !strings.Contains(err.Error(), `column "wait_s" is utf8`) {
		t.Errorf("wait_s as strings: error %v", err)
	}
	if _, err := plots.Run(filepath.Join(dir, "nothing")); err == nil || !strings.Contains(err.Error(), "timeseries.arrow") {
		t.Errorf("no folder: error %v", err)
	}
}

func TestComparison(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, cmpOutput(t), dir)
	files, err := plots.Comparison(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, files, "frontier", "breakdown")
	checkComparisonSVGs(t, dir, []string{"fifo/flat", "priority/flat"})
}

// checkComparisonSVGs checks the frontier and breakdown SVGs of dir for
// the pair labels.
func checkComparisonSVGs(t *testing.T, dir string, pairs []string) {
	t.Helper()
	texts := svgTexts(t, filepath.Join(dir, "frontier.svg"))
	for _, p := range pairs {
		if !hasText(texts, p) {
			t.Errorf("frontier.svg: no label %q in %q", p, texts)
		}
	}
	// The first pair is the baseline: its paired Δ is 0 ± 0. The best pair
	// is ringed, whichever it is.
	for _, s := range []string{"Pareto frontier", "pair (bars: its own 95% CI)", "best, or tied with it (paired Δ)",
		"Δ 0 ± 0", "net value", "internal delay caused"} {
		if !hasText(texts, s) {
			t.Errorf("frontier.svg: no %q in %q", s, texts)
		}
	}
	texts = svgTexts(t, filepath.Join(dir, "breakdown.svg"))
	for _, p := range pairs {
		if !slices.Contains(texts, p) {
			t.Errorf("breakdown.svg: no axis label %q in %q", p, texts)
		}
	}
	for _, s := range []string{"revenue: on-demand", "cost: direct", "cost: support", "cost: delay caused"} {
		if !slices.Contains(texts, s) {
			t.Errorf("breakdown.svg: no legend entry %q in %q", s, texts)
		}
	}
	if hasText(texts, "note:") {
		t.Errorf("breakdown.svg: a note about missing runs: %q", texts)
	}
}

// TestComparisonVariants: comparison.arrow with a leading variant column,
// runs under variant=V/allocator=A/pricer=P/seed=N/.
func TestComparisonVariants(t *testing.T) {
	src := cmpOutput(t)
	dir := t.TempDir()
	variants := []string{"small", "big"}
	for _, v := range variants {
		for _, a := range []string{"allocator=fifo", "allocator=priority"} {
			copyTree(t, filepath.Join(src, a), filepath.Join(dir, "variant="+v, a))
		}
	}
	// comparison.arrow: the rows once per variant, after a variant column.
	f, err := os.Open(filepath.Join(src, "comparison.arrow"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.RecordBatch(0)
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewGoAllocator()
	vb := array.NewStringBuilder(mem)
	for _, v := range variants {
		for range rec.NumRows() {
			vb.Append(v)
		}
	}
	fields := append([]arrow.Field{{Name: "variant", Type: arrow.BinaryTypes.String}}, rec.Schema().Fields()...)
	cols := []arrow.Array{vb.NewArray()}
	for _, c := range rec.Columns() {
		cat, err := array.Concatenate([]arrow.Array{c, c}, mem)
		if err != nil {
			t.Fatal(err)
		}
		cols = append(cols, cat)
	}
	sc := arrow.NewSchema(fields, nil)
	out, err := os.Create(filepath.Join(dir, "comparison.arrow"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := ipc.NewFileWriter(out, ipc.WithSchema(sc))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(array.NewRecordBatch(sc, cols, 2*rec.NumRows())); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out.Close()

	files, err := plots.Comparison(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, files, "frontier", "breakdown")
	checkComparisonSVGs(t, dir, []string{"small · fifo/flat", "big · priority/flat"})

	// A pair without run folders is an error naming the folder.
	if err := os.RemoveAll(filepath.Join(dir, "variant=big", "allocator=priority")); err != nil {
		t.Fatal(err)
	}
	if _, err := plots.Comparison(dir); err == nil || !strings.Contains(err.Error(), filepath.Join("variant=big", "allocator=priority")) {
		t.Errorf("missing runs: error %v", err)
	}
}

// TestParquetRun: a run written as Parquet draws the same figures as the
// same run written as Arrow.
func TestParquetRun(t *testing.T) {
	pq := t.TempDir()
	if _, err := runner.Run(small(), runner.Options{Out: pq, Format: results.FormatParquet}); err != nil {
		t.Fatal(err)
	}
	ar := t.TempDir()
	copyTree(t, runOutput(t), ar)
	got, err := plots.Run(pq)
	if err != nil {
		t.Fatal(err)
	}
	want, err := plots.Run(ar)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d files from Parquet, %d from Arrow", len(got), len(want))
	}
	for i := range got {
		if filepath.Ext(got[i]) != ".svg" {
			continue
		}
		a, _ := os.ReadFile(got[i])
		b, _ := os.ReadFile(want[i])
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from the Arrow run's", filepath.Base(got[i]))
		}
	}
}
