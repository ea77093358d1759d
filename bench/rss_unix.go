//go:build unix

package bench

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// rssUnit is the unit of ru_maxrss: kilobytes on Linux, bytes on macOS.
func rssUnit() int64 {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return 1
	}
	return 1024
}

// selfPeakRSS is this process's peak resident set size so far, in bytes:
// VmHWM from /proc/self/status where there is one (Linux), else ru_maxrss.
// The two differ for a process started by fork and exec: Linux folds the
// parent's peak at the fork into the child's ru_maxrss (the child shares
// the parent's memory until it execs), while VmHWM is the peak of the
// memory the program itself mapped.
func selfPeakRSS() int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
				kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
				if err == nil {
					return kb * 1024
				}
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return int64(ru.Maxrss) * rssUnit()
}

// childPeakRSS is an exited child's ru_maxrss, in bytes: its peak, but on
// Linux at least the parent's peak when it forked (see selfPeakRSS).
func childPeakRSS(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss) * rssUnit()
	}
	return 0
}
