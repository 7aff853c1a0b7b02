package dist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/mat"
)

// TestToyLabelsSameDraws: SampleLabeled draws exactly what Sample draws
// from the same seed, and every label is in range.
func TestToyLabelsSameDraws(t *testing.T) {
	for _, kind := range ToyKinds() {
		t.Run(kind, func(t *testing.T) {
			toy, err := NewToy2D(kind, "")
			if err != nil {
				t.Fatal(err)
			}
			l, ok := LabelsOf(toy)
			if kind == "line" || kind == "swissroll" {
				if ok {
					t.Fatalf("%s has %d classes, want none", kind, l.Classes())
				}
				return
			}
			if !ok {
				t.Fatalf("%s has no labels", kind)
			}
			a, b := mat.New(2000, 2), mat.New(2000, 2)
			labels := make([]int, 2000)
			toy.Sample(rand.New(rand.NewPCG(3, 4)), a)
			l.SampleLabeled(rand.New(rand.NewPCG(3, 4)), b, labels)
			if !slicesEqual(a.Data, b.Data) {
				t.Fatal("SampleLabeled's draws differ from Sample's")
			}
			seen := make([]int, l.Classes())
			for _, c := range labels {
				if c < 0 || c >= l.Classes() {
					t.Fatalf("label %d out of 0..%d", c, l.Classes()-1)
				}
				seen[c]++
			}
			// Each class has probability 1/K: with n = 2000 its count is
			// n/K ± 5 standard deviations √(n(1/K)(1−1/K)).
			n, k := 2000.0, float64(l.Classes())
			for c, m := range seen {
				if math.Abs(float64(m)-n/k) > 5*math.Sqrt(n/k*(1-1/k)) {
					t.Errorf("class %d drawn %d times of 2000, want about %.0f", c, m, n/k)
				}
			}
		})
	}
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestToyLabelsMeaning checks each label against the geometry that defines
// it, on unscaled, noiseless sets: 8gaussians' nearest centre (with
// per-coordinate sd 0.1 a draw is 19 sd from the boundary of its sector),
// the moon a point lies on, the ring of a circle, the checkerboard cell.
func TestToyLabelsMeaning(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := mat.New(4000, 2)
	labels := make([]int, 4000)
	check := func(kind string, set func(*Toy2D), want func(x, y float64) int) {
		t.Run(kind, func(t *testing.T) {
			toy, _ := NewToy2D(kind, "")
			if set != nil {
				set(toy)
			}
			toy.SampleLabeled(rng, x, labels)
			bad := 0
			for i := range labels {
				if want(float64(x.At(i, 0)), float64(x.At(i, 1))) != labels[i] {
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d labels disagree with the geometry", bad, len(labels))
			}
		})
	}
	check("8gaussians", func(t *Toy2D) { t.Var = 0.01 }, func(x, y float64) int {
		k := int(math.Round(math.Atan2(y, x) / (math.Pi / 4)))
		return (k + 8) % 8
	})
	check("moons", func(t *Toy2D) { t.Noise, t.Scale, t.Shift = 0, 1, [2]float64{} }, func(x, y float64) int {
		// The upper moon is the upper half of the unit circle.
		if math.Abs(x*x+y*y-1) < 1e-5 && y >= -1e-6 {
			return 0
		}
		return 1
	})
	check("circles", func(t *Toy2D) { t.Noise, t.Scale = 0, 1 }, func(x, y float64) int {
		if math.Abs(math.Hypot(x, y)-1) < 1e-5 {
			return 0
		}
		return 1
	})
	check("checkerboard", func(t *Toy2D) { t.Noise, t.Scale = 0, 1 }, func(x, y float64) int {
		return 2*int(math.Floor(y)+2) + int(math.Floor(x)+2)/2
	})
}

// npyLabels encodes values as a 1-D NPY array of dtype descr.
func npyLabels(descr string, shape string, vals []float64) []byte {
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	for _, v := range vals {
		switch descr {
		case "<i8":
			binary.Write(&b, binary.LittleEndian, int64(v))
		case "|u1":
			b.WriteByte(byte(v))
		case "<f4":
			binary.Write(&b, binary.LittleEndian, float32(v))
		case "<f8":
			binary.Write(&b, binary.LittleEndian, v)
		}
	}
	return b.Bytes()
}

func TestReadNPYLabels(t *testing.T) {
	for _, tc := range []struct {
		name, descr, shape string
		vals               []float64
		err                string // "" for success
	}{
		{"int64", "<i8", "(4,)", []float64{0, 3, 1, 2}, ""},
		{"uint8 column", "|u1", "(4, 1)", []float64{9, 0, 0, 1}, ""},
		{"whole floats", "<f4", "(3,)", []float64{1, 0, 2}, ""},
		{"fraction", "<f8", "(2,)", []float64{1, 0.5}, "whole numbers"},
		{"negative", "<i8", "(2,)", []float64{-1, 0}, "whole numbers"},
		{"NaN", "<f8", "(1,)", []float64{math.NaN()}, "whole numbers"},
		{"too large", "<i8", "(1,)", []float64{MaxClasses}, "whole numbers"},
		{"2-D", "<i8", "(2, 2)", []float64{0, 1, 1, 0}, "want (n,)"},
		{"short", "<i8", "(5,)", []float64{0, 1}, "need 40 data bytes"},
		{"complex", "<c8", "(1,)", nil, "dtype"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadNPYLabels(bytes.NewReader(npyLabels(tc.descr, tc.shape, tc.vals)))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, %v; want an error with %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range tc.vals {
				if got[i] != int(v) {
					t.Fatalf("got %v, want %v", got, tc.vals)
				}
			}
		})
	}
}

func TestFileSpecLabels(t *testing.T) {
	dir := t.TempDir()
	x := mat.New(4, 2)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	xp := filepath.Join(dir, "x.npy")
	if err := WriteNPYFile(xp, x); err != nil {
		t.Fatal(err)
	}
	good, short := filepath.Join(dir, "y.npy"), filepath.Join(dir, "short.npy")
	os.WriteFile(good, npyLabels("<i8", "(4,)", []float64{1, 0, 1, 2}), 0o644)
	os.WriteFile(short, npyLabels("<i8", "(3,)", []float64{1, 0, 1}), 0o644)

	s, err := Parse("file:" + xp + ",labels=" + good)
	if err != nil {
		t.Fatal(err)
	}
	l, ok := LabelsOf(s)
	if !ok || l.Classes() != 3 {
		t.Fatalf("labelled file: %v classes, ok %v; want 3", l, ok)
	}
	rows, labels := mat.New(50, 2), make([]int, 50)
	l.SampleLabeled(rand.New(rand.NewPCG(1, 1)), rows, labels)
	for i, c := range labels {
		// Row k of x is (2k, 2k+1) with label {1, 0, 1, 2}[k].
		k := int(rows.At(i, 0)) / 2
		if c != []int{1, 0, 1, 2}[k] {
			t.Fatalf("row %d (data row %d) has label %d", i, k, c)
		}
	}
	if _, err := Parse("file:" + xp + ",labels=" + short); !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), "3 labels for 4 rows") {
		t.Errorf("short labels: got %v, want ErrSpec naming the counts", err)
	}
	if _, err := Parse("file:" + xp + ",labels="); !errors.Is(err, ErrSpec) {
		t.Errorf("empty labels path: got %v, want ErrSpec", err)
	}
	plain, _ := Parse("file:" + xp)
	if _, ok := LabelsOf(plain); ok {
		t.Error("a file without labels= has labels")
	}
	if plain.(*Dataset).Digest() == s.(*Dataset).Digest() {
		t.Error("labels do not change the digest")
	}
}

func FuzzReadNPYLabels(f *testing.F) {
	f.Add(npyLabels("<i8", "(4,)", []float64{0, 3, 1, 2}))
	f.Add(npyLabels("<f4", "(2, 1)", []float64{1, 0.5}))
	f.Fuzz(func(t *testing.T, data []byte) {
		labels, err := ReadNPYLabels(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, l := range labels {
			if l < 0 || l >= MaxClasses {
				t.Fatalf("label %d = %d accepted", i, l)
			}
		}
	})
}
