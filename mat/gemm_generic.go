package mat

// Tile of the pure-Go micro-kernel.
const (
	genericMR = 4
	genericNR = 4
)

// kernGeneric is the pure-Go micro-kernel: C[i][j] = alpha·Σ_p a[i·rsa+p·csa]·b[p·ldb+j]
// + beta·C[i][j] for i, j < 4, with C not read when beta == 0. Each element is
// summed over p in order, so its value does not depend on where the tile sits.
func kernGeneric(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	for p := 0; p < k; p++ {
		o := p * csa
		a0, a1, a2, a3 := a[o], a[o+rsa], a[o+2*rsa], a[o+3*rsa]
		bp := b[p*ldb : p*ldb+4 : p*ldb+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	acc := [16]float32{c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33}
	for i := 0; i < 4; i++ {
		row := c[i*ldc : i*ldc+4 : i*ldc+4]
		for j := range 4 {
			v := alpha * acc[4*i+j]
			if beta != 0 {
				v += beta * row[j]
			}
			row[j] = v
		}
	}
}
