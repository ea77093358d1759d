package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"neosim/traces"
)

const traceHelp = `Usage:
  neosim trace inspect FILE [--trace-format F] [--top N] [--gpu-models M=T,...]
  neosim trace convert FILE OUT [--trace-format F] [--gpu-models M=T,...]

inspect reads a job trace and prints what a run would replay: the detected
format, jobs, time span, GPUs per job, GPU-hours, duration quantiles, counts
by tenant, segment, QoS and GPU type, and the rows the format's adapter
skipped (such as openb's CPU-only pods) with the reason. Given a request
trace (serving demand for --serving-trace: Azure LLM CSV, Mooncake JSONL,
BurstGPT CSV, detected from the content), it prints the requests, span,
input and output tokens, and quantiles of the request and token rates.

convert writes a trace in the canonical format, chosen by OUT's extension
(.csv, .csv.gz, .arrow, .arrows, .parquet). It streams as the input allows;
on an error no OUT is left behind.

FILE is a canonical trace (.csv, .arrow, .parquet, …) or a public trace in
its own format; --trace-format auto (the default) detects the format from
the CSV header. docs/traces.md describes every format.

Examples:
  neosim trace inspect ../shared/traces/philly-2017/philly_jobs_pollux.csv
  neosim trace inspect pods.csv --trace-format openb --top 5
  neosim trace inspect ../shared/traces/azure-llm-2023/AzureLLMInferenceTrace_conv.csv
  neosim trace convert philly_jobs_pollux.csv philly.parquet
  neosim trace convert openb_pod_list_gpuspec33.csv openb.arrow --gpu-models T4=A100-80GB,G2=H200

Formats (--trace-format):
`

func cmdTrace(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, traceUsage())
		return errUsage
	}
	switch args[0] {
	case "inspect":
		return traceCmd(args[1:], 1, stdout, stderr, func(files []string, format string, opts traces.Options, top int) error {
			if _, ok := traces.IsRequestTrace(files[0]); ok && (format == "" || format == "auto") {
				st, err := traces.InspectRequests(files[0])
				if err != nil {
					return err
				}
				return st.Print(stdout)
			}
			st, err := traces.Inspect(files[0], format, opts)
			if err != nil {
				return err
			}
			return st.Print(stdout, top)
		})
	case "convert":
		return traceCmd(args[1:], 2, stdout, stderr, func(files []string, format string, opts traces.Options, _ int) error {
			res, err := traces.Convert(files[0], format, files[1], opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote %s jobs to %s (read as %s", traces.Thousands(res.Jobs), files[1], res.Format)
			for _, r := range slices.Sorted(maps.Keys(res.Skipped)) {
				fmt.Fprintf(stdout, "; skipped %s %s", traces.Thousands(res.Skipped[r]), r)
			}
			fmt.Fprintln(stdout, ")")
			return nil
		})
	case "help", "-h", "--help":
		fmt.Fprint(stdout, traceUsage())
		return nil
	}
	fmt.Fprintf(stderr, "neosim trace: unknown subcommand %q (inspect, convert)\n\n%s", args[0], traceUsage())
	return errUsage
}

func traceUsage() string {
	var b strings.Builder
	b.WriteString(traceHelp)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  auto\tdetect from the file (Arrow and Parquet are canonical; CSV by its header)\n")
	for _, a := range traces.Adapters() {
		fmt.Fprintf(tw, "  %s\t%s\n", a.Name, a.Doc)
	}
	tw.Flush()
	return b.String()
}

// traceCmd parses a trace subcommand's flags and its nfiles file arguments,
// then runs do.
func traceCmd(args []string, nfiles int, stdout, stderr io.Writer,
	do func(files []string, format string, opts traces.Options, top int) error) error {
	fs := pflag.NewFlagSet("trace", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, traceUsage()+"\nFlags:\n"+fs.FlagUsages()) }
	format := fs.String("trace-format", "auto", "the trace's format (see Formats above)")
	models := fs.StringToString("gpu-models", nil, "map trace GPU models to catalog types, e.g. T4=A100-80GB,G2=H200 (default: every model is H100-SXM)")
	top := 10
	if nfiles == 1 {
		fs.IntVar(&top, "top", 10, "entries shown per count list (0: all)")
	}
	if ok, err := parseFlags(fs, "trace", args, stderr); !ok {
		return err
	}
	if fs.NArg() != nfiles {
		want := "FILE"
		if nfiles == 2 {
			want = "FILE and OUT"
		}
		fmt.Fprintf(stderr, "neosim trace: want %s, got %d arguments\n\n%s", want, fs.NArg(), traceUsage())
		return errUsage
	}
	return do(fs.Args(), *format, traces.Options{Warn: stderr, Models: *models}, top)
}
