package calibrate

import (
	"errors"
	"fmt"
)

// ErrNoDriver is matched (errors.Is) by every error that means no GPU can
// be measured here: no NVML library or driver (*DriverError) or a build
// without NVML (ErrNoNVML).
var ErrNoDriver = errors.New("calibrate: no NVIDIA driver")

// ErrNoNVML is returned by Measure in builds without NVML support (cgo off
// or not linux). errors.Is(ErrNoNVML, ErrNoDriver) is true.
var ErrNoNVML error = noNVML{}

type noNVML struct{}

func (noNVML) Error() string {
	return "NVML support not compiled in (this neosim was built without cgo or not for linux): rebuild with CGO_ENABLED=1 on linux and run neosim calibrate on a machine with NVIDIA GPUs; " + builtinHint
}

func (noNVML) Is(target error) bool { return target == ErrNoDriver }

// ErrNeedRoot is returned when power caps are asked for without root.
var ErrNeedRoot = errors.New("--power-caps sets power limits (nvmlDeviceSetPowerManagementLimit), which needs root: rerun as root (sudo), or leave out --power-caps")

// builtinHint ends every no-driver message.
const builtinHint = "the built-in profiles (neosim calibrate --builtin) are not measurements"

// DriverError is a failed nvml.Init: no library (ERROR_LIBRARY_NOT_FOUND),
// no kernel driver (ERROR_DRIVER_NOT_LOADED), no permission, …. Code is
// the nvml.Return value and Text its string; both are kept as plain values
// so that this type exists in builds without NVML.
type DriverError struct {
	Code int
	Text string
}

// NVML return codes the message distinguishes (nvml.h).
const (
	codeNoPermission   = 4
	codeDriverNotLoad  = 9
	codeLibraryMissing = 12
)

func (e *DriverError) Error() string {
	switch e.Code {
	case codeNoPermission:
		return fmt.Sprintf("NVML may not talk to the NVIDIA driver (NVML: %s): check the permissions of /dev/nvidia*, or run as root; %s", e.Text, builtinHint)
	case codeDriverNotLoad, codeLibraryMissing:
		return fmt.Sprintf("no NVIDIA driver found (NVML: %s): run neosim calibrate on a machine with NVIDIA GPUs; %s", e.Text, builtinHint)
	}
	return fmt.Sprintf("no NVIDIA driver found (NVML: %s, code %d): run neosim calibrate on a machine with working NVIDIA GPUs; %s", e.Text, e.Code, builtinHint)
}

// Is makes errors.Is(err, ErrNoDriver) true.
func (e *DriverError) Is(target error) bool { return target == ErrNoDriver }
