package mat

//go:generate go run ./internal/asmgen -out gemm_amd64.s gemm
//go:generate go run ./internal/asmgen -out elementwise_amd64.s elementwise

//go:noescape
func kern512x12x32(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern512x12x16(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern512x8x32(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern512x8x16(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern512x4x32(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern512x4x16(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern256x6x16(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern256x6x8(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern256x4x16(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern256x4x8(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern256x2x16(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern256x2x8(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// microKernel runs one of path g's micro-kernels on a rows×cols tile, where
// rows is one of g's row counts (see kernelRows) and cols is nr or nr/2:
// C[i][j] = alpha·Σ_p a[i·rsa+p·csa]·b[p·ldb+j] + beta·C[i][j] (C = c with
// row stride ldc, not read when beta is +0), for k ≥ 1. Every kernel sums each
// element in the same order, so which one computes it does not change its
// bits. It checks that the slices hold everything the kernel touches.
func microKernel(g *gemmPath, rows, cols, k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	_ = a[(rows-1)*rsa+(k-1)*csa]
	_ = b[(k-1)*ldb+cols-1]
	_ = c[(rows-1)*ldc+cols-1]
	pa, pb, pc := &a[0], &b[0], &c[0]
	switch g.kernel {
	case AVX512:
		switch {
		case rows == 12 && cols == 32:
			kern512x12x32(k, pa, rsa, csa, pb, ldb, pc, ldc, alpha, beta)
		case rows == 12:
			kern512x12x16(k, pa, rsa, csa, pb, ldb, pc, ldc, alpha, beta)
		case rows == 8 && cols == 32:
			kern512x8x32(k, pa, rsa, csa, pb, ldb, pc, ldc, alpha, beta)
		case rows == 8:
			kern512x8x16(k, pa, rsa, csa, pb, ldb, pc, ldc, alpha, beta)
		case cols == 32:
			kern512x4x32(k, pa, rsa, csa, pb, ldb, pc, ldc, alpha, beta)
		default:
			kern512x4x16(k, pa, rsa, csa, pb, ldb, pc, ldc, alpha, beta)
		}
	case AVX2:
		switch {
		case rows == 6 && cols == 16:
			kern256x6x16(k, pa, rsa, csa, pb, ldb, pc, ldc, alpha, beta)
		case rows == 6:
			kern256x6x8(k, pa, rsa, csa, pb, ldb, pc, ldc, alpha, beta)
		case rows == 4 && cols == 16:
			kern256x4x16(k, pa, rsa, csa, pb, ldb, pc, ldc, alpha, beta)
		case rows == 4:
			kern256x4x8(k, pa, rsa, csa, pb, ldb, pc, ldc, alpha, beta)
		case cols == 16:
			kern256x2x16(k, pa, rsa, csa, pb, ldb, pc, ldc, alpha, beta)
		default:
			kern256x2x8(k, pa, rsa, csa, pb, ldb, pc, ldc, alpha, beta)
		}
	default:
		kernGeneric(k, a, rsa, csa, b, ldb, c, ldc, alpha, beta)
	}
}

//go:noescape
func dot512x4x1(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func dot512x1x1(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func dot512x4x2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func dot512x1x2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func dot512x4x3(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func dot512x1x3(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func dot512x4x4(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func dot512x1x4(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// hasDotKernel reports whether kernel path k has dot-product kernels for C
// with at most 4 columns (AVX-512 only).
func hasDotKernel(k Kernel) bool { return k == AVX512 }

// gemmDot computes C = alpha·A·Bᵀ + beta·C for row-major A (m×k) and B
// (n×k) with n ≤ 4, four rows of C at a time, with the dot-product kernels:
// each element is one 16-lane sum over k, then the lanes added pairwise.
func gemmDot(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	_ = a[(m-1)*lda+k-1]
	_ = b[(n-1)*ldb+k-1]
	_ = c[(m-1)*ldc+n-1]
	pb := &b[0]
	i := 0
	for ; i+4 <= m; i += 4 {
		pa, pc := &a[i*lda], &c[i*ldc]
		switch n {
		case 1:
			dot512x4x1(k, pa, lda, pb, ldb, pc, ldc, alpha, beta)
		case 2:
			dot512x4x2(k, pa, lda, pb, ldb, pc, ldc, alpha, beta)
		case 3:
			dot512x4x3(k, pa, lda, pb, ldb, pc, ldc, alpha, beta)
		default:
			dot512x4x4(k, pa, lda, pb, ldb, pc, ldc, alpha, beta)
		}
	}
	for ; i < m; i++ {
		pa, pc := &a[i*lda], &c[i*ldc]
		switch n {
		case 1:
			dot512x1x1(k, pa, lda, pb, ldb, pc, ldc, alpha, beta)
		case 2:
			dot512x1x2(k, pa, lda, pb, ldb, pc, ldc, alpha, beta)
		case 3:
			dot512x1x3(k, pa, lda, pb, ldb, pc, ldc, alpha, beta)
		default:
			dot512x1x4(k, pa, lda, pb, ldb, pc, ldc, alpha, beta)
		}
	}
}

//go:noescape
func copyRows32(dst *float32, ldd int, src *float32, lds, rows int)

//go:noescape
func copyRows16(dst *float32, ldd int, src *float32, lds, rows int)

//go:noescape
func copyRows12(dst *float32, ldd int, src *float32, lds, rows int)

//go:noescape
func copyRows6(dst *float32, ldd int, src *float32, lds, rows int)

//go:noescape
func copyRows4(dst *float32, ldd int, src *float32, lds, rows int)

// copyRowsAsm copies rows of w floats with vector moves and reports whether
// it could (w one of 32, 16, 12, 6, 4 and the CPU has AVX2). It checks the
// bounds.
func copyRowsAsm(dst []float32, ldd int, src []float32, lds, rows, w int) bool {
	if !hasAVX2 || rows <= 0 {
		return false
	}
	_ = dst[(rows-1)*ldd+w-1]
	_ = src[(rows-1)*lds+w-1]
	switch w {
	case 32:
		copyRows32(&dst[0], ldd, &src[0], lds, rows)
	case 16:
		copyRows16(&dst[0], ldd, &src[0], lds, rows)
	case 12:
		copyRows12(&dst[0], ldd, &src[0], lds, rows)
	case 6:
		copyRows6(&dst[0], ldd, &src[0], lds, rows)
	case 4:
		copyRows4(&dst[0], ldd, &src[0], lds, rows)
	default:
		return false
	}
	return true
}

//go:noescape
func transpose8(dst *float32, ldd int, src *float32, lds, blocks int)

// transposeAsm transposes rows×cols of src into dst (dst[c·ldd + r] =
// src[r·lds + c]) with 8×8 vector blocks, rows a multiple of 8, and returns
// how many columns it did (a multiple of 8), 0 without AVX2. It checks the
// bounds.
func transposeAsm(dst []float32, ldd int, src []float32, lds, rows, cols int) int {
	if !hasAVX2 || cols < 8 {
		return 0
	}
	blocks := cols / 8
	_ = dst[(8*blocks-1)*ldd+rows-1]
	_ = src[(rows-1)*lds+8*blocks-1]
	for r := 0; r+8 <= rows; r += 8 {
		transpose8(&dst[r], ldd, &src[r*lds], lds, blocks)
	}
	return 8 * blocks
}

//go:noescape
func packAT12(dst *float32, ldd int, src *float32, lds, kb, panels int)

//go:noescape
func packAT6(dst *float32, ldd int, src *float32, lds, kb, panels int)

//go:noescape
func packAT32(dst *float32, ldd int, src *float32, lds, kb, panels int)

//go:noescape
func packAT16(dst *float32, ldd int, src *float32, lds, kb, panels int)

// packATAsm packs panels mr-wide panels over kb reduction steps (dst[q·ldd +
// p·mr + i] = src[p·lds + q·mr + i]: panels of op(A) = Aᵀ, or of a row-major
// B) and reports whether it could (mr 32, 16, 12 or 6, AVX2). It checks the
// bounds.
func packATAsm(mr int, dst []float32, ldd int, src []float32, lds, kb, panels int) bool {
	if !hasAVX2 || kb <= 0 || panels <= 0 {
		return false
	}
	_ = dst[(panels-1)*ldd+kb*mr-1]
	_ = src[(kb-1)*lds+panels*mr-1]
	switch mr {
	case 12:
		packAT12(&dst[0], ldd, &src[0], lds, kb, panels)
	case 6:
		packAT6(&dst[0], ldd, &src[0], lds, kb, panels)
	case 32:
		packAT32(&dst[0], ldd, &src[0], lds, kb, panels)
	case 16:
		packAT16(&dst[0], ldd, &src[0], lds, kb, panels)
	default:
		return false
	}
	return true
}

//go:noescape
func prefetchRows(p *float32, ld, rows, n int)

// prefetchB asks for rows of n floats of s (row stride ld) to be brought into
// L2 ahead of use; nothing when the CPU has no AVX2 path. It checks bounds.
func prefetchB(s []float32, ld, rows, n int) {
	if !hasAVX2 || rows <= 0 || n <= 0 {
		return
	}
	_ = s[(rows-1)*ld+n-1]
	prefetchRows(&s[0], ld, rows, n)
}

//go:noescape
func smallK512k1(a *float32, lda int, b *float32, c *float32, ldc, rows int)

//go:noescape
func smallK512k2(a *float32, lda int, b *float32, c *float32, ldc, rows int)

//go:noescape
func smallK512k3(a *float32, lda int, b *float32, c *float32, ldc, rows int)

//go:noescape
func smallK512k4(a *float32, lda int, b *float32, c *float32, ldc, rows int)

//go:noescape
func smallK256k1(a *float32, lda int, b *float32, c *float32, ldc, rows int)

//go:noescape
func smallK256k2(a *float32, lda int, b *float32, c *float32, ldc, rows int)

//go:noescape
func smallK256k3(a *float32, lda int, b *float32, c *float32, ldc, rows int)

//go:noescape
func smallK256k4(a *float32, lda int, b *float32, c *float32, ldc, rows int)

//go:noescape
func acc512x12x32(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func acc512x12x16(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func acc256x6x16(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int)

//go:noescape
func acc256x6x8(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int)

// accRows returns the rows of path g's continued-sum kernels (TransAcc), 0
// if it has none.
func accRows(g *gemmPath) int {
	switch g.kernel {
	case AVX512:
		return 12
	case AVX2:
		return 6
	}
	return 0
}

// accKern runs path g's continued-sum kernel of nvec vectors a row on one
// tile; the caller checks the bounds.
func accKern(g *gemmPath, nvec, k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int) {
	switch {
	case g.kernel == AVX512 && nvec == 2:
		acc512x12x32(k, a, rsa, csa, b, ldb, c, ldc)
	case g.kernel == AVX512:
		acc512x12x16(k, a, rsa, csa, b, ldb, c, ldc)
	case nvec == 2:
		acc256x6x16(k, a, rsa, csa, b, ldb, c, ldc)
	default:
		acc256x6x8(k, a, rsa, csa, b, ldb, c, ldc)
	}
}

//go:noescape
func panels512x12(k int, a *float32, lda int, b *float32, panels int, bias, c *float32, ldc int)

//go:noescape
func panels256x6(k int, a *float32, lda int, b *float32, panels int, bias, c *float32, ldc int)

// panelsKern runs path g's panels kernel (panels.go); the caller checks
// the bounds.
func panelsKern(g *gemmPath, k int, a *float32, lda int, b *float32, panels int, bias, c *float32, ldc int) {
	if g.kernel == AVX512 {
		panels512x12(k, a, lda, b, panels, bias, c, ldc)
	} else {
		panels256x6(k, a, lda, b, panels, bias, c, ldc)
	}
}

// smallKMax is the longest reduction the small-k kernels take.
const smallKMax = 4

// smallKPanel computes rows rows of C = A·B for one packed B panel (k ≤
// smallKMax rows of nr columns) with path g's small-k kernel: the bits of
// the micro-kernels with α = 1, β = 0. It checks the bounds.
func smallKPanel(g *gemmPath, k int, a []float32, lda int, bp []float32, c []float32, ldc, rows int) {
	if rows <= 0 {
		return
	}
	_ = a[(rows-1)*lda+k-1]
	_ = bp[k*g.nr-1]
	_ = c[(rows-1)*ldc+g.nr-1]
	ks := smallK512
	if g.kernel == AVX2 {
		ks = smallK256
	}
	ks[k-1](&a[0], lda, &bp[0], &c[0], ldc, rows)
}

// smallK512 and smallK256 are the small-k kernels by k − 1.
var (
	smallK512 = [smallKMax]func(a *float32, lda int, b *float32, c *float32, ldc, rows int){smallK512k1, smallK512k2, smallK512k3, smallK512k4}
	smallK256 = [smallKMax]func(a *float32, lda int, b *float32, c *float32, ldc, rows int){smallK256k1, smallK256k2, smallK256k3, smallK256k4}
)
