package calibrate

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// SetLevels parses the command line's level lists into c: duty levels and
// power caps in percent ("0,25,50"), device indices ("0,1"); an empty
// string leaves its field as it is. Errors name the flag.
func (c *Config) SetLevels(duty, caps, devices string) error {
	var err error
	if duty != "" {
		if c.Duties, err = ParseLevels(duty); err != nil {
			return fmt.Errorf("--duty: %w", err)
		}
	}
	if caps != "" {
		if c.Caps, err = ParseLevels(caps); err != nil {
			return fmt.Errorf("--power-caps: %w", err)
		}
	}
	if devices != "" {
		if c.Devices, err = ParseDevices(devices); err != nil {
			return fmt.Errorf("--devices: %w", err)
		}
	}
	return nil
}

// DefaultOutDir is the folder of a measurement's samples, profile and load
// log: results/calibration/<host>-<UTC start time>.
func DefaultOutDir(host string, start time.Time) string {
	return filepath.Join("results", "calibration", OrHost(host)+"-"+start.UTC().Format("20060102T150405Z"))
}

// OrHost returns h, or "unknown-host" if it is empty.
func OrHost(h string) string {
	if h == "" {
		return "unknown-host"
	}
	return h
}

// PrintProfile writes a table of the profile's models (idle, full, exponent,
// fit quality) and its cap curves and notes, as `neosim calibrate` prints it.
func PrintProfile(w io.Writer, p *Profile) {
	kind := "measured"
	if !p.Measured {
		kind = "NOT measured"
	}
	fmt.Fprintf(w, "profile (%s, %s): %s\n", kind, p.Date, p.Source)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tGPUs\tidle W\tcontext idle W\tfull W\texponent\tRMSE W\tR²\tpoints\t")
	for _, m := range p.Models {
		ctxIdle, r2, k := "-", "-", fmt.Sprintf("%.3f", m.Exponent)
		if m.ContextIdleW > 0 {
			ctxIdle = fmt.Sprintf("%.1f", m.ContextIdleW)
		}
		if m.R2 != nil {
			r2 = fmt.Sprintf("%.4f", *m.R2)
		}
		if m.ExponentFixed {
			k += " (fixed)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%.1f\t%s\t%.2f\t%s\t%d\t\n", m.Name, m.Devices, m.IdleW, ctxIdle, m.FullW, k, m.RMSEW, r2, m.Points)
	}
	tw.Flush()
	for _, m := range p.Models {
		if len(m.Caps) == 0 {
			continue
		}
		var parts []string
		for _, c := range m.Caps {
			parts = append(parts, fmt.Sprintf("%g%% → %.2f / %.2f", c.CapPct, c.ThroughputRel, c.EnergyRel))
		}
		fmt.Fprintf(w, "%s power caps (throughput / energy per work): %s\n", m.Name, strings.Join(parts, ", "))
	}
	for _, m := range p.Models {
		if m.Note != "" && p.Measured {
			fmt.Fprintf(w, "%s: %s\n", m.Name, m.Note)
		}
	}
	if p.Note != "" {
		fmt.Fprintf(w, "note: %s\n", p.Note)
	}
}
