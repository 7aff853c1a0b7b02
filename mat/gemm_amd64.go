package mat

//go:noescape
func kern512(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern256(k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// microKernel runs path g's micro-kernel on one full mr×nr tile:
// C[i][j] = alpha·Σ_p a[i·rsa+p·csa]·b[p·ldb+j] + beta·C[i][j] (C = c with
// row stride ldc, not read when beta is +0), for k ≥ 1. It checks that the
// slices hold everything the kernel touches.
func microKernel(g *gemmPath, k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	_ = a[(g.mr-1)*rsa+(k-1)*csa]
	_ = b[(k-1)*ldb+g.nr-1]
	_ = c[(g.mr-1)*ldc+g.nr-1]
	switch g.kernel {
	case AVX512:
		kern512(k, &a[0], rsa, csa, &b[0], ldb, &c[0], ldc, alpha, beta)
	case AVX2:
		kern256(k, &a[0], rsa, csa, &b[0], ldb, &c[0], ldc, alpha, beta)
	default:
		kernGeneric(k, a, rsa, csa, b, ldb, c, ldc, alpha, beta)
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
// it could (w one of 32, 16, 12, 6, 4 and the CPU has AVX2). The caller has
// checked the bounds.
func copyRowsAsm(dst []float32, ldd int, src []float32, lds, rows, w int) bool {
	if !hasAVX2 {
		return false
	}
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
