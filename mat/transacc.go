package mat

import "fmt"

// TransAcc computes C += Aᵀ·B — Gemm(true, false, 1, A, B, 1, C), with its
// bits — from A and B fed a block of rows at a time, for a caller that
// produces A by rows and would otherwise store all of it, then read it back
// (and pack it) for the product: nn's FiLM heads, whose gradient is this
// product of the modulation's gradient and the time embedding, summed over
// the batch. Each element of C is summed as Gemm sums it — chains of FMAs
// over the rows in order, from zero, one per reduction block of Gemm's for
// this shape, each block's chain then added to C — with the chains carried
// between calls in a buffer of C's shape. Start says whether this path and
// shape have it; otherwise call Gemm. Each column of A must be fed every row
// exactly once, in order (several columns at a time, in any order of
// columns); C's elements are final once their columns have had the last
// row. The zero value is ready for Start.
type TransAcc struct {
	g    *gemmPath
	c    *Dense
	acc  []float32 // the chains in progress, C's shape
	kb   int       // Gemm's reduction block for this shape
	rows int       // the reduction's length (A's and B's rows)
	ta   []float32 // a block of A's last columns, zero-padded to a tile
	tc   []float32 // rows of acc, zero-padded to a tile
}

// Start readies t for C (m×n) += Aᵀ·B with A of rows×m and B of rows×n,
// and reports whether t can compute it on the kernel path in use (with n a
// multiple of its vector width, and a shape that Gemm gives to its
// micro-kernels in the order described above). If not, nothing is set.
func (t *TransAcc) Start(c *Dense, rows int) bool {
	g := &paths[CurrentKernel()]
	l := accRows(g)
	m, n := c.R, c.C
	if l == 0 || n == 0 || n%lanes(g.kernel) != 0 || m == 0 || transposedRoute(g, true, false, m, n) {
		return false
	}
	t.g, t.c, t.rows, t.kb = g, c, rows, g.kcBlock(max(rows, 1), n)
	if cap(t.acc) < m*n {
		t.acc = make([]float32, m*n)
	}
	t.acc = t.acc[:m*n]
	clear(t.acc)
	return true
}

// Add feeds rows [r0, r1) of A's columns [c0, c0+w) — A[r][j] at
// a[r·lda + j] — and of B (rows × n, all of it). It panics if a column
// range or row range lies outside C or A.
func (t *TransAcc) Add(r0, r1, c0, w int, a []float32, lda int, b *Dense) {
	n := t.c.C
	if c0 < 0 || w < 0 || c0+w > t.c.R || r0 < 0 || r1 > t.rows || b.C != n || b.R != t.rows {
		panic(fmt.Sprintf("mat: TransAcc.Add rows [%d, %d) columns [%d, %d) of C %s, %d rows, B %s",
			r0, r1, c0, c0+w, t.c.Shape(), t.rows, b.Shape()))
	}
	if w == 0 || r1 <= r0 {
		return
	}
	_ = a[(r1-1)*lda+c0+w-1]
	for r0 < r1 {
		end := min(r1, (r0/t.kb+1)*t.kb)
		t.feed(r0, end, c0, w, a, lda, b)
		if end%t.kb == 0 || end == t.rows {
			// A reduction block done: its chains go into C, as Gemm's
			// kernel adds them (one rounded addition), and start again.
			cc, ac := t.c.Data[c0*n:(c0+w)*n], t.acc[c0*n:(c0+w)*n]
			for i, v := range ac {
				cc[i] += v
			}
			clear(ac)
		}
		r0 = end
	}
}

// feed carries the chains of columns [c0, c0+w) on over rows [r0, r1),
// within one reduction block: tiles of the kernel's rows (C's rows are A's
// columns), the last one through zero-padded copies.
func (t *TransAcc) feed(r0, r1, c0, w int, a []float32, lda int, b *Dense) {
	n, l, k := t.c.C, accRows(t.g), r1-r0
	bp := b.Data[r0*n:]
	c := c0
	for ; c+l <= c0+w; c += l {
		t.tile(k, a[r0*lda+c:], lda, bp, t.acc[c*n:], n)
	}
	if rest := c0 + w - c; rest > 0 {
		if cap(t.ta) < k*l {
			t.ta = make([]float32, k*l)
		}
		if cap(t.tc) < l*n {
			t.tc = make([]float32, l*n)
		}
		ta, tc := t.ta[:k*l], t.tc[:l*n]
		clear(ta)
		clear(tc)
		for r := range k {
			copy(ta[r*l:r*l+rest], a[(r0+r)*lda+c:(r0+r)*lda+c+rest])
		}
		copy(tc, t.acc[c*n:(c+rest)*n])
		t.tile(k, ta, l, bp, tc, n)
		copy(t.acc[c*n:(c+rest)*n], tc)
	}
}

// tile carries one tile of chains (accRows rows of C, all n columns) on
// over k rows: A's tile at a (a row of A every lda), B's rows at b and the
// chains at acc (rows n apart).
func (t *TransAcc) tile(k int, a []float32, lda int, b, acc []float32, n int) {
	l, v := accRows(t.g), lanes(t.g.kernel)
	_ = a[(k-1)*lda+l-1]
	_ = b[(k-1)*n+n-1]
	_ = acc[(l-1)*n+n-1]
	j := 0
	for ; j+2*v <= n; j += 2 * v {
		accKern(t.g, 2, k, &a[0], 1, lda, &b[j], n, &acc[j], n)
	}
	if j < n {
		accKern(t.g, 1, k, &a[0], 1, lda, &b[j], n, &acc[j], n)
	}
}
