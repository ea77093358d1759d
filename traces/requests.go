package traces

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"neosim/sim"
)

// Request trace formats, detected from a file's content by ReadRequests.
const (
	// RequestsAzure is the Azure LLM inference trace (Splitwise, ISCA'24):
	// CSV with TIMESTAMP ("2023-11-16 18:15:46.6805900"), ContextTokens
	// and GeneratedTokens.
	RequestsAzure = "azure-llm"
	// RequestsMooncake is the Mooncake trace (FAST'25): JSON lines with
	// timestamp (ms from the trace start), input_length, output_length and
	// hash_ids (not read).
	RequestsMooncake = "mooncake"
	// RequestsBurstGPT is the BurstGPT trace: CSV with Timestamp (s from
	// the trace start), Model, Request tokens, Response tokens, Total
	// tokens and Log Type (only the first three columns named are read).
	RequestsBurstGPT = "burstgpt"
)

// Requests is a serving request log read into memory (16 bytes a
// request), sorted by time (ties keep file order). It implements
// workloads.RequestLog.
type Requests struct {
	Path   string
	Format string // RequestsAzure, RequestsMooncake or RequestsBurstGPT
	// At is each request's time from the first request (so At[0] is 0).
	At []sim.Time
	// Input and Output are each request's prompt and generated tokens.
	Input, Output []int32
}

// Len returns the number of requests.
func (r *Requests) Len() int { return len(r.At) }

// Request returns request i's time from the first request and its tokens,
// input + output.
func (r *Requests) Request(i int) (sim.Time, int64) {
	return r.At[i], int64(r.Input[i]) + int64(r.Output[i])
}

// Span returns the time from the first to the last request.
func (r *Requests) Span() sim.Time {
	if len(r.At) == 0 {
		return 0
	}
	return r.At[len(r.At)-1]
}

// Tokens returns Σ input and Σ output tokens.
func (r *Requests) Tokens() (input, output int64) {
	for i := range r.Input {
		input += int64(r.Input[i])
		output += int64(r.Output[i])
	}
	return input, output
}

// IsRequestTrace reports whether path holds a request trace, and which
// format; it reads only the first line. A file that cannot be read is not
// one (ReadRequests then says why).
func IsRequestTrace(path string) (format string, ok bool) {
	f, r, err := openRequestFile(path)
	if err != nil {
		return "", false
	}
	defer f()
	format, _ = detectRequests(r)
	return format, format != ""
}

// ReadRequests reads a request trace, its format detected from its content
// (a JSON object on the first line: Mooncake; else the CSV header's
// columns, case-insensitive). A .gz file is decompressed. Errors are
// *Error values naming the file, line and field.
func ReadRequests(path string) (*Requests, error) {
	closeFile, r, err := openRequestFile(path)
	if err != nil {
		return nil, err
	}
	defer closeFile()
	format, _ := detectRequests(r)
	rr := &requestReader{Requests: Requests{Path: path, Format: format}}
	switch format {
	case RequestsMooncake:
		err = rr.readMooncake(r)
	case RequestsAzure, RequestsBurstGPT:
		err = rr.readCSV(r)
	default:
		return nil, &Error{File: path, Msg: "not a request trace: want JSON lines with timestamp, input_length, output_length (Mooncake), " +
			"or a CSV header with TIMESTAMP, ContextTokens, GeneratedTokens (Azure LLM) or Timestamp, Request tokens, Response tokens (BurstGPT)"}
	}
	if err != nil {
		return nil, err
	}
	if len(rr.at) == 0 {
		return nil, &Error{File: path, Msg: "no requests"}
	}
	rr.finish()
	return &rr.Requests, nil
}

// openRequestFile opens path, through gzip when it ends in .gz.
func openRequestFile(path string) (closeFile func(), r *bufio.Reader, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, &Error{File: path, Msg: "cannot open", Err: unwrapPath(err)}
	}
	r = bufio.NewReaderSize(f, 1<<16)
	if strings.HasSuffix(strings.ToLower(path), ".gz") {
		z, err := gzip.NewReader(r)
		if err != nil {
			f.Close()
			return nil, nil, &Error{File: path, Msg: "not a gzip file", Err: err}
		}
		r = bufio.NewReaderSize(z, 1<<16)
	}
	return func() { f.Close() }, r, nil
}

// detectRequests peeks at the first line: "" if it is no request format.
func detectRequests(r *bufio.Reader) (string, []string) {
	line, _ := r.Peek(1 << 16)
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimPrefix(bytes.TrimSpace(line), []byte("\uFEFF"))
	if bytes.HasPrefix(line, []byte("{")) {
		if bytes.Contains(line, []byte(`"input_length"`)) {
			return RequestsMooncake, nil
		}
		return "", nil
	}
	header, err := csv.NewReader(bytes.NewReader(line)).Read()
	if err != nil {
		return "", nil
	}
	has := func(name string) bool { return columnIndex(header, name) >= 0 }
	switch {
	case has("ContextTokens") && has("GeneratedTokens"):
		return RequestsAzure, header
	case has("Request tokens") && has("Response tokens"):
		return RequestsBurstGPT, header
	}
	return "", nil
}

// columnIndex finds a column by name, case-insensitive; -1 if absent.
func columnIndex(header []string, name string) int {
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF")), name) {
			return i
		}
	}
	return -1
}

// requestReader accumulates requests with their raw times (µs).
type requestReader struct {
	Requests
	at     []int64
	sorted bool
}

func (rr *requestReader) errAt(line int64, field, format string, args ...any) *Error {
	l := loc{file: rr.Path}
	return l.errAt(line, field, format, args...)
}

// add records one request read at line.
func (rr *requestReader) add(line int64, at int64, in, out int64, inField, outField string) error {
	for _, v := range []struct {
		n     int64
		field string
	}{{in, inField}, {out, outField}} {
		if v.n < 0 || v.n > math.MaxInt32 {
			return rr.errAt(line, v.field, "%d must be in [0, %d]", v.n, math.MaxInt32)
		}
	}
	if n := len(rr.at); n > 0 && at < rr.at[n-1] {
		rr.sorted = false
	}
	rr.at = append(rr.at, at)
	rr.Input = append(rr.Input, int32(in))
	rr.Output = append(rr.Output, int32(out))
	return nil
}

// finish sorts the requests by time and makes the times offsets from the
// first.
func (rr *requestReader) finish() {
	if !rr.sorted {
		idx := make([]int, len(rr.at))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return rr.at[idx[a]] < rr.at[idx[b]] })
		at, in, out := make([]int64, len(idx)), make([]int32, len(idx)), make([]int32, len(idx))
		for k, i := range idx {
			at[k], in[k], out[k] = rr.at[i], rr.Input[i], rr.Output[i]
		}
		rr.at, rr.Input, rr.Output = at, in, out
	}
	rr.At = make([]sim.Time, len(rr.at))
	for i, t := range rr.at {
		rr.At[i] = sim.Time(t - rr.at[0])
	}
	rr.at = nil
}

// maxRequestTimeS bounds timestamps (seconds), as trace times are.
const maxRequestTimeS = 1e12

// secondsToMicros converts a time in seconds, checking it is finite and
// bounded.
func secondsToMicros(v float64) (int64, bool) {
	if math.IsNaN(v) || math.Abs(v) > maxRequestTimeS {
		return 0, false
	}
	return int64(math.Round(v * 1e6)), true
}

// wholeTokens parses a token count: a whole number, written as an integer
// or a float such as "12.0".
func wholeTokens(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := parseFloat(s)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32*2.0 {
		return 0, false
	}
	return int64(f), true
}

// azureLayout parses the Azure trace's timestamps (fractional seconds of
// any length, or none).
const azureLayout = "2006-01-02 15:04:05.999999999"

func (rr *requestReader) readCSV(r io.Reader) error {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return &Error{File: rr.Path, Msg: "cannot read the header", Err: err}
	}
	header = slices.Clone(header)
	names := [3]string{"TIMESTAMP", "ContextTokens", "GeneratedTokens"}
	if rr.Format == RequestsBurstGPT {
		names = [3]string{"Timestamp", "Request tokens", "Response tokens"}
	}
	var idx [3]int
	for i, n := range names {
		if idx[i] = columnIndex(header, n); idx[i] < 0 {
			return &Error{File: rr.Path, Msg: "missing required column " + strconv.Quote(n) + " (header has: " + strings.Join(header, ", ") + ")"}
		}
	}
	rr.sorted = true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvErr(&loc{file: rr.Path}, err, rec, len(header))
		}
		l, _ := cr.FieldPos(0)
		line := int64(l)
		cellOf := func(i int) string { return strings.TrimSpace(rec[idx[i]]) }
		var at int64
		ts := cellOf(0)
		if rr.Format == RequestsAzure {
			t, err := time.Parse(azureLayout, ts)
			if err != nil {
				t, err = time.Parse(time.RFC3339Nano, ts)
			}
			if err != nil {
				return rr.errAt(line, names[0], "%q is not a time like 2023-11-16 18:15:46.6805900", ts)
			}
			at = t.Round(time.Microsecond).UnixMicro()
		} else {
			v, err := parseFloat(ts)
			var ok bool
			if err == nil {
				at, ok = secondsToMicros(v)
			}
			if !ok {
				return rr.errAt(line, names[0], "%q is not a time in seconds", ts)
			}
		}
		var tok [2]int64
		for k := range tok {
			s := cellOf(k + 1)
			n, ok := wholeTokens(s)
			if !ok {
				return rr.errAt(line, names[k+1], "%q is not a whole number of tokens", s)
			}
			tok[k] = n
		}
		if err := rr.add(line, at, tok[0], tok[1], names[1], names[2]); err != nil {
			return err
		}
	}
}

func (rr *requestReader) readMooncake(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<26)
	rr.sorted = true
	var line int64
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if line == 1 {
			b = bytes.TrimPrefix(b, []byte("\uFEFF"))
		}
		if len(b) == 0 {
			continue
		}
		var rec struct {
			Timestamp    json.RawMessage `json:"timestamp"`
			InputLength  json.RawMessage `json:"input_length"`
			OutputLength json.RawMessage `json:"output_length"`
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			return rr.errAt(line, "", "not a JSON object: %v", err)
		}
		num := func(field string, raw json.RawMessage) (float64, error) {
			if len(raw) == 0 {
				return 0, rr.errAt(line, field, "missing")
			}
			v, err := parseFloat(string(raw))
			if err != nil {
				return 0, rr.errAt(line, field, "%s is not a number", raw)
			}
			return v, nil
		}
		ms, err := num("timestamp", rec.Timestamp)
		if err != nil {
			return err
		}
		at, ok := secondsToMicros(ms / 1000)
		if !ok {
			return rr.errAt(line, "timestamp", "%s is not a time in milliseconds", rec.Timestamp)
		}
		var tok [2]int64
		for k, f := range []struct {
			name string
			raw  json.RawMessage
		}{{"input_length", rec.InputLength}, {"output_length", rec.OutputLength}} {
			if _, err := num(f.name, f.raw); err != nil {
				return err
			}
			n, ok := wholeTokens(string(f.raw))
			if !ok {
				return rr.errAt(line, f.name, "%s is not a whole number of tokens", f.raw)
			}
			tok[k] = n
		}
		if err := rr.add(line, at, tok[0], tok[1], "input_length", "output_length"); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return rr.errAt(line+1, "", "a line longer than 64 MiB")
		}
		return &Error{File: rr.Path, Msg: "read failed", Err: err}
	}
	return nil
}

// RequestStats summarizes a request trace as `neosim trace inspect` prints
// it.
type RequestStats struct {
	Path, Format string
	Requests     int64
	Span         sim.Time // first to last request
	// InputTokens and OutputTokens are the sums over the requests.
	InputTokens, OutputTokens int64
	// Input and Output are the per-request token counts' quantiles.
	Input, Output Quantiles
	// WindowS is the window of the rate quantiles, seconds: a minute, or
	// the span when it is shorter.
	WindowS float64
	// RequestRate and TokenRate are the quantiles, over the whole windows
	// of WindowS from the first request, of the requests and tokens (input
	// + output) per second; their Mean is over the span.
	RequestRate, TokenRate Quantiles
}

// InspectRequests reads a request trace (ReadRequests) and summarizes it.
func InspectRequests(path string) (*RequestStats, error) {
	r, err := ReadRequests(path)
	if err != nil {
		return nil, err
	}
	st := &RequestStats{Path: path, Format: r.Format, Requests: int64(r.Len()), Span: r.Span()}
	st.InputTokens, st.OutputTokens = r.Tokens()
	st.Input = quantilesOf(r.Input, func(v int32) float64 { return float64(v) })
	st.Output = quantilesOf(r.Output, func(v int32) float64 { return float64(v) })
	window := sim.Minute
	if st.Span < window {
		window = max(st.Span, sim.Second)
	}
	st.WindowS = window.Seconds()
	n := max(1, int(st.Span/window))
	reqs, toks := make([]float64, n), make([]float64, n)
	for i := range r.At {
		w := int(r.At[i] / window)
		if w >= n {
			continue // the last, partial window
		}
		_, tokens := r.Request(i)
		reqs[w]++
		toks[w] += float64(tokens)
	}
	for w := range reqs {
		reqs[w] /= st.WindowS
		toks[w] /= st.WindowS
	}
	id := func(v float64) float64 { return v }
	st.RequestRate, st.TokenRate = quantilesOf(reqs, id), quantilesOf(toks, id)
	if span := st.Span.Seconds(); span > 0 {
		st.RequestRate.Mean = float64(st.Requests) / span
		st.TokenRate.Mean = float64(st.InputTokens+st.OutputTokens) / span
	}
	return st, nil
}

// quantilesOf returns nearest-rank quantiles and the mean of vs (see
// Quantiles).
func quantilesOf[T any](vs []T, f func(T) float64) Quantiles {
	if len(vs) == 0 {
		return Quantiles{}
	}
	xs := make([]float64, len(vs))
	var sum float64
	for i, v := range vs {
		xs[i] = f(v)
		sum += xs[i]
	}
	slices.Sort(xs)
	rank := func(p float64) float64 { return xs[max(int(math.Ceil(p*float64(len(xs))))-1, 0)] }
	return Quantiles{Min: xs[0], P50: rank(0.5), Mean: sum / float64(len(xs)), P90: rank(0.9), P99: rank(0.99), Max: xs[len(xs)-1]}
}

// Print writes the summary for people.
func (s *RequestStats) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s\n", s.Path)
	fmt.Fprintf(tw, "format\t%s (request trace: serving demand, external_demand serving trace)\n", s.Format)
	fmt.Fprintf(tw, "requests\t%s\n", Thousands(s.Requests))
	fmt.Fprintf(tw, "span\t%s s (%s) from the first request\n", fmtDecimal(s.Span.Seconds(), 1), s.Span)
	total := s.InputTokens + s.OutputTokens
	fmt.Fprintf(tw, "tokens\t%s (input %s + output %s)\n", Thousands(total), Thousands(s.InputTokens), Thousands(s.OutputTokens))
	q := func(name string, v Quantiles, digits int) {
		f := func(x float64) string { return fmtDecimal(x, digits) }
		fmt.Fprintf(tw, "%s\tmin %s  p50 %s  mean %s  p90 %s  p99 %s  max %s\n", name, f(v.Min), f(v.P50), f(v.Mean), f(v.P90), f(v.P99), f(v.Max))
	}
	q("input tokens", s.Input, 0)
	q("output tokens", s.Output, 0)
	fmt.Fprintf(tw, "\nrates over %s-s windows (mean over the span)\n", fmtDecimal(s.WindowS, 0))
	q("requests/s", s.RequestRate, 2)
	q("tokens/s", s.TokenRate, 0)
	return tw.Flush()
}
