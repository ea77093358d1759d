package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"neosim/policies"
	"neosim/results"
	"neosim/runner"
)

func cmdPolicies(args []string, w io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("takes no arguments")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ALLOCATORS (--allocator)\t")
	for _, e := range policies.Allocators.Entries() {
		fmt.Fprintf(tw, "  %s\t%s\n", e.Name, e.Doc)
	}
	fmt.Fprintln(tw, "\t")
	fmt.Fprintln(tw, "PRICERS (--pricer)\t")
	for _, e := range policies.Pricers.Entries() {
		fmt.Fprintf(tw, "  %s\t%s\n", e.Name, e.Doc)
	}
	return tw.Flush()
}

func cmdVersion(w io.Writer) error {
	_, err := fmt.Fprintf(w, "neosim %s (output schema version %s)\n", runner.Version, results.SchemaVersion)
	return err
}

func cmdSchema(args []string, w io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("takes no arguments")
	}
	return results.FormatSchemas(w)
}
