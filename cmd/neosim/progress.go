package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"neosim/experiment"
	"neosim/sim"
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

// progress is the one progress display of every command, on stderr. A run
// feeds it the simulated clock (simulated): a live line on a terminal, a
// plain line every 10 s otherwise, nothing for runs shorter than 2 s. A
// comparison or sweep feeds it finished runs (runDone): a live bar (mpb)
// on a terminal, else one plain line per run. A nil *progress shows
// nothing (--quiet).
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time
	last  time.Time
	shown bool // a live line is on the terminal
	// p and bar are the runs bar, started by newRunsProgress on a terminal.
	p   *mpb.Progress
	bar *mpb.Bar
}

// newProgress starts the progress of one run.
func newProgress(w io.Writer) *progress {
	return &progress{w: w, start: time.Now(), tty: isTerminal(w)}
}

// newRunsProgress starts the progress of total runs.
func newRunsProgress(w io.Writer, total int) *progress {
	p := newProgress(w)
	if p.tty {
		p.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(200*time.Millisecond))
		p.bar = p.p.AddBar(int64(total),
			mpb.PrependDecorators(decor.Name("runs "), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.Elapsed(decor.ET_STYLE_GO), decor.Name(" · eta "),
				decor.AverageETA(decor.ET_STYLE_GO)))
	}
	return p
}

// simulated shows a run's simulated clock (runner.Options.Progress).
func (p *progress) simulated(now, horizon sim.Time, events int64) {
	t := time.Now()
	if t.Sub(p.start) < 2*time.Second {
		return
	}
	every := 10 * time.Second
	if p.tty {
		every = 200 * time.Millisecond
	}
	if t.Sub(p.last) < every {
		return
	}
	p.last = t
	line := fmt.Sprintf("simulated %v", now)
	if horizon > 0 {
		line += fmt.Sprintf(" of %v (%.0f%%)", horizon, 100*float64(now)/float64(horizon))
	}
	line += fmt.Sprintf(" · %d events · %.1fs wall", events, t.Sub(p.start).Seconds())
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.shown = true
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// runDone records a finished run of a comparison or sweep
// (experiment.RunDone callbacks come one at a time).
func (p *progress) runDone(d experiment.RunDone) {
	if p.bar != nil {
		p.bar.SetTotal(int64(d.Total), false) // a precision target adds runs
		p.bar.Increment()
		return
	}
	fmt.Fprintf(p.w, "[%d/%d] %s: %.2fs (%.1fs elapsed)\n", d.Done, d.Total, experiment.RunLabel(d.Cell, d.Seed), d.Wall.Seconds(), d.Elapsed.Seconds())
}

// finish clears the live line or stops the bar (after the end or an
// error).
func (p *progress) finish() {
	switch {
	case p == nil:
	case p.bar != nil:
		p.bar.Abort(false)
		p.p.Wait()
	case p.shown:
		fmt.Fprint(p.w, "\r\033[K")
	}
}
