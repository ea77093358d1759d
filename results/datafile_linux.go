package results

import (
	"errors"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// createDataFile creates name for writing through a buffer of bufSize
// bytes. A large file is opened with O_DIRECT where the file system allows
// it (ext4, XFS and btrfs do; tmpfs does not) and written by a
// directWriter; otherwise through the page cache.
func createDataFile(name string, bufSize int, large bool) (*os.File, dataWriter, error) {
	const flags = os.O_RDWR | os.O_CREATE | os.O_TRUNC
	if large && bufSize%directAlign == 0 {
		f, err := os.OpenFile(name, flags|syscall.O_DIRECT, 0o644)
		if err == nil {
			return f, &directWriter{f: f, buf: alignedBuffer(bufSize), direct: true}, nil
		}
		if !errors.Is(err, syscall.EINVAL) {
			return nil, nil, err
		}
	}
	f, err := os.OpenFile(name, flags, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return f, bufferedData(f, bufSize), nil
}

// directAlign is the alignment O_DIRECT asks of a write's memory, offset and
// length: 4096 covers disks of 512- and 4096-byte logical blocks.
const directAlign = 4096

// directWriter fills an aligned buffer and writes it whole, with O_DIRECT:
// the bytes go from the buffer to the disk without a copy into the page
// cache. Flush writes the aligned part of what is left the same way and
// the rest (the file's tail, not a whole block) through the page cache,
// with O_DIRECT turned off. A file system that refuses a direct write
// (EINVAL) gets the rest of the file through the page cache too.
type directWriter struct {
	f      *os.File
	buf    []byte // len(buf) a multiple of directAlign, &buf[0] aligned
	n      int    // bytes in buf
	direct bool
	err    error
}

// alignedBuffer returns size bytes whose first is at a multiple of
// directAlign (Go does not move heap memory).
func alignedBuffer(size int) []byte {
	b := make([]byte, size+directAlign)
	off := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (directAlign - 1))
	return b[off : off+size : off+size]
}

func (w *directWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	written := 0
	for len(p) > 0 {
		c := copy(w.buf[w.n:], p)
		w.n += c
		written += c
		p = p[c:]
		if w.n == len(w.buf) {
			if w.err = w.write(w.buf); w.err != nil {
				return written, w.err
			}
			w.n = 0
		}
	}
	return written, nil
}

// Flush writes what the buffer holds: after it the file holds every byte
// written, and further writes go through the page cache.
func (w *directWriter) Flush() error {
	if w.err != nil {
		return w.err
	}
	whole := w.n &^ (directAlign - 1)
	if w.err = w.write(w.buf[:whole]); w.err != nil {
		return w.err
	}
	if tail := w.buf[whole:w.n]; len(tail) > 0 {
		if w.err = w.buffered(); w.err == nil {
			w.err = w.write(tail)
		}
	}
	w.n = 0
	return w.err
}

// write writes b whole (direct while w.direct, when b is aligned).
func (w *directWriter) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	n, err := w.f.Write(b)
	if w.direct && n == 0 && errors.Is(err, syscall.EINVAL) {
		// O_DIRECT accepted at open, refused at the write: go on through
		// the page cache.
		if err = w.buffered(); err == nil {
			_, err = w.f.Write(b)
		}
	}
	return err
}

// buffered turns O_DIRECT off on the file.
func (w *directWriter) buffered() error {
	if !w.direct {
		return nil
	}
	w.direct = false
	c, err := w.f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := c.Control(func(fd uintptr) {
		var fl int
		if fl, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0); ferr == nil {
			_, ferr = unix.FcntlInt(fd, unix.F_SETFL, fl&^unix.O_DIRECT)
		}
	}); err != nil {
		return err
	}
	return ferr
}

// startWriteback asks Linux to start writing the file's bytes [off, off+n)
// to disk and returns at once (sync_file_range(2), SYNC_FILE_RANGE_WRITE).
// It is a hint: an error (a file system that does not support it) is
// ignored, and the table's final sync still guarantees the bytes.
func startWriteback(f *os.File, off, n int64) {
	if c, err := f.SyscallConn(); err == nil {
		c.Control(func(fd uintptr) {
			unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
		})
	}
}
