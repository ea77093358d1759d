//go:build linux

package calibrate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// execLoad is the operator's load command, `sh -c CMD`, in its own process
// group so that SIGSTOP and SIGCONT reach every process it starts.
type execLoad struct {
	cmd  *exec.Cmd
	pgid int

	mu      sync.Mutex
	thr     float64
	seq     uint64
	running bool

	done    chan struct{} // closed when the command has exited
	waitErr error         // its exit status; set before done closes
}

var _ Load = (*execLoad)(nil)

// stopGrace is how long Stop waits after SIGTERM before SIGKILL (a
// variable for tests).
var stopGrace = 5 * time.Second

// startExecLoad starts command with sh -c. Its stdout is scanned for
// throughput and, with its stderr, copied to out (nil: discarded).
func startExecLoad(command string, out io.Writer) (Load, error) {
	cmd := exec.Command("sh", "-c", command)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if out != nil {
		cmd.Stderr = out
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("calibrate: load command: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("calibrate: load command: %w", err)
	}
	l := &execLoad{cmd: cmd, pgid: cmd.Process.Pid, running: true, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if out != nil {
				fmt.Fprintln(out, line)
			}
			if v, ok := ParseThroughput(line); ok {
				l.mu.Lock()
				l.thr = v
				l.seq++
				l.mu.Unlock()
			}
		}
		io.Copy(io.Discard, stdout) // a line over 1 MiB: drain, so the command does not block
		l.waitErr = cmd.Wait()
		close(l.done)
	}()
	return l, nil
}

func (l *execLoad) SetRunning(on bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if on == l.running {
		return nil
	}
	sig := syscall.SIGSTOP
	if on {
		sig = syscall.SIGCONT
	}
	if err := syscall.Kill(-l.pgid, sig); err != nil {
		if err := l.Exited(); err != nil {
			return err
		}
		return fmt.Errorf("calibrate: load command: %v: %w", sig, err)
	}
	l.running = on
	return nil
}

func (l *execLoad) Throughput() (float64, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.thr, l.seq
}

func (l *execLoad) Exited() error {
	select {
	case <-l.done:
	default:
		return nil
	}
	if l.waitErr != nil {
		return fmt.Errorf("calibrate: the load command exited before the sweep ended: %w", l.waitErr)
	}
	return errors.New("calibrate: the load command exited before the sweep ended (status 0): it must run until neosim stops it")
}

// Stop resumes the process group (a stopped process cannot act on
// SIGTERM), sends SIGTERM, and SIGKILL after stopGrace.
func (l *execLoad) Stop() error {
	select {
	case <-l.done:
		return nil
	default:
	}
	syscall.Kill(-l.pgid, syscall.SIGCONT)
	syscall.Kill(-l.pgid, syscall.SIGTERM)
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-l.done:
	case <-t.C:
		syscall.Kill(-l.pgid, syscall.SIGKILL)
		t.Reset(stopGrace)
		select {
		case <-l.done:
		case <-t.C:
			// A process that left the group still holds its stdout.
			return fmt.Errorf("calibrate: the load command (process group %d) did not exit after SIGKILL", l.pgid)
		}
	}
	return nil
}
