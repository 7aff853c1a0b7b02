package dist

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// availableMemory returns the bytes of memory the system reports available
// (MemAvailable in /proc/meminfo), or 0 when it cannot tell.
func availableMemory() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 2 && fields[1] == "kB" {
				kb, err := strconv.ParseUint(fields[0], 10, 64)
				if err == nil {
					return kb * 1024
				}
			}
		}
	}
	return 0
}

// checkFileFits refuses, before reading, a file whose loaded form would not
// fit in the memory the system has available. factor is how many bytes of
// memory each byte of the file may need at worst while loading (IDX gzip: 8,
// for the compression ratio; NPY: 1; CSV: 1).
func checkFileFits(f *os.File, path string, factor uint64) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", path)
	}
	avail := availableMemory()
	need := uint64(st.Size()) * factor
	if avail > 0 && need > avail {
		return fmt.Errorf("%s: %d bytes would need about %d MiB of memory to load, only %d MiB available",
			path, st.Size(), need>>20, avail>>20)
	}
	return nil
}

// readFile opens path, checks that it fits in available memory
// (checkFileFits with factor) and reads it with read; read's errors are
// wrapped with the file's name.
func readFile[T any](path string, factor uint64, read func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, err
	}
	defer f.Close()
	if err := checkFileFits(f, path, factor); err != nil {
		return zero, err
	}
	v, err := read(f)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}
