package mat

// Row operations of a FiLM modulation (nn's film nets): element-wise
// products and sums over one row, on the vector kernels where the path has
// them. Each element goes through the same individually rounded operations
// on every path — a multiply, then an add; never an FMA — so the bits do not
// depend on the kernel or on the element's position.

// MulAdd sets d[i] = u[i]·s[i] + c[i] for i < len(d), the product rounded
// before the sum: float32(u[i]*s[i]) + c[i]. It panics if u, s or c is
// shorter than d.
func MulAdd(d, u, s, c []float32) {
	n := len(d)
	u, s, c = u[:n], s[:n], c[:n]
	j := mulAddVec(CurrentKernel(), d, u, s, c)
	for ; j < n; j++ {
		d[j] = float32(u[j]*s[j]) + c[j]
	}
}

// Mul sets d[i] = u[i]·s[i] for i < len(d). d may be u or s itself. It
// panics if u or s is shorter than d.
func Mul(d, u, s []float32) {
	n := len(d)
	u, s = u[:n], s[:n]
	j := mulVec(CurrentKernel(), d, u, s)
	for ; j < n; j++ {
		d[j] = u[j] * s[j]
	}
}

// MulGrad is the backward of MulAdd for a gradient g of d: for i < len(g)
// it sets dc[i] = g[i], ds[i] = g[i]·u[i] and g[i] = g[i]·s[i] (in place),
// both products from g's value on entry. dc and ds must not overlap g, u or
// s; it panics if any slice is shorter than g.
func MulGrad(g, u, s, ds, dc []float32) {
	n := len(g)
	u, s, ds, dc = u[:n], s[:n], ds[:n], dc[:n]
	j := mulGradVec(CurrentKernel(), g, u, s, ds, dc)
	for ; j < n; j++ {
		gj := g[j]
		dc[j], ds[j], g[j] = gj, gj*u[j], gj*s[j]
	}
}

// AddRows adds rows rows of src, lds elements apart, to dst: dst[j] +=
// src[r·lds + j] for r = 0, 1, ..., rows−1 in turn and j < len(dst), each a
// rounded float32 addition, as ColSumAdd adds a matrix's rows. It panics if
// src is too short.
func AddRows(dst, src []float32, lds, rows int) {
	n := len(dst)
	if rows <= 0 || n == 0 {
		return
	}
	_ = src[(rows-1)*lds+n-1]
	done := colSumRows(CurrentKernel(), src, lds, rows, dst)
	for r := range rows {
		for j, v := range src[r*lds+done : r*lds+n] {
			dst[done+j] += v
		}
	}
}
