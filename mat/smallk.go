package mat

// smallKRows is the number of rows of C that gemmSmallK computes at a time
// (then applies the epilogue to, while they are in cache).
const smallKRows = 256

// gemmSmallK computes C = A·op(B) (α = 1, β = 0) for a reduction of k ≤
// smallKMax steps and n a multiple of nr — the first layer of a low-dimensional
// field, [x, t]·Wᵀ with k = 3 — with the small-k kernels: B's panels (from
// bPacked, or packed here) each held in registers while rows of A stream
// past. Through the micro-kernels such a product is nearly all per-tile
// overhead, and it runs once per layer evaluation. Same bits as the
// micro-kernels; the epilogue follows each block of rows.
func gemmSmallK(g *gemmPath, threads int, tB bool, m, n, k int, a, b, c *Dense, epi epilogue, bPacked []float32) {
	bp := bPacked
	var j *gemmJob
	if bp == nil {
		// B's own packing, into the buffer of a pooled job (k ≤ smallKMax
		// is one reduction block, so this is Pack's layout).
		j = g.getJob(1)
		size := packedSize(g, k, n)
		if cap(j.bbuf) < size {
			j.bbuf = make([]float32, size)
		}
		bp = j.bbuf[:size]
		packAllB(g, tB, b, k, n, bp)
	}
	if threads == 1 || m <= smallKRows {
		for lo := 0; lo < m; lo += smallKRows {
			smallKBlock(g, k, n, a, bp, c, &epi, lo, min(lo+smallKRows, m))
		}
	} else { // a closure (and a copy of epi) only here: they escape to the goroutines
		e := epi
		forChunks(threads, m, smallKRows, func(lo, hi int) { smallKBlock(g, k, n, a, bp, c, &e, lo, hi) })
	}
	if j != nil {
		g.jobs.Put(j)
	}
}

// smallKBlock computes rows [lo, hi) of gemmSmallK's C from the packed B bp
// and applies the epilogue to them. Column blocks of nc hold nb·k floats
// each, panel after panel; with n a multiple of nr, panel q of all of op(B)
// starts at q·nr·k.
func smallKBlock(g *gemmPath, k, n int, a *Dense, bp []float32, c *Dense, epi *epilogue, lo, hi int) {
	for q := 0; q < n/g.nr; q++ {
		smallKPanel(g, k, a.Data[lo*a.C:], a.C, bp[q*g.nr*k:], c.Data[lo*n+q*g.nr:], n, hi-lo)
	}
	if epi.on {
		epi.apply(c.Data, n, lo, hi, 0, n)
	}
}
