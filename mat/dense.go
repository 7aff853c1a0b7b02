// Package mat holds flowlab's float32 matrices and the kernels that move them:
// GEMM (C = αA·B + βC, with transpose flags) and the fused element-wise
// operations the MLP needs.
//
// Matrices are dense and row-major. Shape mismatches are programmer errors and
// panic with a message that names both shapes, as gonum does.
//
// # Kernels
//
// The compute kernels come in three paths (see Kernel): Go-assembly AVX-512
// and AVX2+FMA kernels, and pure Go for every other CPU. The best path the CPU
// supports is chosen when the package loads; the environment variable
// FLOWLAB_KERNEL=generic|avx2|avx512 (read once, then) or SetKernel forces one.
// Gemm packs its operands into cache-sized blocks around register-tiled
// micro-kernels (12×32 on AVX-512, 6×16 on AVX2, 4×4 in Go) and splits large
// products across GOMAXPROCS goroutines by blocks of output rows, never along
// the reduction, so its results are bit-identical whatever GOMAXPROCS is. The
// element-wise operations split the same way. PeakGFLOPS measures the
// machine's FMA peak, the yardstick for GEMM efficiency.
package mat

import "fmt"

// Dense is a row-major float32 matrix with R rows and C columns. Element (i, j)
// is Data[i*C+j]. Rows are contiguous, so a block of rows is a sub-slice.
type Dense struct {
	R, C int
	Data []float32
}

// New returns a zeroed r×c matrix.
func New(r, c int) *Dense {
	if r < 0 || c < 0 {
		panic(fmt.Sprintf("mat: negative shape %d×%d", r, c))
	}
	return &Dense{R: r, C: c, Data: make([]float32, r*c)}
}

// NewFrom wraps data (not copied) as an r×c matrix.
func NewFrom(r, c int, data []float32) *Dense {
	if len(data) < r*c {
		panic(fmt.Sprintf("mat: %d values cannot hold %d×%d", len(data), r, c))
	}
	return &Dense{R: r, C: c, Data: data[:r*c]}
}

// At returns element (i, j).
func (m *Dense) At(i, j int) float32 { return m.Data[i*m.C+j] }

// Set sets element (i, j) to v.
func (m *Dense) Set(i, j int, v float32) { m.Data[i*m.C+j] = v }

// Row returns row i as a slice sharing m's storage.
func (m *Dense) Row(i int) []float32 { return m.Data[i*m.C : (i+1)*m.C] }

// Rows returns rows [i, j) as a matrix sharing m's storage.
func (m *Dense) Rows(i, j int) *Dense {
	return &Dense{R: j - i, C: m.C, Data: m.Data[i*m.C : j*m.C]}
}

// Clone returns a deep copy of m.
func (m *Dense) Clone() *Dense {
	d := make([]float32, len(m.Data))
	copy(d, m.Data)
	return &Dense{R: m.R, C: m.C, Data: d}
}

// Shape returns "r×c", for messages.
func (m *Dense) Shape() string { return fmt.Sprintf("%d×%d", m.R, m.C) }

// Reshape sets m to r×c, reusing its storage when it is large enough.
// It is how buffers are reused across steps without allocation.
func (m *Dense) Reshape(r, c int) {
	if cap(m.Data) < r*c {
		m.Data = make([]float32, r*c)
	}
	m.Data = m.Data[:r*c]
	m.R, m.C = r, c
}
