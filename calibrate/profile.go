package calibrate

import "neosim/sim/econ"

// Profile is a calibration profile, the file Fit and Builtin return. Its
// format, reader (econ.ReadCalibration) and writer (Encode, WriteFile)
// belong to sim/econ, so that the tool that writes profiles and the
// simulator that reads them cannot disagree.
type Profile = econ.CalibrationProfile

// ModelProfile is one GPU model's fit in a Profile.
type ModelProfile = econ.CalibrationModel

// DeviceInfo is what enumeration found out about one device; it is stored
// in the samples file and in the profile.
type DeviceInfo = econ.CalibrationDevice
