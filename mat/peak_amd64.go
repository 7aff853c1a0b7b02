package mat

//go:noescape
func fmaLoop512(n int)

//go:noescape
func fmaLoop256(n int)

// fmaLoop runs n iterations of kernel k's FMA loop and returns the flops done,
// or 0 when k has no assembly loop.
func fmaLoop(k Kernel, n int) float64 {
	switch k {
	case AVX512:
		fmaLoop512(n)
		return 768 * float64(n)
	case AVX2:
		fmaLoop256(n)
		return 384 * float64(n)
	}
	return 0
}
