package main

import (
	"fmt"
	"io"
	"neosim/experiment"
	"os"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// isTerminal reports whether w is a terminal (live progress) rather than a
// file or pipe (plain lines, as in CI logs).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// runsProgress reports the runs of a comparison or sweep on stderr: a live
// bar (mpb) on a terminal, else one plain line per finished run.
type runsProgress struct {
	w   io.Writer
	p   *mpb.Progress
	bar *mpb.Bar
}

// newRunsProgress starts the progress of total runs.
func newRunsProgress(w io.Writer, total int) *runsProgress {
	rp := &runsProgress{w: w}
	if isTerminal(w) {
		rp.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(200*time.Millisecond))
		rp.bar = rp.p.AddBar(int64(total),
			mpb.PrependDecorators(decor.Name("runs "), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.Elapsed(decor.ET_STYLE_GO), decor.Name(" · eta "),
				decor.AverageETA(decor.ET_STYLE_GO)))
	}
	return rp
}

// done records a finished run (experiment.RunDone callbacks come one at a
// time).
func (rp *runsProgress) done(d experiment.RunDone) {
	if rp.bar != nil {
		rp.bar.SetTotal(int64(d.Total), false) // a precision target adds runs
		rp.bar.Increment()
		return
	}
	fmt.Fprintf(rp.w, "[%d/%d] %s: %.2fs (%.1fs elapsed)\n", d.Done, d.Total, experiment.RunLabel(d.Cell, d.Seed), d.Wall.Seconds(), d.Elapsed.Seconds())
}

// finish stops the bar (after the last run or an error).
func (rp *runsProgress) finish() {
	if rp.p != nil {
		rp.bar.Abort(false)
		rp.p.Wait()
	}
}
