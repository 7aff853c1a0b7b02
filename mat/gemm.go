package mat

import (
	"fmt"
	"runtime"
	"sync"
)

// Gemm computes C = α·op(A)·op(B) + β·C, where op(X) is X or Xᵀ as tA and tB
// say. With β = 0, C's previous contents are ignored (NaNs in C do not leak).
// It panics when the shapes do not agree.
//
// The product runs on the kernel path CurrentKernel names (see Kernel). Work
// is split across GOMAXPROCS goroutines by blocks of C, never along the
// reduction, and the reduction's blocking does not depend on the number of
// goroutines, so the result is bit-identical whatever GOMAXPROCS is. Small
// products run on the calling goroutine.
func Gemm(tA, tB bool, alpha float32, a, b *Dense, beta float32, c *Dense) {
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
		return
	}
	g := &paths[CurrentKernel()]
	g.gemm(tA, tB, m, n, k, alpha, a.Data, a.C, b.Data, b.C, beta, c.Data, n)
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

// gemmPath is one kernel path: its micro-kernel tile (mr×nr) and the cache
// blocks around it. kc, the reduction block, is fixed per path: it decides the
// order of the sums and so must not depend on the number of goroutines.
type gemmPath struct {
	kernel     Kernel
	mr, nr     int
	kc, mc, nc int
	pool       sync.Pool // *packBuf
}

var paths = [...]gemmPath{
	Generic: {kernel: Generic, mr: genericMR, nr: genericNR, kc: 256, mc: 64, nc: 1024},
	AVX2:    {kernel: AVX2, mr: 6, nr: 16, kc: 256, mc: 96, nc: 1024},
	AVX512:  {kernel: AVX512, mr: 12, nr: 32, kc: 256, mc: 144, nc: 1024},
}

// packBuf holds packed panels of op(A) or op(B).
type packBuf struct{ data []float32 }

func (g *gemmPath) getBuf(n int) *packBuf {
	p, _ := g.pool.Get().(*packBuf)
	if p == nil {
		p = &packBuf{}
	}
	if cap(p.data) < n {
		p.data = make([]float32, n)
	}
	p.data = p.data[:n]
	return p
}

// parallelMin is the number of multiply-adds below which a product runs on
// one goroutine: starting and joining goroutines costs a few microseconds.
const parallelMin = 1 << 20

// gemm runs C = alpha·op(A)·op(B) + beta·C with m, n, k ≥ 1 and alpha ≠ 0.
func (g *gemmPath) gemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	threads := runtime.GOMAXPROCS(0)
	if m*n*k < parallelMin {
		threads = 1
	}
	mr, nr := g.mr, g.nr
	ncMax := min(g.nc, roundUp(n, nr))
	kcMax := min(g.kc, k)
	bbuf := g.getBuf(kcMax * ncMax)
	defer g.pool.Put(bbuf)

	for jc := 0; jc < n; jc += g.nc {
		nb := min(g.nc, n-jc)
		nPanels := ceilDiv(nb, nr)
		for pc := 0; pc < k; pc += g.kc {
			kb := min(g.kc, k-pc)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			bp := bbuf.data[:nPanels*nr*kb]
			// Pack op(B)[pc:pc+kb, jc:jc+nb], split by panels.
			parallelFor(threads, nPanels, func(p0, p1 int) {
				for jp := p0; jp < p1; jp++ {
					g.packB(tB, b, ldb, pc, kb, jc+jp*nr, min(nr, nb-jp*nr), bp[jp*nr*kb:(jp+1)*nr*kb])
				}
			})
			// Multiply: split the rows of C (in mr-panels) or, when there are
			// too few, its column panels.
			mPanels := ceilDiv(m, mr)
			if mPanels >= 2*threads || nPanels < threads {
				parallelFor(threads, mPanels, func(p0, p1 int) {
					g.macro(tA, a, lda, pc, kb, p0*mr, min(p1*mr, m), bp, 0, nPanels, jc, nb, alpha, bet, c, ldc)
				})
			} else {
				parallelFor(threads, nPanels, func(p0, p1 int) {
					g.macro(tA, a, lda, pc, kb, 0, m, bp, p0, p1, jc, nb, alpha, bet, c, ldc)
				})
			}
		}
	}
}

// macro multiplies rows [i0, i1) of op(A)[:, pc:pc+kb] by the packed column
// panels [j0, j1) of the B block (which starts at column jc and is nb wide),
// into C, in blocks of mc rows packed on the way.
func (g *gemmPath) macro(tA bool, a []float32, lda, pc, kb, i0, i1 int, bp []float32, j0, j1, jc, nb int, alpha, beta float32, c []float32, ldc int) {
	mr, nr := g.mr, g.nr
	abuf := g.getBuf(g.mc * kb)
	defer g.pool.Put(abuf)
	var tmp [maxTile]float32
	for ic := i0; ic < i1; ic += g.mc {
		mb := min(g.mc, i1-ic)
		mPanels := ceilDiv(mb, mr)
		ap := abuf.data[:mPanels*mr*kb]
		for ip := 0; ip < mPanels; ip++ {
			g.packA(tA, a, lda, pc, kb, ic+ip*mr, min(mr, mb-ip*mr), ap[ip*mr*kb:(ip+1)*mr*kb])
		}
		for jp := j0; jp < j1; jp++ {
			bpan := bp[jp*nr*kb : (jp+1)*nr*kb]
			col := jc + jp*nr
			nEff := min(nr, nb-jp*nr)
			for ip := 0; ip < mPanels; ip++ {
				apan := ap[ip*mr*kb : (ip+1)*mr*kb]
				row := ic + ip*mr
				mEff := min(mr, mb-ip*mr)
				if mEff == mr && nEff == nr {
					microKernel(g, kb, apan, bpan, nr, c[row*ldc+col:], ldc, alpha, beta)
					continue
				}
				// Edge tile: run the same kernel on a full tile in tmp.
				t := tmp[:mr*nr]
				if beta != 0 {
					for i := 0; i < mEff; i++ {
						copy(t[i*nr:i*nr+nEff], c[(row+i)*ldc+col:])
					}
				}
				microKernel(g, kb, apan, bpan, nr, t, nr, alpha, beta)
				for i := 0; i < mEff; i++ {
					copy(c[(row+i)*ldc+col:(row+i)*ldc+col+nEff], t[i*nr:i*nr+nEff])
				}
			}
		}
	}
}

// maxTile is the largest mr·nr of any path.
const maxTile = 12 * 32

// packA packs rows [i0, i0+mEff) and columns [pc, pc+kb) of op(A) into dst as
// one mr-row panel: dst[p*mr+i] = op(A)[i0+i][pc+p], rows past mEff zero.
func (g *gemmPath) packA(tA bool, a []float32, lda, pc, kb, i0, mEff int, dst []float32) {
	mr := g.mr
	if tA { // op(A)[i][p] = A[p][i]: rows of A are contiguous in i.
		for p := 0; p < kb; p++ {
			d := dst[p*mr : (p+1)*mr]
			copy(d, a[(pc+p)*lda+i0:(pc+p)*lda+i0+mEff])
			clear(d[mEff:])
		}
		return
	}
	for i := 0; i < mEff; i++ {
		src := a[(i0+i)*lda+pc : (i0+i)*lda+pc+kb]
		for p, v := range src {
			dst[p*mr+i] = v
		}
	}
	if mEff < mr {
		for p := 0; p < kb; p++ {
			clear(dst[p*mr+mEff : (p+1)*mr])
		}
	}
}

// packB packs rows [pc, pc+kb) and columns [j0, j0+nEff) of op(B) into dst as
// one nr-column panel: dst[p*nr+j] = op(B)[pc+p][j0+j], columns past nEff zero.
func (g *gemmPath) packB(tB bool, b []float32, ldb, pc, kb, j0, nEff int, dst []float32) {
	nr := g.nr
	if !tB {
		for p := 0; p < kb; p++ {
			d := dst[p*nr : (p+1)*nr]
			copy(d, b[(pc+p)*ldb+j0:(pc+p)*ldb+j0+nEff])
			clear(d[nEff:])
		}
		return
	}
	for j := 0; j < nEff; j++ { // op(B)[p][j] = B[j][p]
		src := b[(j0+j)*ldb+pc : (j0+j)*ldb+pc+kb]
		for p, v := range src {
			dst[p*nr+j] = v
		}
	}
	if nEff < nr {
		for p := 0; p < kb; p++ {
			clear(dst[p*nr+nEff : (p+1)*nr])
		}
	}
}

// parallelFor splits [0, n) into at most threads contiguous ranges and runs
// f on each, the first on the calling goroutine. It returns when all are done.
func parallelFor(threads, n int, f func(lo, hi int)) {
	t := min(threads, n)
	if t <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := 1; w < t; w++ {
		lo, hi := w*n/t, (w+1)*n/t
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	f(0, n/t)
	wg.Wait()
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return ceilDiv(a, b) * b }
