package mat

import (
	"fmt"
	"runtime"
)

// Gemm computes C = α·op(A)·op(B) + β·C, where op(X) is X or Xᵀ as tA and tB
// say. With β = 0, C's previous contents are ignored (NaNs in C do not leak).
// It panics when the shapes do not agree.
//
// The product runs on the kernel path CurrentKernel names (see Kernel). Work
// is split across GOMAXPROCS goroutines by blocks of C, never along the
// reduction, and the reduction's blocking does not depend on the number of
// goroutines, so the result is bit-identical whatever GOMAXPROCS is. (The
// bits do depend on the kernel path, and C = A·Bᵀ with at most 4 columns
// sums in a different order on AVX-512.) Small products run on the calling
// goroutine.
func Gemm(tA, tB bool, alpha float32, a, b *Dense, beta float32, c *Dense) {
	gemm(runtime.GOMAXPROCS(0), tA, tB, alpha, a, b, beta, c, epilogue{})
}

// GemmBiasAct sets pre = op(A)·op(B) + bias (bias added to every row) and
// out = act(pre): the same bits as Gemm(tA, tB, 1, a, b, 0, pre) followed by
// BiasAct(act, pre, bias, out), in one pass — each block of rows gets its bias
// and activation from the goroutine that computed it, while it is in cache.
// out may be pre itself only for Identity. It panics when the shapes do not
// agree.
func GemmBiasAct(tA, tB bool, a, b *Dense, bias []float32, act Activation, pre, out *Dense) {
	gemmBiasAct(runtime.GOMAXPROCS(0), tA, tB, a, b, bias, act, pre, out)
}

func gemmBiasAct(threads int, tA, tB bool, a, b *Dense, bias []float32, act Activation, pre, out *Dense) {
	if len(bias) != pre.C || out.R != pre.R || out.C != pre.C {
		panic(fmt.Sprintf("mat: GemmBiasAct shapes: pre %s, bias %d, out %s", pre.Shape(), len(bias), out.Shape()))
	}
	gemm(threads, tA, tB, 1, a, b, 0, pre, epilogue{on: true, act: act, bias: bias, out: out.Data, kernel: CurrentKernel()})
}

// epilogue is the bias and activation GemmBiasAct applies to finished rows.
type epilogue struct {
	on     bool
	act    Activation
	bias   []float32
	out    []float32 // same shape as C
	kernel Kernel
}

// apply applies the epilogue to rows [r0, r1) and columns [c0, c1) of c
// (row stride ldc, which out shares).
func (e *epilogue) apply(c []float32, ldc, r0, r1, c0, c1 int) {
	if c0 == 0 && c1 == ldc { // whole rows: one contiguous run
		biasActRows(e.kernel, e.act, c[r0*ldc:r1*ldc], e.bias, e.out[r0*ldc:r1*ldc], ldc)
		return
	}
	w := c1 - c0
	for r := r0; r < r1; r++ {
		biasActRows(e.kernel, e.act, c[r*ldc+c0:r*ldc+c1], e.bias[c0:c1], e.out[r*ldc+c0:r*ldc+c1], w)
	}
}

// gemm is Gemm (and, with epi.on, GemmBiasAct) on at most threads goroutines.
func gemm(threads int, tA, tB bool, alpha float32, a, b *Dense, beta float32, c *Dense, epi epilogue) {
	m, k := a.R, a.C
	if tA {
		m, k = k, m
	}
	kb, n := b.R, b.C
	if tB {
		kb, n = n, kb
	}
	if k != kb || c.R != m || c.C != n {
		panic(fmt.Sprintf("mat: Gemm shape mismatch: op(A) %d×%d (A %s, tA=%v), op(B) %d×%d (B %s, tB=%v), C %s",
			m, k, a.Shape(), tA, kb, n, b.Shape(), tB, c.Shape()))
	}
	if m == 0 || n == 0 {
		return
	}
	if beta == 0 {
		beta = 0 // +0: the kernels test its bits to skip reading C
	}
	if k == 0 || alpha == 0 {
		scaleC(beta, c.Data[:m*n])
		if epi.on {
			epi.apply(c.Data, n, 0, m, 0, n)
		}
		return
	}
	g := &paths[CurrentKernel()]
	gemmOn(g, threads, tA, tB, m, n, k, alpha, a, b, beta, c, epi, nil)
}

// gemmOn is gemm past the shape checks and the trivial cases, on path g;
// with bPacked (op(B) as Pack laid it out for g), B's panels are read from
// there instead of being packed.
func gemmOn(g *gemmPath, threads int, tA, tB bool, m, n, k int, alpha float32, a, b *Dense, beta float32, c *Dense, epi epilogue, bPacked []float32) {
	if n <= dotMax && !tA && tB && hasDotKernel(g.kernel) {
		// C = A·Bᵀ with few columns: dot products of rows, no packing.
		gemmDot(m, n, k, alpha, a.Data, a.C, b.Data, b.C, beta, c.Data, n)
		if epi.on {
			biasAct(threads, epi.kernel, epi.act, c.Data[:m*n], epi.bias, epi.out[:m*n], n)
		}
		return
	}
	if m*n*k < parallelMin {
		threads = 1
	}
	if g.kernel != Generic && !tA && k <= smallKMax && n%g.nr == 0 && alpha == 1 && beta == 0 {
		gemmSmallK(g, threads, tB, m, n, k, a, b, c, epi, bPacked)
		return
	}
	j := g.getJob(threads)
	*j = gemmJob{g: g, tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a.Data, lda: a.C, b: b.Data, ldb: b.C, c: c.Data, ldc: n,
		threads: threads, bbuf: j.bbuf, abuf: j.abuf, tbuf: j.tbuf, arows: j.arows, bstate: j.bstate}
	if transposedRoute(g, tA, tB, m, n) {
		j.runTransposed()
		if epi.on {
			biasAct(threads, epi.kernel, epi.act, c.Data[:m*n], epi.bias, epi.out[:m*n], n)
		}
	} else {
		j.epi = epi
		own := j.bbuf
		j.packed = bPacked
		j.run()
		j.bbuf, j.packed = own, nil
	}
	j.a, j.b, j.c, j.epi = nil, nil, nil, epilogue{}
	g.jobs.Put(j)
}

// transposedRoute reports whether gemm computes the product as Cᵀ (see
// runTransposed), which depends on the shape and the path alone.
func transposedRoute(g *gemmPath, tA, tB bool, m, n int) bool {
	return g.kernel != Generic && (n <= skinnyMax && m >= 2*n || tA && !tB && n > m && m >= wideTransMin*g.nr)
}

// dotMax is the width of C up to which C = A·Bᵀ runs on the dot-product
// kernels (where they exist): for a C this narrow (the output layer of a 2-D
// field has 2 columns) the packed path spends its time packing and filling
// mostly empty tiles, while dot products of rows pack nothing.
const dotMax = 4

// skinnyMax is the width of C up to which Gemm computes Cᵀ instead: a C with
// few columns wastes most of a 16- or 32-column micro-kernel, while few rows
// fill 4-, 8- or 12-row ones. (This pays even when it means packing a
// transpose of a large A.)
const skinnyMax = 12

// wideTransMin: a product C = Aᵀ·B (a weight gradient Xᵀ·G) with more
// columns than rows, and at least wideTransMin·nr rows, is computed as Cᵀ:
// the reduction block grows as C narrows (see run), so the narrower Cᵀ takes
// fewer, longer reduction blocks, each one pass over C and one wait for the
// slowest goroutine. (On one goroutine there is no wait, and the route
// neither gains nor loses.)
const wideTransMin = 4

// parallelMin is the number of multiply-adds below which a product runs on
// one goroutine: starting and joining goroutines
// costs microseconds on an idle machine, and far more when the other cores
// are busy and the woken thread waits for one.
const parallelMin = 1 << 22

// runTransposed computes Cᵀ = α·op(B)ᵀ·op(A)ᵀ + β·Cᵀ into tbuf and copies it
// back to C. The bits may differ from run's on C (the reduction blocks depend
// on the width of the C computed), but whether a product takes this route
// depends on its shape and kernel path alone, so they still do not depend on
// the number of goroutines.
func (j *gemmJob) runTransposed() {
	m, n := j.m, j.n
	if cap(j.tbuf) < m*n {
		j.tbuf = make([]float32, m*n)
	}
	t := j.tbuf[:m*n]
	c, ldc := j.c, j.ldc
	if j.beta != 0 {
		transpose(j.g.kernel, t, m, c, ldc, m, n)
	}
	j.tA, j.tB = !j.tB, !j.tA
	j.a, j.b = j.b, j.a
	j.lda, j.ldb = j.ldb, j.lda
	j.m, j.n = n, m
	j.c, j.ldc = t, m
	j.run()
	transpose(j.g.kernel, c, ldc, t, m, n, m)
}

// scaleC sets c to beta·c (to 0 when beta is 0, whatever c held).
func scaleC(beta float32, c []float32) {
	switch beta {
	case 0:
		clear(c)
	case 1:
	default:
		for i := range c {
			c[i] *= beta
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
