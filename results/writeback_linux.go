package results

import (
	"os"

	"golang.org/x/sys/unix"
)

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
