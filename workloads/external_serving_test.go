package workloads

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"neosim/sim"
)

// testLog is a RequestLog in memory.
type testLog struct {
	at     []sim.Time
	tokens []int64
}

func (l *testLog) Len() int                        { return len(l.at) }
func (l *testLog) Request(i int) (sim.Time, int64) { return l.at[i], l.tokens[i] }
func (l *testLog) open(string) (RequestLog, error) { return l, nil }
func (l *testLog) add(at sim.Time, tokens int64) {
	l.at = append(l.at, at)
	l.tokens = append(l.tokens, tokens)
}
func (l *testLog) sum() (s int64) { return sumInts(l.tokens) }
func sumInts(v []int64) (s int64) {
	for _, x := range v {
		s += x
	}
	return s
}
func jobTokens(jobs []servedJob) (s int64) {
	for _, j := range jobs {
		s += j.Tokens
	}
	return s
}
func traceSeg(mod func(*ExternalSegment)) ExternalSegment {
	s := ExternalSegment{Segment: "serving", Trace: "test.jsonl"}
	if mod != nil {
		mod(&s)
	}
	return s
}

// genLog makes n requests over about two hours whose rate swings between
// one and ten replicas' worth, from a fixed seed.
func genLog(n int) *testLog {
	r := rand.New(rand.NewPCG(3, 9))
	l := &testLog{}
	var t sim.Time
	for i := range n {
		if i > 0 {
			t += sim.Time(r.IntN(2_000_000))
		}
		// 7,000 tokens/s is one replica at the target; requests come every
		// second on average, so 7,000–70,000 tokens a request.
		wave := 1 + 9*(0.5+0.5*math.Sin(t.Seconds()/1200))
		l.add(t, int64(wave*7000*r.Float64()*2))
	}
	return l
}

func traceJobs(t *testing.T, s ExternalSegment, l *testLog, until sim.Time) []servedJob {
	t.Helper()
	src, err := s.SourceWith(1, "test", until, l.open)
	if err != nil {
		t.Fatal(err)
	}
	return drainExt(t, src)
}

// TestServingTraceConservation: the replica jobs' tokens add up to the
// trace's exactly, every interval has the replicas its tokens need, and an
// untiled trace ends with its last request's interval.
func TestServingTraceConservation(t *testing.T) {
	l := genLog(7200)
	seg := traceSeg(nil)
	jobs := traceJobs(t, seg, l, 0) // no horizon: the trace ends the source
	if got, want := jobTokens(jobs), l.sum(); got != want {
		t.Fatalf("jobs' tokens %d; the trace's %d", got, want)
	}
	const iv = 300 * sim.Second
	span := l.at[len(l.at)-1]
	nIv := int(span/iv) + 1
	bins := make([]float64, nIv)
	for i, at := range l.at {
		bins[at/iv] += float64(l.tokens[i])
	}
	live := make([]int, nIv)
	for _, j := range jobs {
		if j.Submit%iv != 0 || j.Submit+j.Work > sim.Time(nIv)*iv {
			t.Fatalf("job %s at %v for %v: off the grid or past the trace's end %v", j.ID, j.Submit, j.Work, sim.Time(nIv)*iv)
		}
		for k := j.Submit / iv; k < (j.Submit+j.Work)/iv; k++ {
			live[k]++
		}
	}
	peak := 0
	for k, tok := range bins {
		need := max(ServingMinReplicas, int(math.Ceil(tok/300/(ServingReplicaTokensPerS*ServingTargetUtilization)-1e-9)))
		if live[k] != need { // a one-interval hold: exactly the need
			t.Errorf("interval %d: %d replicas for %.0f tokens; want %d", k, live[k], tok, need)
		}
		peak = max(peak, need)
	}
	if peak < 8 {
		t.Errorf("peak %d replicas: the test log should swing the replica count", peak)
	}
}

// TestServingTraceScale: a rate scale of k multiplies the tokens demanded
// by k (round(k × Σ) for a fractional k) and the replicas follow.
func TestServingTraceScale(t *testing.T) {
	l := genLog(3600)
	base := traceJobs(t, traceSeg(nil), l, 0)
	for _, k := range []float64{3, 2.5, 0.1} {
		jobs := traceJobs(t, traceSeg(func(s *ExternalSegment) { s.TraceRateScale = k }), l, 0)
		if got, want := jobTokens(jobs), int64(math.Round(k*float64(l.sum()))); got != want {
			t.Errorf("scale %v: %d tokens; want %d", k, got, want)
		}
		if k > 1 && len(jobs) <= len(base) {
			t.Errorf("scale %v: %d jobs, no more than unscaled (%d)", k, len(jobs), len(base))
		}
	}
}

// TestServingTraceShiftTile: the shift moves the requests (those before 0
// are dropped) and tiling repeats the trace every ⌊span/interval⌋ + 1
// intervals.
func TestServingTraceShiftTile(t *testing.T) {
	const iv = 300 * sim.Second
	// One burst of 20 replicas' worth in a single interval.
	big := int64(20 * 7000 * 300)
	l := &testLog{}
	l.add(0, big)
	jobs := traceJobs(t, traceSeg(func(s *ExternalSegment) { s.TraceShiftS = 7*300 + 10 }), l, 0)
	var at7 int
	for _, j := range jobs {
		if j.Submit == 7*iv {
			at7++
		} else if j.Submit != 0 {
			t.Errorf("job %s at %v: only at 0 (min replicas) and at the burst", j.ID, j.Submit)
		}
	}
	if at7 != 18 || jobTokens(jobs) != big {
		t.Errorf("%d jobs start at the burst (want 18 above the 2 min replicas), %d tokens (want %d)", at7, jobTokens(jobs), big)
	}

	// A negative shift drops the requests before 0.
	l = &testLog{}
	l.add(0, 100)
	l.add(2*iv, 1000)
	if got := jobTokens(traceJobs(t, traceSeg(func(s *ExternalSegment) { s.TraceShiftS = -300 }), l, 0)); got != 1000 {
		t.Errorf("shift −1 interval: %d tokens; want 1000 (the first request dropped)", got)
	}

	// Tiling: requests at 0, 400 and 650 s tile every 3 intervals; ten
	// periods hold ten copies, less what a shift pushes past the horizon
	// (shifted 290 s, the tenth copy's last request lands at 9,040 s).
	l = &testLog{}
	for _, r := range []struct {
		s   float64
		tok int64
	}{{0, 1e6}, {400, 3e6}, {650, 2e6}} {
		l.add(sim.FromSeconds(r.s), r.tok)
	}
	for _, c := range []struct {
		shift float64
		want  int64
	}{{0, 10 * l.sum()}, {100, 10 * l.sum()}, {290, 10*l.sum() - 2e6}} {
		jobs := traceJobs(t, traceSeg(func(s *ExternalSegment) { s.TraceTile, s.TraceShiftS = true, c.shift }), l, 10*3*iv)
		if got := jobTokens(jobs); got != c.want {
			t.Errorf("tile, shift %v: %d tokens over 10 periods; want %d", c.shift, got, c.want)
		}
	}
	// Without tiling the same horizon holds one copy.
	if got := jobTokens(traceJobs(t, traceSeg(nil), l, 10*3*iv)); got != l.sum() {
		t.Errorf("untiled: %d tokens; want %d", got, l.sum())
	}
}

func TestServingTraceErrors(t *testing.T) {
	l := genLog(10)
	for _, c := range []struct {
		seg  ExternalSegment
		open OpenRequestLog
		want string
	}{
		{ExternalSegment{Segment: "serving", TraceRateScale: 2}, l.open, "trace_rate_scale: needs trace"},
		{ExternalSegment{Segment: "serving", TraceTile: true}, l.open, "trace_tile: needs trace"},
		{ExternalSegment{Segment: "on-demand", Trace: "x"}, l.open, "trace: does not apply to segment on-demand"},
		{traceSeg(func(s *ExternalSegment) { s.TraceRateScale = -1 }), l.open, "trace_rate_scale: must be in"},
		{traceSeg(func(s *ExternalSegment) { s.TraceShiftS = math.Inf(1) }), l.open, "trace_shift_s:"},
		{traceSeg(nil), nil, "no request-log reader"},
		{traceSeg(nil), func(string) (RequestLog, error) { return nil, errors.New("boom") }, "boom"},
		{traceSeg(nil), (&testLog{}).open, "no requests"},
		{traceSeg(func(s *ExternalSegment) { s.TraceTile = true }), l.open, "needs a horizon"},
	} {
		_, err := (&External{Segments: []ExternalSegment{c.seg}}).SourceWith(1, 0, c.open)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v; want %q", c.seg, err, c.want)
		}
	}
}

// TestServingMatchesPlainScan: the replica jobs are those of the rule
// applied the plain way, each job's hold scanned twice (its end, then its
// tokens added interval by interval), with or without a trace and with a
// minimum hold of one interval or several.
func TestServingMatchesPlainScan(t *testing.T) {
	l := genLog(7200)
	for _, tc := range []struct {
		name  string
		seg   ExternalSegment
		until sim.Time
	}{
		{"defaults", ExternalSegment{Segment: "serving", TokensPerS: 2e5}, 3 * sim.Day},
		{"hold", ExternalSegment{Segment: "serving", TokensPerS: 2e5, NoiseSigma: ptrTo(0.3), MinHoldS: 1800, MaxHoldS: 21600}, 3 * sim.Day},
		{"trace", traceSeg(func(s *ExternalSegment) { s.TraceTile, s.TraceRateScale, s.MinHoldS = true, 1.5, 900 }), sim.Day},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := tc.seg.SourceWith(7, "test", tc.until, l.open)
			if err != nil {
				t.Fatal(err)
			}
			jobs := drainExt(t, src)
			ref, _ := tc.seg.SourceWith(7, "test", tc.until, l.open)
			want := plainServing(ref.(*ServingSource))
			if len(jobs) != len(want) {
				t.Fatalf("%d jobs; the plain scan makes %d", len(jobs), len(want))
			}
			for i, j := range jobs {
				if w := want[i]; j.Submit != w.Submit || j.Work != w.Work || j.Tokens != w.Tokens {
					t.Fatalf("job %d at %v for %v with %d tokens; the plain scan's at %v for %v with %d", i, j.Submit, j.Work, j.Tokens, w.Submit, w.Work, w.Tokens)
				}
			}
		})
	}
}

// plainServing returns s's replica jobs (submit, work, tokens) by the
// autoscaler rule as written, reading the intervals with s.info: each
// job's end scanned for, its tokens added interval by interval.
func plainServing(s *ServingSource) (jobs []sim.JobSpec) {
	var levelEnd []int64
	for k := int64(0); sim.Time(k)*s.interval < s.until; k++ {
		for L := 1; L <= s.info(k).need; L++ {
			for len(levelEnd) < L {
				levelEnd = append(levelEnd, 0)
			}
			if levelEnd[L-1] > k {
				continue
			}
			end := k + s.holdMin
			for end < k+s.holdMax && s.info(end).need >= L {
				end++
			}
			if s.trace != nil {
				end = min(end, int64(s.until/s.interval)+min(1, int64(s.until%s.interval)))
			}
			levelEnd[L-1] = end
			at := sim.Time(k) * s.interval
			tokens := math.Round(s.levelTokens(L, k, end))
			jobs = append(jobs, sim.JobSpec{Submit: at, Work: sim.Time(end)*s.interval - at, Tokens: int64(tokens)})
		}
	}
	return jobs
}
