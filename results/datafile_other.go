//go:build !linux

package results

import "os"

// createDataFile creates name for writing through a buffer of bufSize
// bytes, through the page cache (there is no O_DIRECT here).
func createDataFile(name string, bufSize int, large bool) (*os.File, dataWriter, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return f, bufferedData(f, bufSize), nil
}

// startWriteback does nothing where sync_file_range(2) does not exist: the
// table's final sync writes the whole file.
func startWriteback(*os.File, int64, int64) {}
