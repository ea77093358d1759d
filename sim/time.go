package sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Time is simulated time in microseconds since the start of the run. It is an
// integer so that event order never depends on floating-point rounding.
type Time int64

// Duration is a span of simulated time in microseconds.
type Duration = Time

// Units of simulated time.
const (
	Microsecond Time = 1
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
	Minute           = 60 * Second
	Hour             = 60 * Minute
	Day              = 24 * Hour
	// Forever is later than any event a run schedules.
	Forever Time = math.MaxInt64
)

// Seconds converts t to float seconds (for output columns and reports).
func (t Time) Seconds() float64 { return float64(t) / float64(Second) }

// Hours converts t to float hours.
func (t Time) Hours() float64 { return float64(t) / float64(Hour) }

// FromSeconds converts float seconds to Time, rounding to the nearest
// microsecond. Values beyond the representable range saturate.
func FromSeconds(s float64) Time {
	us := math.Round(s * float64(Second))
	if us >= math.MaxInt64 {
		return Forever
	}
	if us <= math.MinInt64 {
		return math.MinInt64
	}
	return Time(us)
}

// String formats t as a compact duration such as "3d4h" or "1.5s".
func (t Time) String() string {
	if t == Forever {
		return "forever"
	}
	neg := t < 0
	if neg {
		t = -t
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if d := t / Day; d > 0 {
		fmt.Fprintf(&b, "%dd", d)
		t %= Day
	}
	if h := t / Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		t %= Hour
	}
	if m := t / Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
		t %= Minute
	}
	if t > 0 || b.Len() == 0 || (neg && b.Len() == 1) {
		b.WriteString(strconv.FormatFloat(t.Seconds(), 'f', -1, 64))
		b.WriteByte('s')
	}
	return b.String()
}

var durationUnits = []struct {
	suffix string
	unit   Time
}{
	// Longest suffixes first so that "ms" is not read as "m" + "s".
	{"us", Microsecond}, {"ms", Millisecond}, {"d", Day}, {"h", Hour}, {"m", Minute}, {"s", Second}, {"w", 7 * Day},
}

// ParseDuration reads durations such as "30d", "12h", "5m", "90s", "1d12h" or
// "250ms". A bare number is seconds. Units: w, d, h, m, s, ms, us.
func ParseDuration(s string) (Time, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("duration %q must be a finite number ≥ 0", orig)
		}
		return FromSeconds(v), nil
	}
	var total Time
	for s != "" {
		i := 0
		for i < len(s) && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9')) {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("duration %q: expected a number at %q (examples: 30d, 12h, 5m, 90s)", orig, s)
		}
		v, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q: bad number %q", orig, s[:i])
		}
		s = s[i:]
		matched := false
		for _, u := range durationUnits {
			if strings.HasPrefix(s, u.suffix) {
				total += Time(math.Round(v * float64(u.unit)))
				s = s[len(u.suffix):]
				matched = true
				break
			}
		}
		if !matched {
			return 0, fmt.Errorf("duration %q: unknown unit at %q (units: w, d, h, m, s, ms, us)", orig, s)
		}
	}
	return total, nil
}
