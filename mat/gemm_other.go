//go:build !amd64

package mat

// microKernel runs path g's micro-kernel on one full mr×nr tile (see the
// amd64 version). Only the generic kernel exists on this architecture.
func microKernel(g *gemmPath, rows, cols, k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	kernGeneric(k, a, rsa, csa, b, ldb, c, ldc, alpha, beta)
}

func copyRowsAsm(dst []float32, ldd int, src []float32, lds, rows, w int) bool { return false }

func transposeAsm(dst []float32, ldd int, src []float32, lds, rows, cols int) int { return 0 }

func packATAsm(mr int, dst []float32, ldd int, src []float32, lds, kb, panels int) bool {
	return false
}

func hasDotKernel(k Kernel) bool { return false }

func gemmDot(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("mat: no dot-product kernel on this architecture")
}

func prefetchB(s []float32, ld, rows, n int) {}

// smallKMax is 0: no small-k kernels on this architecture.
const smallKMax = 0

func smallKPanel(g *gemmPath, k int, a []float32, lda int, bp []float32, c []float32, ldc, rows int) {
	panic("mat: no small-k kernel on this architecture")
}

func panelsKern(g *gemmPath, k int, a *float32, lda int, b *float32, panels int, bias, c *float32, ldc int) {
	panic("mat: no panels kernel on this architecture")
}

func accRows(g *gemmPath) int { return 0 }

func accKern(g *gemmPath, nvec, k int, a *float32, rsa, csa int, b *float32, ldb int, c *float32, ldc int) {
	panic("mat: no continued-sum kernel on this architecture")
}
