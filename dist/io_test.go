package dist

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowlab/flowlab/mat"
)

// idxBytes builds an IDX file of unsigned bytes as the format defines it:
// 00 00 08 nd, nd big-endian uint32 sizes, then the data.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestReadIDX(t *testing.T) {
	data := []byte{1, 2, 3, 4, 5, 6}
	for _, raw := range [][]byte{idxBytes([]int{2, 3}, data), gz(idxBytes([]int{2, 3}, data))} {
		x, err := ReadIDX(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if len(x.Dims) != 2 || x.Dims[0] != 2 || x.Dims[1] != 3 || !bytes.Equal(x.Data, data) {
			t.Errorf("got %v %v", x.Dims, x.Data)
		}
	}
	bad := map[string]struct {
		raw  []byte
		want string
	}{
		"truncated data":   {idxBytes([]int{2, 3}, data[:5]), "truncated"},
		"truncated header": {idxBytes([]int{2, 3}, nil)[:6], "truncated header"},
		"wrong magic":      {append([]byte{1, 0, 8, 2}, idxBytes([]int{2, 3}, data)[4:]...), "wrong magic"},
		"wrong type":       {append([]byte{0, 0, 0x0d, 2}, idxBytes([]int{2, 3}, data)[4:]...), "not unsigned byte"},
		"trailing":         {idxBytes([]int{2, 3}, append(data, 9)), "trailing"},
		"gzip truncated":   {gz(idxBytes([]int{2, 3}, data))[:20], "idx"},
		"huge":             {idxBytes([]int{1 << 20, 1 << 20}, data), "announce"},
		"empty":            {nil, "truncated header"},
	}
	for name, c := range bad {
		_, err := ReadIDX(bytes.NewReader(c.raw))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, c.want)
		}
	}
}

// npyFile builds an NPY file the way NumPy writes one (format 1.0, header
// padded with spaces to a multiple of 64 bytes and ended by a newline).
func npyFile(dict string, data []byte) []byte {
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	b = append(b, hdr...)
	return append(b, data...)
}

func TestReadNPY(t *testing.T) {
	vals := []float64{1, -2.5, 3e-3, 4, 1e30, -0}
	var f8, f4 []byte
	for _, v := range vals {
		f8 = binary.LittleEndian.AppendUint64(f8, math.Float64bits(v))
		f4 = binary.LittleEndian.AppendUint32(f4, math.Float32bits(float32(v)))
	}
	for _, c := range []struct {
		dict string
		data []byte
	}{
		{"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", f8},
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f4},
	} {
		m, err := ReadNPY(bytes.NewReader(npyFile(c.dict, c.data)))
		if err != nil {
			t.Fatalf("%s: %v", c.dict, err)
		}
		if m.R != 2 || m.C != 3 {
			t.Fatalf("shape %s", m.Shape())
		}
		for i, v := range vals {
			if m.Data[i] != float32(v) {
				t.Errorf("%s: element %d = %v, want %v", c.dict, i, m.Data[i], float32(v))
			}
		}
	}
	f4inf := append([]byte(nil), f4...)
	binary.LittleEndian.PutUint32(f4inf[4:], math.Float32bits(float32(math.Inf(-1))))
	bad := map[string]struct {
		raw  []byte
		want string
	}{
		"int64":      {npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }", f8), "dtype \"<i8\""},
		"big endian": {npyFile("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", f8), "big-endian"},
		"fortran":    {npyFile("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", f8), "Fortran"},
		"1-D":        {npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", f8), "not 2-D"},
		"3-D":        {npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3), }", f8), "not 2-D"},
		"truncated":  {npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", f8[:40]), "truncated"},
		"too long":   {npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f8), "more data"},
		"magic":      {append([]byte("\x93NUMPX"), npyFile("{}", nil)[6:]...), "not an NPY"},
		"no newline": {[]byte("\x93NUMPY\x01\x00\x02\x00{}"), "malformed"},
		"NaN f8":     {npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 6), }", binary.LittleEndian.AppendUint64(f8[:40], math.Float64bits(math.NaN()))), "row 0, column 5) is NaN"},
		"Inf f4":     {npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f4inf), "row 0, column 1) is -Inf"},
		"overflow":   {npyFile("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 6), }", binary.LittleEndian.AppendUint64(f8[:40], math.Float64bits(1e300))), "overflows float32"},
	}
	for name, c := range bad {
		_, err := ReadNPY(bytes.NewReader(c.raw))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to mention %q", name, err, c.want)
		}
	}
}

func TestNPYRoundTrip(t *testing.T) {
	m := mat.NewFrom(3, 2, []float32{1, 2, float32(math.Pi), -4, 5e-20, 6e30})
	path := filepath.Join(t.TempDir(), "x.npy")
	if err := WriteNPYFile(path, m); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	// NumPy pads the header so that the data starts at a multiple of 64.
	if hl := int(binary.LittleEndian.Uint16(raw[8:])); (10+hl)%64 != 0 || raw[10+hl-1] != '\n' {
		t.Errorf("header length %d: data does not start at a multiple of 64", hl)
	}
	d, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range m.Data {
		if math.Float32bits(d.Data().Data[i]) != math.Float32bits(v) {
			t.Errorf("element %d: %v, want %v", i, d.Data().Data[i], v)
		}
	}
}

func TestCSV(t *testing.T) {
	m, h, err := ReadCSV(strings.NewReader("x,y\n1,2\n 3.5 ,-4e2\n\n5,6\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0] != "x" || m.R != 3 || m.C != 2 || m.At(1, 0) != 3.5 || m.At(1, 1) != -400 {
		t.Errorf("got header %v, matrix %v", h, m)
	}
	bad := map[string]string{
		"1,2\n3\n":        "line 2 has 1 fields, want 2",
		"1,2\n3,abc\n":    `line 2, field 2: "abc"`,
		"a,b\n1,2\nx,3\n": `line 3, field 1: "x"`,
		"1,2\n3,NaN\n":    "line 2, field 2",
		"1,2\n3,1e60\n":   "line 2, field 2",
		"":                "no rows",
		"a,b\n":           "no rows",
		"1,\"2\n":         "line 1",
	}
	for in, want := range bad {
		_, _, err := ReadCSV(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want it to mention %q", in, err, want)
		}
	}
	path := filepath.Join(t.TempDir(), "x.csv")
	w := mat.NewFrom(2, 2, []float32{0.1, float32(math.Pi), -7, 1e-30})
	if err := WriteCSVFile(path, w, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	r, h, err := ReadCSVFile(path)
	if err != nil || len(h) != 2 {
		t.Fatal(err, h)
	}
	for i := range w.Data {
		if r.Data[i] != w.Data[i] {
			t.Errorf("CSV round trip element %d: %v, want %v", i, r.Data[i], w.Data[i])
		}
	}
	// A bad file names the file.
	bp := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bp, []byte("1,2\n3\n"), 0o644)
	if _, err := Parse("file:" + bp); err == nil || !strings.Contains(err.Error(), bp) {
		t.Errorf("error %v does not name %s", err, bp)
	}
}

func TestParseErrors(t *testing.T) {
	bad := map[string]string{
		"":                                 "empty name",
		"9gaussians":                       `unknown distribution "9gaussians"`,
		"gaussian":                         "dim is required",
		"gaussian:dim=x":                   `dim="x" is not an integer`,
		"gaussian:dim=3,var=-1":            "var must be a positive",
		"gaussian:dim=0":                   "dim must be >= 1",
		"gaussian:dim=3,foo=1":             "unknown parameter foo",
		"gaussian:dim=3,dim=4":             "dim given twice",
		"gaussian:":                        "nothing after",
		"gaussian:dim":                     "not key=value",
		"gaussian:dim=3,var=nan":           "var=\"nan\" is not a finite number",
		"embedded:dim=8,rank=9":            "rank must be in [1, dim=8]",
		"embedded:dim=8,rank=2,seed=3":     "seed only applies with rotate=true",
		"embedded:dim=8,rank=2,rotate=yes": `rotate="yes" is not true or false`,
		"embedded:dim=8,rank=2,eps=-1":     "eps must be",
		"8gaussians:style=numpy":           `unknown style "numpy"`,
		"8gaussians:noise=1":               "unknown parameter noise",
		"line:scale=0":                     "scale must be > 0",
		"circles:factor=2":                 "factor must be in (0, 1)",
		"mnist:split=val":                  `split="val" is not train or test`,
		"mnist:digit=10":                   "digit=10 is not in 0..9",
		"mnist:range=255":                  `range="255" is not 01 or pm1`,
		"mnist:colour=1":                   "unknown parameter colour",
		"file:":                            "needs a path",
		"file:data.txt":                    "extension is not .npy or .csv",
	}
	for spec, want := range bad {
		_, err := Parse(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error mentioning %q", spec, err, want)
			continue
		}
		if !errors.Is(err, ErrSpec) {
			t.Errorf("Parse(%q): %v does not wrap ErrSpec", spec, err)
		}
	}
	if _, err := Parse("file:/no/such/file.npy"); err == nil || errors.Is(err, ErrSpec) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want a not-exist error that is not ErrSpec", err)
	}
}

func TestParseGood(t *testing.T) {
	for spec, dim := range map[string]int{
		"8gaussians": 2, "moons": 2, "line:noise=0.1": 2, "circles": 2, "checkerboard": 2, "spirals": 2,
		"swissroll": 2, " gaussian:dim=128,var=0.5 ": 128, "embedded:dim=128,rank=64,var=0.5": 128,
		"embedded:dim=16,rank=4,rotate=true,seed=3,eps=0.01": 16,
	} {
		s, err := Parse(spec)
		if err != nil || s.Dim() != dim {
			t.Errorf("Parse(%q): %v, dim %v, want %d", spec, err, s, dim)
		}
	}
	ln := mustParse(t, "line:noise=0.1,scale=1").(*Toy2D)
	if ln.Noise != 0.1 || ln.Scale != 1 {
		t.Errorf("line params %+v", ln)
	}
	g := mustParse(t, "8gaussians:var=0.01").(*Toy2D)
	if g.Var != 0.01 || len(g.Centres()) != 8 || !(math.Abs(g.Centres()[2][1]-5) <= 1e-15) {
		t.Errorf("8gaussians %+v %v", g, g.Centres())
	}
}

func TestMNIST(t *testing.T) {
	if _, err := FindMNIST(""); err != nil {
		t.Skipf("MNIST not available here: %v", err)
	}
	train, err := LoadMNIST(MNISTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || train.Dim() != 784 {
		t.Errorf("train is %s, want 60000×784", train.Data().Shape())
	}
	// Facts about MNIST from outside: the first training label is 5, the
	// first test label 7; every digit class holds between 5000 and 7000
	// training images.
	if train.Labels()[0] != 5 {
		t.Errorf("first train label %d, want 5", train.Labels()[0])
	}
	var counts [10]int
	for _, l := range train.Labels() {
		counts[l]++
	}
	for d, c := range counts {
		if c < 5000 || c > 7000 {
			t.Errorf("digit %d: %d training images", d, c)
		}
	}
	lo, hi := float32(1), float32(0)
	for _, v := range train.Data().Data {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != 0 || hi != 1 {
		t.Errorf("train pixels in [%v, %v], want [0, 1]", lo, hi)
	}
	test, err := Parse("mnist:split=test,range=pm1,digit=7")
	if err != nil {
		t.Fatal(err)
	}
	tf := test.(*MNIST)
	all, _ := LoadMNIST(MNISTOptions{Split: "test"})
	if all.Len() != 10000 || all.Labels()[0] != 7 {
		t.Errorf("test: %d rows, first label %d; want 10000, 7", all.Len(), all.Labels()[0])
	}
	// The digit-7 subset starts with the first test image, mapped to [-1, 1].
	for j := 0; j < 784; j++ {
		want := 2*all.Data().At(0, j) - 1
		if !(math.Abs(float64(tf.Data().At(0, j)-want)) <= 1e-6) {
			t.Fatalf("pixel %d: %v, want 2·%v − 1", j, tf.Data().At(0, j), all.Data().At(0, j))
		}
	}
	for _, l := range tf.Labels() {
		if l != 7 {
			t.Fatal("digit filter kept a non-7")
		}
	}
	if _, err := LoadMNIST(MNISTOptions{Dir: t.TempDir()}); !errors.Is(err, ErrNoMNIST) {
		t.Errorf("empty dir: %v, want ErrNoMNIST", err)
	}
}

// TestFileTooLarge: a (sparse) file larger than the memory the system
// reports available is refused before reading, naming the file.
func TestFileTooLarge(t *testing.T) {
	avail := availableMemory()
	if avail == 0 {
		t.Skip("no /proc/meminfo here")
	}
	for _, ext := range []string{".npy", ".csv"} {
		path := filepath.Join(t.TempDir(), "huge"+ext)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(int64(avail) + 1<<30); err != nil {
			f.Close()
			t.Skipf("cannot make a sparse file: %v", err)
		}
		f.Close()
		_, err = LoadFile(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "MiB available") {
			t.Errorf("%s: %v", ext, err)
		}
	}
}

// TestEpochs: every row appears exactly once per epoch, and the order
// follows the seed.
func TestEpochs(t *testing.T) {
	x := mat.New(10, 1)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	d := NewDataset("ten", x)
	e := NewEpochs(d, rand.New(rand.NewPCG(1, 1)))
	b := mat.New(4, 1)
	seen := map[float32]int{}
	var ep int
	for k := 0; k < 5; k++ { // 20 rows: exactly two epochs
		ep = e.Next(b)
		for _, v := range b.Data {
			seen[v]++
		}
	}
	if ep != 1 || len(seen) != 10 {
		t.Fatalf("epoch %d, %d distinct rows", ep, len(seen))
	}
	for v, c := range seen {
		if c != 2 {
			t.Errorf("row %v seen %d times in two epochs", v, c)
		}
	}
}

// TestDatasetDigest checks Digest against its definition (the SHA-256 of the
// shape as two little-endian uint64 and the float32 bits, built here with
// encoding/binary and a large data set that spans several of Digest's
// buffers), that the same values read from NPY and from CSV give the same
// digest, and that one changed value, the same values in another shape, or
// −0 for +0 give another.
func TestDatasetDigest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := mat.New(1001, 3)
	for i := range m.Data {
		m.Data[i] = float32(rng.NormFloat64())
	}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, [2]uint64{1001, 3})
	binary.Write(&b, binary.LittleEndian, m.Data)
	sum := sha256.Sum256(b.Bytes())
	if got, want := NewDataset("m", m).Digest(), "sha256:"+hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("Digest %s, want %s", got, want)
	}

	dir := t.TempDir()
	small := mat.NewFrom(2, 2, []float32{0, 1.5, -2, 1e-3})
	npyPath, csvPath := filepath.Join(dir, "a.npy"), filepath.Join(dir, "a.csv")
	if err := WriteNPYFile(npyPath, small); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(csvPath, []byte("0, 1.5\n-2.0,0.001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fromNPY, err := LoadFile(npyPath)
	if err != nil {
		t.Fatal(err)
	}
	fromCSV, err := LoadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if fromNPY.Digest() != fromCSV.Digest() {
		t.Errorf("same values: NPY %s, CSV %s", fromNPY.Digest(), fromCSV.Digest())
	}
	base := NewDataset("s", small).Digest()
	for name, other := range map[string]*mat.Dense{
		"one value changed": mat.NewFrom(2, 2, []float32{0, 1.5, -2, 1.001e-3}),
		"another shape":     mat.NewFrom(1, 4, []float32{0, 1.5, -2, 1e-3}),
		"−0 for +0":         mat.NewFrom(2, 2, []float32{float32(math.Copysign(0, -1)), 1.5, -2, 1e-3}),
	} {
		if NewDataset("o", other).Digest() == base {
			t.Errorf("%s: same digest", name)
		}
	}
}
