package mat

//go:noescape
func kern512(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func kern256(k int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// microKernel runs the micro-kernel of path g on one full mr×nr tile: see
// gemmPath. The slices are long enough for what the kernel touches (checked).
func microKernel(g *gemmPath, k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	if k > 0 {
		_ = a[k*g.mr-1]
		_ = b[(k-1)*ldb+g.nr-1]
	}
	_ = c[(g.mr-1)*ldc+g.nr-1]
	switch g.kernel {
	case AVX512:
		kern512(k, &a[0], &b[0], ldb, &c[0], ldc, alpha, beta)
	case AVX2:
		kern256(k, &a[0], &b[0], ldb, &c[0], ldc, alpha, beta)
	default:
		kernGeneric(k, a, b, ldb, c, ldc, alpha, beta)
	}
}
