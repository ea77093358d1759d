package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"neosim/results"
)

// parseFlags parses args into fs and reports whether the command should go
// on: not after --help (err nil) nor after a bad flag (errUsage, explained
// on stderr). Positional arguments are left in fs.
func parseFlags(fs *pflag.FlagSet, cmd string, args []string, stderr io.Writer) (ok bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return false, nil
		}
		fmt.Fprintf(stderr, "neosim %s: %v (neosim %s --help lists the flags)\n", cmd, err, cmd)
		return false, errUsage
	}
	return true, nil
}

// noArgs is a usage error, explained on stderr, if fs holds positional
// arguments.
func noArgs(fs *pflag.FlagSet, cmd string, stderr io.Writer) error {
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "neosim %s: unexpected argument %q (flags start with --)\n", cmd, fs.Arg(0))
		return errUsage
	}
	return nil
}

// formatFlag adds the --format flag (the output files' format).
func formatFlag(fs *pflag.FlagSet) *string {
	v := results.FormatArrow.String()
	formatFlagVar(fs, &v)
	return &v
}

// formatFlagVar adds the --format flag into v, whose value is the default.
func formatFlagVar(fs *pflag.FlagSet, v *string) {
	fs.StringVar(v, "format", *v, "output file format: "+strings.Join(results.Formats(), ", ")+" (Arrow IPC or Parquet; docs/output-schema.md)")
}

// outputsFlagVar adds --outputs into v, whose value is the default.
func outputsFlagVar(fs *pflag.FlagSet, v *string) {
	fs.StringVar(v, "outputs", *v, "data files to write, comma-separated: jobs, timeseries, summary (summary.arrow and run.json are always written; --outputs summary skips the jobs and timeseries files)")
}

// outputsFlag adds --outputs (default: every file).
func outputsFlag(fs *pflag.FlagSet) *string {
	v := results.AllOutputs.String()
	outputsFlagVar(fs, &v)
	return &v
}

// parseOutputs parses --outputs' value; a bad one is a usage error
// explained on stderr.
func parseOutputs(cmd, value string, stderr io.Writer) (results.Outputs, error) {
	o, err := results.ParseOutputs(value)
	if err != nil {
		fmt.Fprintf(stderr, "neosim %s: --outputs: %v\n", cmd, err)
		return o, errUsage
	}
	return o, nil
}

// failuresFlag adds --failures into v: injected node failures on or off,
// over the scenario's failure model.
func failuresFlag(fs *pflag.FlagSet, v *bool) {
	fs.BoolVar(v, "failures", true, "inject node failures (the scenario's failure model); default: the scenario's, off in a trace replay (recorded durations include failures)")
}

// parseFormat parses --format's value; a bad one is a usage error
// explained on stderr.
func parseFormat(cmd, value string, stderr io.Writer) (results.Format, error) {
	f, err := results.ParseFormat(value)
	if err != nil {
		fmt.Fprintf(stderr, "neosim %s: --format %q: choose %s\n", cmd, value, strings.Join(results.Formats(), " or "))
		return f, errUsage
	}
	return f, nil
}
