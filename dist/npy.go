package dist

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/flowlab/flowlab/internal/atomicfile"
	"github.com/flowlab/flowlab/mat"
)

// npyMagic starts every NPY file.
const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds the header length we accept (NumPy's own limit for
// reading untrusted files is 10000 bytes).
const maxNPYHeader = 1 << 16

// ReadNPY reads a 2-D NPY array of little-endian float32 ('<f4') or float64
// ('<f8') in C order, format version 1, 2 or 3, into a float32 matrix.
// Anything else (other dtypes, big-endian data, Fortran order, shapes that
// are not (n, d) with n, d >= 1, data shorter or longer than the shape says)
// is an error that says what was found. float64 values are rounded to the
// nearest float32; values beyond float32's range are an error, and so are
// NaN and ±Inf (as in ReadCSV: a data set must be finite).
//
// flowlab reads NPY itself rather than through github.com/sbinet/npyio:
// npyio's reader panics on malformed headers (for instance a header
// without a newline) and allocates whatever size a header claims.
func ReadNPY(r io.Reader) (*mat.Dense, error) {
	br := bufio.NewReader(r)
	h, err := readNPYHeader(br)
	if err != nil {
		return nil, err
	}
	size, err := h.elemSize()
	if err != nil {
		return nil, err
	}
	n, d, err := h.matrixShape()
	if err != nil {
		return nil, err
	}
	return readNPYData(br, h, n, d, size)
}

// readNPYHeader reads the magic string, the version, the header length and
// the header dictionary.
func readNPYHeader(br *bufio.Reader) (npyHeader, error) {
	var pre [8]byte
	if _, err := io.ReadFull(br, pre[:]); err != nil {
		return npyHeader{}, fmt.Errorf("npy: truncated header: %w", err)
	}
	if string(pre[:6]) != npyMagic {
		return npyHeader{}, fmt.Errorf("npy: not an NPY file (magic % x, want 93 4e 55 4d 50 59)", pre[:6])
	}
	var hlen int
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return npyHeader{}, fmt.Errorf("npy: truncated header length: %w", err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return npyHeader{}, fmt.Errorf("npy: truncated header length: %w", err)
		}
		h := binary.LittleEndian.Uint32(b[:])
		if h > maxNPYHeader {
			return npyHeader{}, fmt.Errorf("npy: header length %d exceeds %d bytes", h, maxNPYHeader)
		}
		hlen = int(h)
	default:
		return npyHeader{}, fmt.Errorf("npy: format version %d.%d not supported (1.0, 2.0, 3.0 are)", pre[6], pre[7])
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return npyHeader{}, fmt.Errorf("npy: truncated header (%d bytes announced): %w", hlen, err)
	}
	return parseNPYHeader(string(hdr))
}

// elemSize is the byte size of the header's dtype: 4 or 8 for
// little-endian floats, an error for anything else.
func (h npyHeader) elemSize() (int, error) {
	switch h.descr {
	case "<f4":
		return 4, nil
	case "<f8":
		return 8, nil
	case ">f4", ">f8":
		return 0, fmt.Errorf("npy: dtype %q is big-endian; only little-endian '<f4' and '<f8' are read (use arr.astype('<f8'))", h.descr)
	default:
		return 0, fmt.Errorf("npy: dtype %q not supported (want float32 '<f4' or float64 '<f8')", h.descr)
	}
}

// matrixShape checks that the header describes a C-order, non-empty 2-D
// array of a size that fits a matrix and returns its shape.
func (h npyHeader) matrixShape() (n, d int, err error) {
	if h.fortran {
		return 0, 0, fmt.Errorf("npy: Fortran-order array not supported (save np.ascontiguousarray(arr))")
	}
	if len(h.shape) != 2 {
		return 0, 0, fmt.Errorf("npy: shape %v is not 2-D (n, d) (reshape a 1-D array to (n, 1))", h.shape)
	}
	n, d = h.shape[0], h.shape[1]
	if n < 1 || d < 1 {
		return 0, 0, fmt.Errorf("npy: shape (%d, %d) is empty", n, d)
	}
	if n > math.MaxInt32 || d > math.MaxInt32 || int64(n)*int64(d) > math.MaxInt32*4 {
		return 0, 0, fmt.Errorf("npy: shape (%d, %d) is too large", n, d)
	}
	return n, d, nil
}

// readNPYData reads exactly n·d elements of size bytes and converts them to
// float32, refusing non-finite values and float32 overflow.
func readNPYData(br *bufio.Reader, h npyHeader, n, d, size int) (*mat.Dense, error) {
	want := int64(n) * int64(d) * int64(size)
	// Read what is there, not what the header claims, before allocating the
	// matrix.
	var buf bytes.Buffer
	got, err := io.Copy(&buf, io.LimitReader(br, want+1))
	if err != nil {
		return nil, fmt.Errorf("npy: reading data: %w", err)
	}
	if got < want {
		return nil, fmt.Errorf("npy: truncated: shape (%d, %d) of %s needs %d data bytes, file has %d", n, d, h.descr, want, got)
	}
	if got > want {
		return nil, fmt.Errorf("npy: more data than shape (%d, %d) of %s holds (%d bytes)", n, d, h.descr, want)
	}
	raw := buf.Bytes()
	m := mat.New(n, d)
	for i := range m.Data {
		var v float64
		if size == 4 {
			v = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
		} else {
			v = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("npy: element %d (row %d, column %d) is %v; the data must be finite", i, i/d, i%d, v)
		}
		f := float32(v)
		if math.IsInf(float64(f), 0) {
			return nil, fmt.Errorf("npy: element %d (row %d, column %d) = %g overflows float32", i, i/d, i%d, v)
		}
		m.Data[i] = f
	}
	return m, nil
}

type npyHeader struct {
	descr   string
	fortran bool
	shape   []int
}

// parseNPYHeader reads the Python dict literal of an NPY header:
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }.
func parseNPYHeader(s string) (npyHeader, error) {
	var h npyHeader
	orig := strings.TrimRight(s, " \n\x00")
	p := &pyLexer{s: orig}
	bad := func(what string) error {
		q := orig
		if len(q) > 120 {
			q = q[:120] + "…"
		}
		return fmt.Errorf("npy: malformed header %q: %s", q, what)
	}
	if !p.eat('{') {
		return h, bad("want '{'")
	}
	seen := map[string]bool{}
	for {
		if p.eat('}') {
			break
		}
		key, ok := p.str()
		if !ok {
			return h, bad("want a quoted key")
		}
		if seen[key] {
			return h, bad("key " + key + " given twice")
		}
		seen[key] = true
		if !p.eat(':') {
			return h, bad("want ':' after " + key)
		}
		switch key {
		case "descr":
			if h.descr, ok = p.str(); !ok {
				return h, bad("descr is not a string (structured dtypes are not supported)")
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
				h.fortran = false
			default:
				return h, bad("fortran_order is not True or False")
			}
		case "shape":
			if h.shape, ok = p.tuple(); !ok {
				return h, bad("shape is not a tuple of integers")
			}
		default:
			return h, bad("unknown key " + key)
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return h, bad("want ',' or '}'")
			}
			break
		}
	}
	p.skip()
	if p.i != len(p.s) {
		return h, bad("text after '}'")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, bad("no " + k)
		}
	}
	return h, nil
}

type pyLexer struct {
	s string
	i int
}

func (p *pyLexer) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *pyLexer) eat(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyLexer) word(w string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *pyLexer) str() (string, bool) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", false
	}
	q := p.s[p.i]
	j := strings.IndexByte(p.s[p.i+1:], q)
	if j < 0 {
		return "", false
	}
	v := p.s[p.i+1 : p.i+1+j]
	p.i += j + 2
	return v, true
}

func (p *pyLexer) tuple() ([]int, bool) {
	if !p.eat('(') {
		return nil, false
	}
	out := []int{}
	for {
		if p.eat(')') {
			return out, true
		}
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i || j-p.i > 12 {
			return nil, false
		}
		v, err := strconv.Atoi(p.s[p.i:j])
		if err != nil {
			return nil, false
		}
		out = append(out, v)
		p.i = j
		if !p.eat(',') {
			if !p.eat(')') {
				return nil, false
			}
			return out, true
		}
	}
}

// ReadNPYFile reads a 2-D float NPY file (see ReadNPY), after checking that
// it fits in available memory; errors name the file.
func ReadNPYFile(path string) (*mat.Dense, error) {
	return readFile(path, 2, ReadNPY)
}

// EncodeNPY writes m as a version 1.0 NPY array of little-endian float32,
// shape (m.R, m.C), C order, with the header padded to a multiple of 64
// bytes as NumPy does.
func EncodeNPY(w io.Writer, m *mat.Dense) error {
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", m.R, m.C)
	total := len(npyMagic) + 4 + len(dict) + 1
	pad := (64 - total%64) % 64
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	if len(hdr) > math.MaxUint16 {
		return fmt.Errorf("npy: header too long")
	}
	var pre [10]byte
	copy(pre[:], npyMagic)
	pre[6], pre[7] = 1, 0
	binary.LittleEndian.PutUint16(pre[8:], uint16(len(hdr)))
	if _, err := w.Write(pre[:]); err != nil {
		return err
	}
	if _, err := io.WriteString(w, hdr); err != nil {
		return err
	}
	buf := make([]byte, 4*4096)
	for i := 0; i < len(m.Data); i += 4096 {
		chunk := m.Data[i:min(i+4096, len(m.Data))]
		for j, v := range chunk {
			binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
		}
		if _, err := w.Write(buf[:4*len(chunk)]); err != nil {
			return err
		}
	}
	return nil
}

// WriteNPYFile writes m to path as float32 NPY (see EncodeNPY), atomically.
func WriteNPYFile(path string, m *mat.Dense) error {
	return atomicfile.Write(path, func(w io.Writer) error { return EncodeNPY(w, m) })
}
