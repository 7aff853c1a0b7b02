package dist

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/mat"
)

// FuzzNPYRoundTrip: an NPY file that ReadNPY accepts holds finite values,
// and writing them with EncodeNPY and reading back gives the same bits.
// (FuzzReadNPY checks the shape only.)
func FuzzNPYRoundTrip(f *testing.F) {
	f.Add(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", []byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64}))
	f.Add(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", make([]byte, 16)))
	f.Add(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x47})) // 2^128: beyond float32
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadNPY(bytes.NewReader(b))
		if err != nil {
			return
		}
		for i, v := range m.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("accepted a non-finite value %v at %d", v, i)
			}
		}
		var buf bytes.Buffer
		if err := EncodeNPY(&buf, m); err != nil {
			t.Fatal(err)
		}
		m2, err := ReadNPY(&buf)
		if err != nil {
			t.Fatalf("re-encoded file rejected: %v", err)
		}
		if m2.R != m.R || m2.C != m.C {
			t.Fatalf("shape %s became %s", m.Shape(), m2.Shape())
		}
		for i, v := range m.Data {
			if math.Float32bits(v) != math.Float32bits(m2.Data[i]) {
				t.Fatalf("value %d changed: %v → %v", i, v, m2.Data[i])
			}
		}
	})
}

// FuzzParseSamples: a SPEC that parses (files and MNIST left out, small
// dimensions only) draws finite values of its dimension, and the same seed
// draws the same bits. (FuzzParse only draws.)
func FuzzParseSamples(f *testing.F) {
	for _, s := range []string{"8gaussians", "moons", "gaussian:dim=3,var=0.5,mean=1", "line:noise=0.1",
		"embedded:dim=8,rank=2,var=0.5,rotate=true,seed=3,eps=0.1", "circles:factor=0.3", "gaussian:dim=2,var=1e38", "checkerboard"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		name, _, _ := strings.Cut(strings.TrimSpace(spec), ":")
		if name == "file" || name == "mnist" {
			return
		}
		if m := bigDim.FindStringSubmatch(spec); m != nil {
			if d, err := strconv.Atoi(m[1]); err != nil || d > 64 {
				return
			}
		}
		s, err := Parse(spec)
		if err != nil || s.Dim() < 1 || s.Dim() > 64 {
			return
		}
		x, y := mat.New(8, s.Dim()), mat.New(8, s.Dim())
		s.Sample(rand.New(rand.NewPCG(1, 1)), x)
		s.Sample(rand.New(rand.NewPCG(1, 1)), y)
		for i, v := range x.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%q drew a non-finite value %v", spec, v)
			}
			if math.Float32bits(v) != math.Float32bits(y.Data[i]) {
				t.Fatalf("%q: the same seed drew different values", spec)
			}
		}
	})
}
