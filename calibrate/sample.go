package calibrate

import (
	"fmt"
	"math"
	"strings"
	"time"

	"neosim/sim/fleet"
)

// Sample is one device's readings at one instant. Readings are NaN where
// NVML failed (the samples file has a null there).
type Sample struct {
	T      time.Duration // since the run started (monotonic)
	Device int           // NVML index
	UUID   string
	Mode   string  // ModeSample, ModeLoad or ModeCaps
	Level  float64 // duty % (load) or cap % (caps); NaN for passive
	// PowerW is nvmlDeviceGetPowerUsage: a 1-s average on Ampere (except
	// GA100) and newer, instantaneous before (SOURCES.md §4).
	PowerW float64
	// EnergyJ is the energy counter (millijoules since the driver loaded,
	// in joules): ΔEnergyJ/ΔT is the exact mean power between two samples.
	EnergyJ float64
	UtilGPU float64 // % of the last sample period a kernel ran
	UtilMem float64 // % of it device memory was read or written
	SMMHz   float64
	MemMHz  float64
	TempC   float64
	// Throughput is the load command's most recent `throughput=` value
	// during the current step; NaN if it has printed none in this step.
	Throughput float64
}

// Field is one reading of a sample.
type Field int

// The fields read every interval, in the order the sampler reads them.
const (
	FieldEnergy Field = iota
	FieldPower
	FieldUtil // GPU and memory utilization come from one call
	FieldSMClock
	FieldMemClock
	FieldTemp
	NumFields
)

var fieldNames = [NumFields]string{"energy", "power", "utilization", "sm_clock", "mem_clock", "temperature"}

func (f Field) String() string {
	if f < 0 || f >= NumFields {
		return fmt.Sprintf("Field(%d)", int(f))
	}
	return fieldNames[f]
}

// FieldCount counts one field's reads on one device.
type FieldCount struct {
	OK          int64
	Unsupported int64  // ERROR_NOT_SUPPORTED
	Failed      int64  // any other error
	LastError   string // the last failure's NVML text
}

// Counts are one device's read counts per field.
type Counts [NumFields]FieldCount

// RunInfo describes a calibration run; it travels in the samples file's
// schema metadata so that Fit can work from the file alone.
type RunInfo struct {
	Host        string       `json:"host,omitempty"`
	Start       string       `json:"start"` // RFC 3339, UTC
	Driver      string       `json:"driver,omitempty"`
	NVMLVersion string       `json:"nvml_version,omitempty"`
	CUDADriver  int          `json:"cuda_driver_version,omitempty"` // e.g. 12040
	Devices     []DeviceInfo `json:"devices"`
	Interval    string       `json:"interval"`   // time.Duration text
	Period      string       `json:"period"`     // duty-cycle period
	LevelTime   string       `json:"level_time"` // time per level
	LoadCmd     string       `json:"load_cmd,omitempty"`
}

// device returns the info of NVML index i, or nil.
func (r *RunInfo) device(i int) *DeviceInfo {
	for k := range r.Devices {
		if r.Devices[k].Index == i {
			return &r.Devices[k]
		}
	}
	return nil
}

// catalogModel maps an NVML device name to a catalog type name, or "".
// PCIe boards are not mapped: the catalog's types are SXM parts (an H100
// PCIe has half the TDP of an H100 SXM).
func catalogModel(nvmlName string) string {
	u := strings.ToUpper(nvmlName)
	if strings.Contains(u, "PCIE") {
		return ""
	}
	// GB200 before B200: the one name contains the other.
	for _, k := range []string{"GB200", "B200", "H200", "H100", "A100"} {
		if strings.Contains(u, k) {
			if t, ok := fleet.LookupType(k); ok {
				return fleet.Catalog[t].Name
			}
		}
	}
	return ""
}

// mw returns milliwatts as watts.
func mw(v uint32) float64 { return float64(v) / 1000 }

// nan is a null reading.
var nan = math.NaN()
