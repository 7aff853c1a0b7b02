package mat

import "fmt"

// Gemm computes C = α·op(A)·op(B) + β·C, where op(X) is X or Xᵀ as tA and tB
// say. With β = 0, C's previous contents are ignored (NaNs in C do not leak).
// It panics when the shapes do not agree.
//
// This is the plain reference implementation; the blocked, vectorised
// kernels replace its body without changing its contract.
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
	for i := 0; i < m; i++ {
		crow := c.Data[i*n : (i+1)*n]
		if beta == 0 {
			clear(crow)
		} else if beta != 1 {
			for j := range crow {
				crow[j] *= beta
			}
		}
		for p := 0; p < k; p++ {
			var aip float32
			if tA {
				aip = a.Data[p*a.C+i]
			} else {
				aip = a.Data[i*a.C+p]
			}
			aip *= alpha
			if aip == 0 {
				continue
			}
			if tB {
				for j := 0; j < n; j++ {
					crow[j] += aip * b.Data[j*b.C+p]
				}
			} else {
				brow := b.Data[p*n : (p+1)*n]
				for j, bv := range brow {
					crow[j] += aip * bv
				}
			}
		}
	}
}
