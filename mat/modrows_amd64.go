package mat

// The vector bodies of the FiLM row operations (modrows.go), in
// elementwise_amd64.s: each does the largest multiple of its vector width
// and returns how many elements that was; the callers finish the rest with
// the same scalar operations.

//go:noescape
func mulAdd512(d, u, s, c *float32, n int)

//go:noescape
func mulAdd256(d, u, s, c *float32, n int)

//go:noescape
func mul512(d, u, s *float32, n int)

//go:noescape
func mul256(d, u, s *float32, n int)

//go:noescape
func mulGrad512(gr, u, s, ds, dc *float32, n int)

//go:noescape
func mulGrad256(gr, u, s, ds, dc *float32, n int)

// vecBody returns the number of leading elements of n that kernel k's
// vector code takes: a multiple of its width, 0 without one.
func vecBody(k Kernel, n int) int {
	l := lanes(k)
	if l == 0 {
		return 0
	}
	return n - n%l
}

// mulAddVec runs MulAdd's vector body (all slices of one length).
func mulAddVec(k Kernel, d, u, s, c []float32) int {
	b := vecBody(k, len(d))
	if b == 0 {
		return 0
	}
	if k == AVX512 {
		mulAdd512(&d[0], &u[0], &s[0], &c[0], b)
	} else {
		mulAdd256(&d[0], &u[0], &s[0], &c[0], b)
	}
	return b
}

// mulVec runs Mul's vector body (all slices of one length).
func mulVec(k Kernel, d, u, s []float32) int {
	b := vecBody(k, len(d))
	if b == 0 {
		return 0
	}
	if k == AVX512 {
		mul512(&d[0], &u[0], &s[0], b)
	} else {
		mul256(&d[0], &u[0], &s[0], b)
	}
	return b
}

// mulGradVec runs MulGrad's vector body (all slices of one length).
func mulGradVec(k Kernel, g, u, s, ds, dc []float32) int {
	b := vecBody(k, len(g))
	if b == 0 {
		return 0
	}
	if k == AVX512 {
		mulGrad512(&g[0], &u[0], &s[0], &ds[0], &dc[0], b)
	} else {
		mulGrad256(&g[0], &u[0], &s[0], &ds[0], &dc[0], b)
	}
	return b
}

// colSumRows runs AddRows's vector body, the column sums' kernel over the
// leading multiple of the vector width of dst's columns, and returns how
// many columns it did.
func colSumRows(k Kernel, src []float32, lds, rows int, dst []float32) int {
	b := vecBody(k, len(dst))
	if b == 0 {
		return 0
	}
	if k == AVX512 {
		colSum512(&src[0], lds, rows, &dst[0], b)
	} else {
		colSum256(&src[0], lds, rows, &dst[0], b)
	}
	return b
}
