package calibrate

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Result is what a calibration run measured.
type Result struct {
	Info    RunInfo
	Samples []Sample // every sample, in the order taken
	// Counts are the read counts per field of each device, in the order
	// of Info.Devices.
	Counts []Counts
	// Missed counts sampling ticks skipped because the reads of a tick
	// took longer than the interval.
	Missed int64
	// Interrupted is true when the context was canceled (SIGINT, SIGTERM)
	// before the plan ended; Samples and the samples file hold what was
	// measured until then.
	Interrupted bool
	// Restored lists the power limits a cap sweep set back ("GPU 0: 700
	// W").
	Restored []string
}

// PrintCounts writes, per field that failed at least once, how often and
// on which devices: what a run could not read.
func (r *Result) PrintCounts(w io.Writer) {
	for f := range NumFields {
		var parts []string
		for i, c := range r.Counts {
			fc := c[f]
			if fc.Unsupported == 0 && fc.Failed == 0 {
				continue
			}
			p := fmt.Sprintf("GPU %d: %d of %d", r.Info.Devices[i].Index, fc.Unsupported+fc.Failed, fc.OK+fc.Unsupported+fc.Failed)
			switch {
			case fc.Failed == 0:
				p += " not supported"
			case fc.Unsupported == 0:
				p += " failed (" + fc.LastError + ")"
			default:
				p += fmt.Sprintf(" (%d not supported, %d failed: %s)", fc.Unsupported, fc.Failed, fc.LastError)
			}
			parts = append(parts, p)
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "calibrate: %s readings missing (null in the samples): %s\n", f, strings.Join(parts, "; "))
		}
	}
}

// Load is a running load generator that a run duty-cycles.
type Load interface {
	// SetRunning resumes (true) or pauses (false) the load.
	SetRunning(on bool) error
	// Throughput returns the last throughput the load reported and a
	// sequence number that grows with each report (0: none yet).
	Throughput() (v float64, seq uint64)
	// Exited returns nil while the load runs, and why it ended once it
	// has: a run stops when its load command exits early.
	Exited() error
	// Stop ends the load and waits for it.
	Stop() error
}

// Clock is the run's time source: Now is monotonic time since an
// arbitrary origin; Sleep waits d or until ctx is done (then it returns
// ctx.Err()). Tests inject a clock that advances instantly.
type Clock interface {
	Now() time.Duration
	Sleep(ctx context.Context, d time.Duration) error
}

// wallClock is the real Clock.
type wallClock struct{ start time.Time }

func newWallClock() *wallClock { return &wallClock{start: time.Now()} }

func (c *wallClock) Now() time.Duration { return time.Since(c.start) }

func (c *wallClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// dutyPhase returns whether a load at duty% is on at elapsed time el into
// a step, and when (since the step's start) the phase next changes; the
// load is on for the first duty% of each period. Duty 0 and 100 never
// change (next is -1).
func dutyPhase(duty float64, period, el time.Duration) (on bool, next time.Duration) {
	switch {
	case duty >= 100:
		return true, -1
	case duty <= 0:
		return false, -1
	}
	onDur := time.Duration(float64(period) * duty / 100)
	base := el - el%period
	if el%period < onDur {
		return true, base + onDur
	}
	return false, base + period
}

// describePlan returns one line per step and the total time.
func describePlan(c *Config) (string, time.Duration) {
	var parts []string
	var total time.Duration
	groups := map[string][]string{}
	var order []string
	for _, s := range c.plan() {
		total += s.dur
		if s.mode == ModeSample {
			parts = append(parts, fmt.Sprintf("passive %v", s.dur))
			continue
		}
		if _, ok := groups[s.mode]; !ok {
			order = append(order, s.mode)
		}
		groups[s.mode] = append(groups[s.mode], fmt.Sprintf("%g", s.level))
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i] == ModeLoad && order[j] != ModeLoad })
	for _, m := range order {
		name := "duty"
		if m == ModeCaps {
			name = "power caps"
		}
		parts = append(parts, fmt.Sprintf("%s %s%% × %v", name, strings.Join(groups[m], ","), c.LevelTime))
	}
	return strings.Join(parts, ", then "), total
}

// ParseThroughput reads the load-command contract: a stdout line holding
// `throughput=<float>` (at the line's start or after a space, tab, comma
// or semicolon; the number ends at the next of those). The last such
// field of the line counts. Units are the command's own (samples/s,
// tokens/s, GEMMs/s): only ratios between power caps are used.
func ParseThroughput(line string) (float64, bool) {
	const key = "throughput="
	for end := len(line); ; {
		i := strings.LastIndex(line[:end], key)
		if i < 0 {
			return 0, false
		}
		end = i
		if i > 0 && !strings.ContainsRune(" \t,;", rune(line[i-1])) {
			continue // e.g. "mythroughput=": not the key
		}
		tok := line[i+len(key):]
		if j := strings.IndexAny(tok, " \t,;"); j >= 0 {
			tok = tok[:j]
		}
		v, err := strconv.ParseFloat(tok, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, false
		}
		return v, true
	}
}
