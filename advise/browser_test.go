package advise

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The browser check of report.html (make test-browser): it runs only where
// NEOSIM_CHROMIUM names a Chromium binary (the Makefile sets it), so that
// `go test ./...` needs no browser.

// chromium runs headless Chromium on a local file with its console logged
// to stderr; extra are the flags of what to do (--dump-dom,
// --screenshot=…).
func chromium(t *testing.T, bin, page string, extra ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0", "--window-size=1280,2000"}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+page)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, e.String())
	}
	return o.String(), e.String()
}

// consoleLine matches Chromium's log line for a page's console message or
// uncaught error (`INFO:CONSOLE:1] "boom", source: file:///…`; older
// builds write CONSOLE(1)) and a failed load of a resource ("net::ERR_…").
var consoleLine = regexp.MustCompile(`(?m)^.*(:CONSOLE[:(]\d+\)?\]|Uncaught|net::ERR_).*$`)

// consoleErrors returns the console lines of a page of ours: report.html
// runs no script, so any console message at all is a fault.
func consoleErrors(stderr string) []string { return consoleLine.FindAllString(stderr, -1) }

func TestReportInChromium(t *testing.T) {
	bin := os.Getenv("NEOSIM_CHROMIUM")
	if bin == "" {
		t.Skip("NEOSIM_CHROMIUM is not set: make test-browser runs this test")
	}
	dir := t.TempDir()
	// The detector must see a faulty page's console error and its uncaught
	// exception, each alone.
	for name, script := range map[string]string{"console": `console.error("boom")`, "uncaught": `undefinedFn()`} {
		bad := filepath.Join(dir, name+".html")
		if err := os.WriteFile(bad, []byte(`<!DOCTYPE html><html><body><p>x</p><script>`+script+`</script></body></html>`), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, e := chromium(t, bin, bad, "--dump-dom"); len(consoleErrors(e)) == 0 {
			t.Fatalf("the console detector missed %s on a faulty page; Chromium's log:\n%s", script, e)
		}
	}

	opt := Options{Load: loader(t, erlangYAML), Jobs: 2, BudgetRuns: 40, FirstStage: 2,
		MaxDelayGPUHoursPerMonth: 1000, MaxSlowdownIncrease: math.NaN(),
		Space: Space{Allocators: []string{PartitionAllocator}, Pricers: []string{"flat"}, Shares: []float64{0.5, 0.6}, Multipliers: []float64{1}}}
	res, err := Search(opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Write(dir, "neosim advise --browser-test"); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, ReportHTML)
	dom, stderr := chromium(t, bin, page, "--dump-dom")
	if errs := consoleErrors(stderr); len(errs) > 0 {
		t.Errorf("console errors on report.html:\n%s", strings.Join(errs, "\n"))
	}
	m := regexp.MustCompile(`(?s)<p id="recommendation"[^>]*>(.*?)</p>`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the rendered DOM has no recommendation paragraph:\n%.2000s", dom)
	}
	want := res.Sentence()
	if got := strings.ReplaceAll(m[1], "&amp;", "&"); got != want {
		t.Errorf("recommendation shows %q, want %q", got, want)
	}
	if n := strings.Count(dom, "<svg"); n != 2 {
		t.Errorf("%d inline SVG plots in the DOM, want 2", n)
	}
	if n := strings.Count(dom, "<tr class="); n != len(res.Candidates) {
		t.Errorf("%d candidate rows, want %d", n, len(res.Candidates))
	}
	// It renders: a screenshot of the page is not blank.
	shot := filepath.Join(dir, "shot.png")
	if _, e := chromium(t, bin, page, "--screenshot="+shot, "--hide-scrollbars"); len(consoleErrors(e)) > 0 {
		t.Errorf("console errors while taking the screenshot:\n%s", strings.Join(consoleErrors(e), "\n"))
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if f := inked(img); f < 0.02 {
		t.Errorf("%.1f%% of the screenshot is not white: a blank page?", 100*f)
	}
}

// inked is the share of img's pixels (on a grid of every 4th) that are
// not white.
func inked(img image.Image) float64 {
	var n, ink int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			n++
			if r, g, bl, _ := img.At(x, y).RGBA(); r&g&bl < 0xf000 {
				ink++
			}
		}
	}
	return float64(ink) / float64(max(n, 1))
}
