package dist

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// ReadNPYLabels reads class labels from an NPY array of shape (n,) or (n, 1)
// of integers (int8 to int64, uint8 to uint64, little-endian) or of floats
// holding whole numbers, each in 0..MaxClasses−1.
func ReadNPYLabels(r io.Reader) ([]int, error) {
	br := bufio.NewReader(r)
	h, err := readNPYHeader(br)
	if err != nil {
		return nil, err
	}
	dec, size, err := labelDecoder(h.descr)
	if err != nil {
		return nil, err
	}
	if h.fortran && len(h.shape) > 1 {
		return nil, fmt.Errorf("npy: Fortran-order labels not supported (save np.ascontiguousarray(labels))")
	}
	if !(len(h.shape) == 1 || len(h.shape) == 2 && h.shape[1] == 1) {
		return nil, fmt.Errorf("npy: labels of shape %v: want (n,) or (n, 1)", h.shape)
	}
	n := h.shape[0]
	if n < 1 || n > math.MaxInt32 {
		return nil, fmt.Errorf("npy: %d labels: want 1 to %d", n, math.MaxInt32)
	}
	want := int64(n) * int64(size)
	var buf bytes.Buffer
	got, err := io.Copy(&buf, io.LimitReader(br, want+1))
	if err != nil {
		return nil, fmt.Errorf("npy: reading labels: %w", err)
	}
	if got != want {
		return nil, fmt.Errorf("npy: %d labels of %s need %d data bytes, file has %d", n, h.descr, want, got)
	}
	raw := buf.Bytes()
	labels := make([]int, n)
	for i := range labels {
		v := dec(raw[i*size:])
		if !(v >= 0 && v < MaxClasses && v == math.Trunc(v)) {
			return nil, fmt.Errorf("npy: label %d is %v: labels are whole numbers in 0..%d", i, v, MaxClasses-1)
		}
		labels[i] = int(v)
	}
	return labels, nil
}

// labelDecoder returns a function reading one element of dtype descr as a
// float64 (exact for every value that can pass as a label) and its size.
func labelDecoder(descr string) (func([]byte) float64, int, error) {
	le := binary.LittleEndian
	switch descr {
	case "|i1", "<i1":
		return func(b []byte) float64 { return float64(int8(b[0])) }, 1, nil
	case "|u1", "<u1":
		return func(b []byte) float64 { return float64(b[0]) }, 1, nil
	case "<i2":
		return func(b []byte) float64 { return float64(int16(le.Uint16(b))) }, 2, nil
	case "<u2":
		return func(b []byte) float64 { return float64(le.Uint16(b)) }, 2, nil
	case "<i4":
		return func(b []byte) float64 { return float64(int32(le.Uint32(b))) }, 4, nil
	case "<u4":
		return func(b []byte) float64 { return float64(le.Uint32(b)) }, 4, nil
	case "<i8":
		return func(b []byte) float64 { return float64(int64(le.Uint64(b))) }, 8, nil
	case "<u8":
		return func(b []byte) float64 { return float64(le.Uint64(b)) }, 8, nil
	case "<f4":
		return func(b []byte) float64 { return float64(math.Float32frombits(le.Uint32(b))) }, 4, nil
	case "<f8":
		return func(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) }, 8, nil
	}
	return nil, 0, fmt.Errorf("npy: labels of dtype %q: want little-endian integers or floats", descr)
}

// ReadNPYLabelsFile reads labels from an NPY file (ReadNPYLabels).
func ReadNPYLabelsFile(path string) ([]int, error) {
	return readFile(path, 1, ReadNPYLabels)
}
