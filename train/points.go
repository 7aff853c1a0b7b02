package train

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/flowlab/flowlab/dist"
	"github.com/flowlab/flowlab/mat"
)

// StartLaw returns the SPEC of the law Sample starts from: the run's source
// going forward, its target going backward.
func (m *Model) StartLaw(backward bool) string {
	if backward {
		return m.Config.Target
	}
	return m.Config.Source
}

// StartPoints returns points to carry: n draws from spec (a dist SPEC;
// FILE.npy and FILE.csv stand for file:FILE), or, for a data file, its rows
// in order: every row when allRows, else the first n (an error when the file
// has fewer). n < 1 is an error wherever n is used.
func StartPoints(spec string, n int, allRows bool, rng *rand.Rand) (*mat.Dense, error) {
	if !strings.HasPrefix(spec, "file:") && (strings.HasSuffix(spec, ".npy") || strings.HasSuffix(spec, ".csv")) {
		spec = "file:" + spec
	}
	s, err := dist.Parse(spec)
	if err != nil {
		return nil, err
	}
	fin, isFile := s.(*dist.Dataset)
	isFile = isFile && strings.HasPrefix(spec, "file:")
	if isFile && allRows {
		return fin.Data().Clone(), nil
	}
	if n < 1 {
		return nil, fmt.Errorf("%d points: want at least 1", n)
	}
	if isFile {
		data := fin.Data()
		if n > data.R {
			return nil, fmt.Errorf("%d points: %s has only %d rows", n, spec, data.R)
		}
		return data.Rows(0, n).Clone(), nil
	}
	x := mat.New(n, s.Dim())
	s.Sample(rng, x)
	return x, nil
}
