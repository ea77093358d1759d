package traces

import (
	"bytes"
	"io"
	"testing"

	"neosim/sim"
	"neosim/sim/fleet"
)

// openCSVBytes reads a CSV trace from memory.
func openCSVBytes(name string, data []byte, opts Options) (*Reader, error) {
	return newReader(loc{file: name}, "trace "+name, func(l *loc) (backend, error) {
		return newCSV(l, bytes.NewReader(data))
	}, opts)
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte(header + "a,0,1,10\nb,1,8,3600\n"))
	f.Add([]byte("job_id,submit_s,gpus,duration_s,gpu_milli,gpu_type,tenant,segment,priority,patience_s\n" +
		"a,0,1,1,500,H100,acme,spot,3,60\n\"b,\"\"c\"\"\",0.5,2,1e3,,,,,,\n"))
	f.Add([]byte(header + "a,0,1,10\na,1,1,1\n"))
	f.Add([]byte(header + "a,5,1,10\nb,1,1,1\n"))
	f.Add([]byte(header + "a,NaN,1e400,-0\n"))
	f.Add([]byte("\"unterminated\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := openCSVBytes("fuzz.csv", data, Options{Warn: io.Discard})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Open error %v is a %T, not an *Error", err, err)
			}
			return
		}
		defer r.Close()
		var s sim.JobSpec
		var last sim.Time
		for n := 0; n < 10000 && r.Next(&s); n++ {
			// What Next returns must satisfy the canonical format.
			if s.ID == "" || s.Submit < last || s.GPUs < 1 || s.Milli < 1 || s.Milli > fleet.FullGPU ||
				s.Work < 1 || s.Patience < 0 || s.Segment >= sim.NumSegments ||
				s.GPUTypes>>len(fleet.Catalog) != 0 {
				t.Fatalf("invalid job accepted: %+v", s)
			}
			last = s.Submit
		}
		if err := r.Err(); err != nil {
			if e, ok := err.(*Error); !ok || e.Line < 1 {
				t.Fatalf("row error %v (%T) has no line", err, err)
			}
		}
	})
}
