package experiment

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"neosim/results"
)

// Merge combines the output folders of a sweep's (or comparison's) shards
// into one dataset in out, and writes its comparison.arrow from the runs'
// summary files. Every shard folder must hold the same manifest, and
// together they must hold every run: a missing run is an error that names
// it. Runs in a folder other than out are copied into out (hard links where
// the file system allows); out may be one of the shard folders, or the only
// one (shards that wrote to one shared folder).
func Merge(out string, dirs []string) (*Comparison, error) {
	if len(dirs) == 0 {
		return nil, errors.New("merge: no folder to merge")
	}
	m, man, err := readManifest(dirs[0])
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	for _, d := range dirs[1:] {
		_, b, err := readManifest(d)
		if err != nil {
			return nil, fmt.Errorf("merge: %w", err)
		}
		if !bytes.Equal(b, man) {
			return nil, fmt.Errorf("merge: %s and %s are shards of different sweeps (their %s differ)", dirs[0], d, ManifestFile)
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	if err := m.writeManifest(out, false); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	if err := os.Remove(filepath.Join(out, results.ComparisonFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("merge: %w", err)
	}
	values := make([][][]float64, m.cells())
	var missing []string
	for c := range values {
		values[c] = make([][]float64, m.cellSeeds(c))
		for k, seed := range m.Seeds[:m.cellSeeds(c)] {
			dst := RunDir(out, m.cell(c), seed)
			src := ""
			for _, d := range dirs {
				if dir := RunDir(d, m.cell(c), seed); complete(dir) {
					src = dir
					break
				}
			}
			if src == "" {
				missing = append(missing, RunLabel(m.cell(c), seed))
				continue
			}
			if !sameDir(src, dst) {
				if err := copyRun(src, dst); err != nil {
					return nil, fmt.Errorf("merge: %w", err)
				}
			}
			sum, err := results.RunSummaryFile(dst)
			if err != nil {
				return nil, fmt.Errorf("merge: %w", err)
			}
			if values[c][k], err = results.ReadMetricValues(sum); err != nil {
				return nil, fmt.Errorf("merge: %w", err)
			}
		}
	}
	if len(missing) > 0 {
		n, more := len(missing), ""
		if n > 5 {
			more = fmt.Sprintf(" and %d more", len(missing)-5)
			missing = missing[:5]
		}
		return nil, fmt.Errorf("merge: %d of %d runs are missing (a shard not run yet, or failed): %s%s",
			n, m.runs(), strings.Join(missing, "; "), more)
	}
	c := &Comparison{Out: out, Params: m.Params, Variants: m.Variants, Pairs: m.Pairs, Seeds: m.Seeds,
		Baseline: m.cell(m.Baseline), Rows: m.rows(values)}
	if err := results.WriteComparison(out, m.Params, c.Rows); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	return c, nil
}

// complete reports whether a run folder holds a finished run: the writer
// renames run.json into place last.
func complete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, results.RunFile))
	return err == nil
}

func sameDir(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// copyRun copies a run folder's files to dst through a temporary folder
// renamed into place, replacing what dst held.
func copyRun(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), ".merge-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := linkOrCopy(filepath.Join(src, e.Name()), filepath.Join(tmp, e.Name())); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func linkOrCopy(src, dst string) error {
	if os.Link(src, dst) == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
