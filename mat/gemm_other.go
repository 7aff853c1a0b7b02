//go:build !amd64

package mat

// microKernel runs the micro-kernel of path g on one full mr×nr tile: see
// gemmPath. Only the generic kernel exists on this architecture.
func microKernel(g *gemmPath, k int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	kernGeneric(k, a, b, ldb, c, ldc, alpha, beta)
}
