package results

import (
	"bufio"
	"io"
	"os"
)

// A table writes its file through a dataWriter (createDataFile): a buffer
// in front of the file, emptied by Flush once the last bytes are written.
// The table then syncs the file, so that a folder holding run.json holds a
// complete run after a crash.
//
// A large data file (the jobs file) goes to the disk without
// the page cache where the system allows it (Linux's O_DIRECT:
// datafile_linux.go). Writing 1.75 GB into the page cache, as the meta
// year's jobs.arrow is, cost this machine 3.2–5.5 s of system CPU
// (`dd bs=1M count=1750`), against 0.3–0.65 s for the same bytes written
// direct, and the final sync then waited for all of it (0.2–0.6 s).
// Elsewhere it goes through the page cache, and the OS is asked to start
// writing it out as it comes (writebackFile).
type dataWriter interface {
	io.Writer
	Flush() error
}

// writebackEvery is how many bytes of a data file go to the OS between two
// early-writeback hints (see writebackFile).
const writebackEvery = 32 << 20

// writebackFile is a data file written through the page cache that asks
// the OS, every writebackEvery bytes, to start writing what it has to disk,
// without waiting for it (startWriteback): without the hints the OS may
// keep the whole file in memory until the table's sync, and the run then
// waits for all of it.
type writebackFile struct {
	f         *os.File
	off, sent int64                        // bytes written; bytes already hinted
	hint      func(*os.File, int64, int64) // startWriteback; tests record the calls
}

func newWritebackFile(f *os.File) *writebackFile {
	return &writebackFile{f: f, hint: startWriteback}
}

func (w *writebackFile) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.sent >= writebackEvery {
		w.hint(w.f, w.sent, w.off-w.sent)
		w.sent = w.off
	}
	return n, err
}

// bufferedData writes f through the page cache, with writeback hints.
func bufferedData(f *os.File, bufSize int) dataWriter {
	return bufio.NewWriterSize(newWritebackFile(f), bufSize)
}
