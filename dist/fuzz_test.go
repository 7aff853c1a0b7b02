package dist

import (
	"bytes"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/mat"
)

// FuzzReadIDX: any input gives a result or an error, never a panic, and a
// result's data is exactly as long as its dimensions say.
func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6}))
	f.Add(gz(idxBytes([]int{1, 2, 2}, []byte{1, 2, 3, 4})))
	f.Add(idxBytes([]int{4}, []byte{1, 2, 3}))
	f.Add([]byte{0, 0, 8})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ReadIDX(bytes.NewReader(b))
		if err != nil {
			return
		}
		n := 1
		for _, d := range x.Dims {
			n *= d
		}
		if n != len(x.Data) {
			t.Fatalf("dims %v but %d bytes", x.Dims, len(x.Data))
		}
	})
}

// FuzzReadNPY: never a panic; a result has the announced shape.
func FuzzReadNPY(f *testing.F) {
	f.Add(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", make([]byte, 8)))
	f.Add(npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }", make([]byte, 16)))
	f.Add(npyFile("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }", make([]byte, 16)))
	f.Add([]byte("\x93NUMPY\x02\x00\x05\x00\x00\x00{}  \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadNPY(bytes.NewReader(b))
		if err != nil {
			return
		}
		if m.R < 1 || m.C < 1 || len(m.Data) != m.R*m.C {
			t.Fatalf("bad matrix %s with %d values", m.Shape(), len(m.Data))
		}
	})
}

// FuzzReadCSV: never a panic; a result is rectangular and survives a round
// trip through EncodeCSV unchanged.
func FuzzReadCSV(f *testing.F) {
	f.Add("x,y\n1,2\n3,4\n")
	f.Add("1,2\n3\n")
	f.Add("1e3, -2.5\n\"4\",5\n")
	f.Add("a\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, h, err := ReadCSV(strings.NewReader(s))
		if err != nil {
			return
		}
		if len(m.Data) != m.R*m.C || m.R < 1 {
			t.Fatalf("bad matrix %s", m.Shape())
		}
		var buf bytes.Buffer
		if err := EncodeCSV(&buf, m, nil); err != nil {
			t.Fatal(err)
		}
		m2, _, err := ReadCSV(&buf)
		if err != nil {
			t.Fatalf("round trip: %v (header %q)", err, h)
		}
		for i := range m.Data {
			if m.Data[i] != m2.Data[i] {
				t.Fatalf("round trip changed element %d: %v → %v", i, m.Data[i], m2.Data[i])
			}
		}
	})
}

var bigDim = regexp.MustCompile(`dim\s*=\s*\+?0*(\d{3,})`)

// FuzzParse: any SPEC gives a Sampler or an error, never a panic; a Sampler
// of small dimension samples finite values. Files and MNIST are left out
// (they read the disk), and so are large dimensions (slow, not different).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"8gaussians", "moons:style=torchcfm", "line:noise=0.1", "gaussian:dim=3,var=0.5,mean=1",
		"embedded:dim=8,rank=2,var=0.5,rotate=true,seed=3,eps=0.1", "circles:factor=0.3", "x:y", ":", "gaussian:dim=2,dim=3"} {
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
		if err != nil {
			if s != nil {
				t.Fatalf("Parse(%q) returned both a sampler and %v", spec, err)
			}
			return
		}
		if s.Dim() < 1 || s.Dim() > 1000 {
			return
		}
		x := mat.New(4, s.Dim())
		s.Sample(rand.New(rand.NewPCG(1, 1)), x)
	})
}
