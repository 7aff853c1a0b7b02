package mat

// A short reduction against a packed op(B) for a block of few rows — nn's
// FiLM modulation, 12 rows of the time embedding (E columns) times every
// head of a group of layers — spends as much time in the general path's
// per-tile work (a call per tile, prefetches of C, the bias as a second
// pass over the rows) as in multiply-adds. The panels route computes such a
// block with one kernel call per row tile that runs over all of B's panels
// and adds the bias in registers. Each element gets exactly the general
// path's operations (the accumulator zeroed, one FMA per reduction step in
// order, then the bias added once, rounded), so the bits are those of the
// general path, which the route takes instead only where that path would
// sum this way: the micro-kernels' route, in one reduction block.

// panelsMaxRows bounds the rows of C the panels route takes: it runs on one
// goroutine, where larger products split their rows among several.
const panelsMaxRows = 48

// panelsRows returns the row tile of path g's panels kernel, 0 if it has
// none.
func panelsRows(g *gemmPath) int {
	switch g.kernel {
	case AVX512:
		return 12
	case AVX2:
		return 6
	}
	return 0
}

// panelsRoute reports whether GemmBiasActPacked with A of m rows, op(B) of
// k×n (transposed in B when tB) and activation act takes the panels route:
// Identity, m a multiple of the kernel's rows and at most panelsMaxRows,
// and a product that gemmOn would give to the micro-kernels (not the dot,
// small-k or transposed routes) in one reduction block.
func panelsRoute(g *gemmPath, tB bool, m, n, k int, act Activation) bool {
	r := panelsRows(g)
	switch {
	case r == 0 || act != Identity || m%r != 0 || m > panelsMaxRows:
		return false
	case n <= dotMax && tB && hasDotKernel(g.kernel):
		return false
	case k <= smallKMax && n%g.nr == 0:
		return false
	case transposedRoute(g, false, tB, m, n):
		return false
	}
	return g.kcBlock(k, n) >= k
}

// gemmPanels computes pre = A·op(B) + bias (and out = pre) on the panels
// route, op(B) packed in bp (Pack's layout: with one reduction block, panel
// q of nr columns at q·nr·k).
func gemmPanels(g *gemmPath, m, n, k int, a *Dense, bp []float32, bias []float32, pre, out *Dense) {
	r, nr := panelsRows(g), g.nr
	full := n / nr
	_ = a.Data[m*a.C-1]
	_ = bp[ceilDiv(n, nr)*nr*k-1]
	_ = pre.Data[m*n-1]
	for i := 0; i < m; i += r {
		ar, cr := a.Data[i*a.C:], pre.Data[i*n:]
		if full > 0 {
			panelsKern(g, k, &ar[0], a.C, &bp[0], full, &bias[0], &cr[0], n)
		}
		if rest := n - full*nr; rest > 0 {
			// The last panel (zero-padded in bp) into a whole tile.
			var tile [maxTile]float32
			var tb [32]float32
			copy(tb[:], bias[full*nr:])
			panelsKern(g, k, &ar[0], a.C, &bp[full*nr*k], 1, &tb[0], &tile[0], nr)
			for row := range r {
				copy(cr[row*n+full*nr:(row+1)*n], tile[row*nr:row*nr+rest])
			}
		}
	}
	if &out.Data[0] != &pre.Data[0] {
		copy(out.Data[:m*n], pre.Data[:m*n])
	}
}
