//go:build linux

package calibrate

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the load's two output copiers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// groupStopped reports whether SIGSTOP has taken hold of process group
// pgid: one of its processes is stopped (T) and every other is stopped or
// in uninterruptible sleep (D). The shell is D, not T, when the signal
// catches the child it has just vforked (dash does) before the child
// execs: the child stops, and the shell waits in the kernel for it, with
// every signal blocked, until it is resumed. Only runnable or sleeping
// members mean the group is still going.
func groupStopped(pgid int) bool {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	stopped := false
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue // it ended meanwhile
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		// After the command's name: state, ppid, pgrp, ...
		f := strings.Fields(s[i+1:])
		if len(f) < 3 || f[2] != strconv.Itoa(pgid) {
			continue
		}
		switch f[0] {
		case "T":
			stopped = true
		case "D":
		default:
			return false
		}
	}
	return stopped
}

// The real load: sh -c in its own process group, paused with SIGSTOP,
// resumed with SIGCONT, throughput parsed from stdout, stopped with
// SIGTERM.
func TestExecLoad(t *testing.T) {
	var out lockedBuffer
	l, err := startExecLoad(`i=0; while :; do i=$((i+1)); echo "step $i throughput=$i.5"; echo warn >&2; sleep 0.01; done`, &out)
	if err != nil {
		t.Fatal(err)
	}
	el := l.(*execLoad)
	defer l.Stop()
	waitFor(t, "a throughput line", func() bool { _, seq := l.Throughput(); return seq >= 3 })
	if v, seq := l.Throughput(); v != float64(seq)+0.5 {
		t.Errorf("throughput %v after %d lines, want %v", v, seq, float64(seq)+0.5)
	}
	if err := l.SetRunning(false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the process group to stop", func() bool { return groupStopped(el.pgid) })
	time.Sleep(50 * time.Millisecond) // let the reader drain the pipe
	_, seq := l.Throughput()
	time.Sleep(100 * time.Millisecond)
	if _, seq2 := l.Throughput(); seq2 > seq+1 { // one line may be in flight
		t.Errorf("throughput advanced from %d to %d while stopped", seq, seq2)
	}
	if err := l.SetRunning(true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the load to resume", func() bool { _, s := l.Throughput(); return s > seq+2 })
	if err := l.Exited(); err != nil {
		t.Errorf("Exited() = %v while running", err)
	}
	if err := l.SetRunning(false); err != nil { // Stop must resume a stopped group to end it
		t.Fatal(err)
	}
	start := time.Now()
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Stop took %v: SIGTERM should end a paused sh at once", d)
	}
	if err := syscall.Kill(el.pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process %d still exists after Stop: %v", el.pgid, err)
	}
	if s := out.String(); !strings.Contains(s, "step 1 throughput=1.5\n") || !strings.Contains(s, "warn\n") {
		t.Errorf("output not forwarded: %q…", s[:min(len(s), 200)])
	}
}

func TestExecLoadExits(t *testing.T) {
	for _, tc := range []struct{ cmd, want string }{
		{"echo throughput=3; exit 3", "exited before the sweep ended: exit status 3"},
		{"echo throughput=3", "exited before the sweep ended (status 0)"},
	} {
		l, err := startExecLoad(tc.cmd, nil)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the command to exit", func() bool { return l.Exited() != nil })
		if err := l.Exited(); !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Exited() = %v, want …%q…", tc.cmd, err, tc.want)
		}
		if v, seq := l.Throughput(); v != 3 || seq != 1 {
			t.Errorf("%s: throughput %v (seq %d), want 3", tc.cmd, v, seq)
		}
		if err := l.SetRunning(false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: SetRunning on an exited load = %v", tc.cmd, err)
		}
		if err := l.Stop(); err != nil {
			t.Errorf("%s: Stop = %v", tc.cmd, err)
		}
	}
}

// A command that ignores SIGTERM is killed after the grace period.
func TestExecLoadKill(t *testing.T) {
	defer func(g time.Duration) { stopGrace = g }(stopGrace)
	stopGrace = 200 * time.Millisecond
	l, err := startExecLoad(`trap '' TERM; echo throughput=1; while :; do sleep 0.05; done`, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the trap to be set", func() bool { _, seq := l.Throughput(); return seq > 0 })
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(l.(*execLoad).pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process still exists after SIGKILL: %v", err)
	}
}
