package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const generationFile = "standin-generation"

// bumpGeneration reads <dir>/standin-generation (0 when absent), adds one, writes it back durably
// (temp file, fsync, rename, fsync of the directory) and returns the new value.
func bumpGeneration(dir string) (int64, error) {
	path := filepath.Join(dir, generationFile)
	var gen int64
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		s := strings.TrimSpace(string(b))
		gen, err = strconv.ParseInt(s, 10, 64)
		if err != nil || gen < 0 {
			return 0, fmt.Errorf("%s holds %q, not a generation number", path, s)
		}
	case errors.Is(err, fs.ErrNotExist):
		gen = 0
	default:
		return 0, err
	}
	gen++
	tmp, err := os.CreateTemp(dir, "."+generationFile+".*")
	if err != nil {
		return 0, fmt.Errorf("data dir %s is not writable: %w", dir, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(strconv.FormatInt(gen, 10) + "\n"); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("fsync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable; some filesystems refuse directory fsync
		d.Close()
	}
	return gen, nil
}
