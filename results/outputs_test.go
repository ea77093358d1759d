package results

import "testing"

func TestParseOutputs(t *testing.T) {
	for in, want := range map[string]Outputs{
		"jobs,timeseries,summary": AllOutputs,
		"all":                     AllOutputs,
		"summary":                 OutSummary,
		"jobs":                    OutJobs | OutSummary, // the summary is always written
		" timeseries , summary":   OutTimeseries | OutSummary,
	} {
		got, err := ParseOutputs(in)
		if err != nil || got != want {
			t.Errorf("ParseOutputs(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "job", "jobs,,summary", "parquet"} {
		if _, err := ParseOutputs(bad); err == nil {
			t.Errorf("ParseOutputs(%q): no error", bad)
		}
	}
	if s := AllOutputs.String(); s != "jobs,timeseries,summary" {
		t.Errorf("AllOutputs prints %q", s)
	}
}
