package results

import (
	"bufio"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/renameio/v2"
)

// WriteArrowFile writes one record batch as an Arrow IPC file at path, in
// the output files' codec, atomically (WriteFileAtomically).
func WriteArrowFile(path string, rec arrow.RecordBatch) error {
	return WriteFileAtomically(path, func(buf io.Writer) error {
		w, err := ipc.NewFileWriter(buf, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(memory.DefaultAllocator), ipcCodec)
		if err != nil {
			return fmt.Errorf("results: %s: %w", path, err)
		}
		if err := w.Write(rec); err != nil {
			return fmt.Errorf("results: writing %s: %w", path, err)
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("results: writing %s: %w", path, err)
		}
		return nil
	})
}

// WriteFileAtomically writes the file at path through write, buffered,
// atomically: to a temporary file in the same folder, synced and renamed
// into place, so that a reader sees the old file, or the new one whole,
// never a partial one (google/renameio). An error of write is returned as
// it is, and the temporary file removed.
func WriteFileAtomically(path string, write func(w io.Writer) error) error {
	f, err := renameio.NewPendingFile(path, renameio.WithPermissions(0o644))
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	defer f.Cleanup() // removes the temporary file unless it was renamed
	buf := bufio.NewWriterSize(f, 1<<20)
	if err := write(buf); err != nil {
		return err
	}
	if err := buf.Flush(); err != nil {
		return fmt.Errorf("results: writing %s: %w", path, err)
	}
	if err := f.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("results: %s: %w", path, err)
	}
	return nil
}
