package traces

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"neosim/internal/sharedtest"
	"neosim/sim"
)

// testRequest is one generated request: its time (µs from the first) and
// tokens.
type testRequest struct {
	at      sim.Time
	in, out int64
}

// genRequests makes n requests a few seconds apart from a fixed seed, the
// first at 0, in time order.
func genRequests(n int) []testRequest {
	r := rand.New(rand.NewPCG(7, 17))
	reqs := make([]testRequest, n)
	var t sim.Time
	for i := range reqs {
		if i > 0 {
			t += sim.Time(r.IntN(5_000_000)) // whole µs, ties allowed
		}
		reqs[i] = testRequest{at: t, in: int64(r.IntN(8000)), out: int64(r.IntN(1000))}
	}
	return reqs
}

// The three formats' writers, as the public traces lay them out.
func writeAzure(reqs []testRequest) string {
	var b strings.Builder
	b.WriteString("TIMESTAMP,ContextTokens,GeneratedTokens\n")
	t0 := time.Date(2023, 11, 16, 18, 15, 46, 680590000, time.UTC)
	for _, q := range reqs {
		fmt.Fprintf(&b, "%s,%d,%d\n", t0.Add(time.Duration(q.at)*time.Microsecond).Format("2006-01-02 15:04:05.0000000"), q.in, q.out)
	}
	return b.String()
}

func writeMooncake(reqs []testRequest) string {
	var b strings.Builder
	for i, q := range reqs {
		fmt.Fprintf(&b, `{"timestamp": %g, "input_length": %d, "output_length": %d, "hash_ids": [%d, %d]}`+"\n", float64(q.at)/1000, q.in, q.out, 2*i, 2*i+1)
	}
	return b.String()
}

func writeBurstGPT(reqs []testRequest) string {
	var b strings.Builder
	b.WriteString("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n")
	for _, q := range reqs {
		fmt.Fprintf(&b, "%g,ChatGPT,%d,%d,%d,Conversation log\n", q.at.Seconds()+5, q.in, q.out, q.in+q.out)
	}
	return b.String()
}

func TestReadRequestsFormats(t *testing.T) {
	reqs := genRequests(500)
	var want int64
	for _, q := range reqs {
		want += q.in + q.out
	}
	for _, c := range []struct {
		name, format, content string
	}{
		{"azure.csv", RequestsAzure, writeAzure(reqs)},
		{"mooncake.jsonl", RequestsMooncake, writeMooncake(reqs)},
		{"burst.csv", RequestsBurstGPT, writeBurstGPT(reqs)},
	} {
		t.Run(c.format, func(t *testing.T) {
			path := writeFile(t, c.name, c.content)
			if f, ok := IsRequestTrace(path); !ok || f != c.format {
				t.Fatalf("IsRequestTrace = %q, %v; want %q", f, ok, c.format)
			}
			r, err := ReadRequests(path)
			if err != nil {
				t.Fatal(err)
			}
			if r.Format != c.format || r.Len() != len(reqs) {
				t.Fatalf("format %q, %d requests; want %q, %d", r.Format, r.Len(), c.format, len(reqs))
			}
			var got int64
			for i, q := range reqs {
				at, tok := r.Request(i)
				if at != q.at || tok != q.in+q.out || int64(r.Input[i]) != q.in || int64(r.Output[i]) != q.out {
					t.Fatalf("request %d = %v, %d (%d + %d); want %v, %d + %d", i, at, tok, r.Input[i], r.Output[i], q.at, q.in, q.out)
				}
				got += tok
			}
			in, out := r.Tokens()
			if got != want || in+out != want {
				t.Errorf("tokens %d (Tokens %d); want %d", got, in+out, want)
			}
			if r.Span() != reqs[len(reqs)-1].at {
				t.Errorf("span %v; want %v", r.Span(), reqs[len(reqs)-1].at)
			}
		})
	}
}

// Unsorted rows are sorted (ties keep file order), and .gz is read.
func TestReadRequestsUnsortedGzip(t *testing.T) {
	content := "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n" +
		"10,GPT-4,3,4,7,API log\n2,GPT-4,5,0,5,API log\n10,GPT-4,1,1,2,API log\n4.5,ChatGPT,2,2,4,API log\n"
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	z.Write([]byte(content))
	z.Close()
	path := writeFile(t, "b.csv.gz", buf.String())
	r, err := ReadRequests(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		at  sim.Time
		tok int64
	}{{0, 5}, {2_500_000, 4}, {8 * sim.Second, 7}, {8 * sim.Second, 2}}
	for i, w := range want {
		if at, tok := r.Request(i); at != w.at || tok != w.tok {
			t.Errorf("request %d = %v, %d; want %v, %d", i, at, tok, w.at, w.tok)
		}
	}
}

// A malformed row names the file, the line and the field.
func TestReadRequestsErrors(t *testing.T) {
	azure := "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n"
	burst := "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n1.5,ChatGPT,10,20,30,Conversation log\n"
	moon := `{"timestamp": 0, "input_length": 10, "output_length": 2, "hash_ids": [1]}` + "\n"
	for _, c := range []struct {
		name, content string
		line          int64
		field, msg    string
	}{
		{"a.csv", azure + "2023-11-16 18:15:47,12x,4\n", 3, "ContextTokens", "not a whole number"},
		{"a.csv", azure + "2023-11-16 18:15:47,12,-4\n", 3, "GeneratedTokens", "must be in [0,"},
		{"a.csv", azure + "\n2023-13-16 18:15:47,12,4\n", 4, "TIMESTAMP", "not a time"},
		{"a.csv", azure + "2023-11-16 18:15:47,12\n", 3, "", "fields"},
		{"b.csv", burst + "1.7,ChatGPT,10,2.5,12.5,API log\n", 3, "Response tokens", "not a whole number"},
		{"b.csv", burst + "NaN,ChatGPT,10,2,12,API log\n", 3, "Timestamp", "not a time"},
		{"m.jsonl", moon + moon + `{"timestamp": 5, "output_length": 2}` + "\n", 3, "input_length", "missing"},
		{"m.jsonl", moon + `{"timestamp": "x", "input_length": 1, "output_length": 2}` + "\n", 2, "timestamp", "not a number"},
		{"m.jsonl", moon + `{"timestamp": 1, "input_length": 1, "output_length": 3000000000}` + "\n", 2, "output_length", "must be in [0,"},
		{"m.jsonl", moon + "\n" + `{"timestamp": 1,` + "\n", 3, "", "not a JSON object"},
	} {
		path := writeFile(t, c.name, c.content)
		_, err := ReadRequests(path)
		if err == nil {
			t.Errorf("%q: no error", c.content)
			continue
		}
		e := asError(t, err)
		if e.File != path || e.Line != c.line || e.Field != c.field || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%q: error %q (line %d, field %q); want line %d, field %q, %q", c.content, err, e.Line, e.Field, c.line, c.field, c.msg)
		}
		if want := fmt.Sprintf("%s:%d", path, c.line); !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
	// Not a request trace, and no requests.
	for _, content := range []string{"job_id,submit_s,gpus,duration_s\nj,0,1,1\n", "TIMESTAMP,ContextTokens,GeneratedTokens\n"} {
		path := writeFile(t, "x.csv", content)
		if _, ok := IsRequestTrace(path); ok != strings.HasPrefix(content, "TIMESTAMP") {
			t.Errorf("IsRequestTrace(%q) = %v", content, ok)
		}
		if _, err := ReadRequests(path); err == nil {
			t.Errorf("ReadRequests(%q): no error", content)
		}
	}
}

func TestInspectRequests(t *testing.T) {
	// 150 s: minute 0 holds 3 requests of 10 tokens, minute 1 one of 100,
	// and the partial minute 2 one more (not in the rate quantiles).
	var b strings.Builder
	for _, r := range []struct {
		ms      int
		in, out int
	}{{0, 6, 4}, {10_000, 5, 5}, {59_999, 1, 9}, {60_000, 50, 50}, {150_000, 1, 1}} {
		fmt.Fprintf(&b, `{"timestamp": %d, "input_length": %d, "output_length": %d, "hash_ids": []}`+"\n", r.ms, r.in, r.out)
	}
	st, err := InspectRequests(writeFile(t, "m.jsonl", b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != 5 || st.Span != 150*sim.Second || st.InputTokens != 63 || st.OutputTokens != 69 || st.WindowS != 60 {
		t.Errorf("stats %+v", st)
	}
	if q := st.RequestRate; q.Min != 1.0/60 || q.Max != 3.0/60 || q.Mean != 5.0/150 {
		t.Errorf("request rate %+v", q)
	}
	if q := st.TokenRate; q.Min != 30.0/60 || q.Max != 100.0/60 || q.P50 != 30.0/60 {
		t.Errorf("token rate %+v", q)
	}
	if q := st.Input; q.Min != 1 || q.P50 != 5 || q.Max != 50 {
		t.Errorf("input %+v", q)
	}
	var out bytes.Buffer
	if err := st.Print(&out); err != nil || !strings.Contains(out.String(), "132 (input 63 + output 69)") {
		t.Errorf("Print: %v\n%s", err, out.String())
	}
}

// The Azure conversation trace: SOURCE.md's statistics.
func TestReadRequestsAzureConv(t *testing.T) {
	path := filepath.Join(sharedtest.Traces(t), "azure-llm-2023", "AzureLLMInferenceTrace_conv.csv")
	if _, err := os.Stat(path); err != nil {
		t.Skip(err)
	}
	r, err := ReadRequests(path)
	if err != nil {
		t.Fatal(err)
	}
	in, out := r.Tokens()
	// 19,366 requests, 58 min, mean 1,155 input and 211 output tokens.
	if r.Len() != 19_366 || r.Span() < 58*sim.Minute || r.Span() > 59*sim.Minute {
		t.Errorf("%d requests over %v", r.Len(), r.Span())
	}
	if mi, mo := float64(in)/float64(r.Len()), float64(out)/float64(r.Len()); mi < 1154.5 || mi >= 1155.5 || mo < 210.5 || mo >= 211.5 {
		t.Errorf("mean input %.2f, output %.2f; want 1,155 and 211", mi, mo)
	}
}
