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

// formatFlag adds the --format flag (the output files' format).
func formatFlag(fs *pflag.FlagSet) *string {
	return fs.String("format", results.FormatArrow.String(), "output file format: "+strings.Join(results.Formats(), ", ")+" (Arrow IPC or Parquet; docs/output-schema.md)")
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
