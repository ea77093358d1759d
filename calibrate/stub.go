//go:build !(cgo && linux)

package calibrate

import "context"

// Measure would run cfg on this machine's GPUs, but this build has no NVML
// (go-nvml needs cgo, and the driver is linux's here): it validates cfg
// and returns ErrNoNVML.
func Measure(ctx context.Context, cfg Config) (*Result, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, ErrNoNVML
}
