package dist

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flowlab/flowlab/internal/atomicfile"
	"github.com/flowlab/flowlab/mat"
)

// ReadCSV reads a table of numbers, one row per line, comma-separated, into
// a float32 matrix. A first line that is not all numbers is taken as a
// header and returned. Every row must have as many fields as the first;
// every field must be a finite number within float32's range. Errors name
// the line and field (both counted from 1).
func ReadCSV(r io.Reader) (m *mat.Dense, header []string, err error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var data []float32
	cols := -1
	rows := 0
	for rec := 0; ; rec++ {
		fields, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, fmt.Errorf("csv: line %d, field %d: %w", pe.Line, pe.Column, pe.Err)
			}
			return nil, nil, fmt.Errorf("csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if rec == 0 && !allNumbers(fields) {
			header = append([]string(nil), fields...)
			cols = len(fields)
			continue
		}
		if cols < 0 {
			cols = len(fields)
		}
		if len(fields) != cols {
			return nil, nil, fmt.Errorf("csv: line %d has %d fields, want %d like the first line", line, len(fields), cols)
		}
		for j, f := range fields {
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || math.IsInf(float64(float32(v)), 0) {
				q := f
				if len(q) > 40 {
					q = q[:40] + "…"
				}
				return nil, nil, fmt.Errorf("csv: line %d, field %d: %q is not a finite float32 number", line, j+1, q)
			}
			data = append(data, float32(v))
		}
		rows++
	}
	if rows == 0 {
		return nil, nil, fmt.Errorf("csv: no rows of numbers")
	}
	return mat.NewFrom(rows, cols, data), header, nil
}

func allNumbers(fields []string) bool {
	for _, f := range fields {
		if _, err := strconv.ParseFloat(strings.TrimSpace(f), 64); err != nil {
			return false
		}
	}
	return true
}

// ReadCSVFile reads a CSV file of numbers (see ReadCSV), after checking
// that it fits in available memory; errors name the file.
func ReadCSVFile(path string) (*mat.Dense, []string, error) {
	type table struct {
		m *mat.Dense
		h []string
	}
	t, err := readFile(path, 2, func(r io.Reader) (table, error) {
		m, h, err := ReadCSV(r)
		return table{m, h}, err
	})
	return t.m, t.h, err
}

// EncodeCSV writes m as CSV, one row per line, preceded by header when it is
// not nil (it must then have m.C names). Values are written in the shortest
// form that reads back to the same float32.
func EncodeCSV(w io.Writer, m *mat.Dense, header []string) error {
	cw := csv.NewWriter(w)
	if header != nil {
		if len(header) != m.C {
			return fmt.Errorf("csv: header has %d names for %d columns", len(header), m.C)
		}
		if err := cw.Write(header); err != nil {
			return err
		}
	}
	rec := make([]string, m.C)
	for i := 0; i < m.R; i++ {
		for j, v := range m.Row(i) {
			rec[j] = strconv.FormatFloat(float64(v), 'g', -1, 32)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteCSVFile writes m to path as CSV (see EncodeCSV), atomically.
func WriteCSVFile(path string, m *mat.Dense, header []string) error {
	return atomicfile.Write(path, func(w io.Writer) error { return EncodeCSV(w, m, header) })
}

// LoadFile reads a data file, chosen by its extension: .npy (ReadNPYFile)
// or .csv (ReadCSVFile), as a finite data set named "file:PATH".
func LoadFile(path string) (*Dataset, error) {
	var m *mat.Dense
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		m, err = ReadNPYFile(path)
	case ".csv":
		m, _, err = ReadCSVFile(path)
	default:
		return nil, fmt.Errorf("%w %q: file %s: extension is not .npy or .csv", ErrSpec, "file:"+path, path)
	}
	if err != nil {
		return nil, err
	}
	return NewDataset("file:"+path, m), nil
}
